"""The KerasHub peer of ../shared/ANCHORS.md for Tatoeba Spanish -> English.

keras.io's "English-to-Spanish translation with KerasHub", run in the other
direction: lower-cased WordPiece vocabularies, `TokenAndPositionEmbedding`
+ one `keras_hub.layers.TransformerEncoder` + one `TransformerDecoder`
(width 256, FFN 2048, 8 heads), dropout 0.5 before a softmax Dense,
RMSprop, batch 64, every sentence padded to 40 tokens. Decoding is greedy.
Its output is lower-case WordPiece text joined by the tokenizer
("i need to speak to an expert ."), as that recipe writes it.
"""

import numpy as np

LENGTH = 40
BATCH_SIZE = 64
SPECIAL = ["[PAD]", "[UNK]", "[START]", "[END]"]


class Peer:
    def __init__(self, train_pairs, source_vocabulary=15000, target_vocabulary=12000):
        import keras
        import keras_hub
        import tensorflow as tf

        def vocabulary(texts, size):
            data = tf.data.Dataset.from_tensor_slices(texts).batch(1024)
            return keras_hub.tokenizers.compute_word_piece_vocabulary(
                data, size, lowercase=True, reserved_tokens=SPECIAL
            )

        sources = [source for source, _ in train_pairs]
        targets = [target for _, target in train_pairs]
        self.source_tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary(sources, source_vocabulary), lowercase=True
        )
        self.target_tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary(targets, target_vocabulary), lowercase=True
        )
        self.start_id = self.target_tokenizer.token_to_id("[START]")
        self.end_id = self.target_tokenizer.token_to_id("[END]")
        self.source_packer = keras_hub.layers.StartEndPacker(sequence_length=LENGTH)
        self.target_packer = keras_hub.layers.StartEndPacker(
            sequence_length=LENGTH + 1, start_value=self.start_id, end_value=self.end_id
        )

        source_size = self.source_tokenizer.vocabulary_size()
        target_size = self.target_tokenizer.vocabulary_size()
        encoder_inputs = keras.Input((None,), dtype="int32", name="source")
        x = keras_hub.layers.TokenAndPositionEmbedding(source_size, LENGTH, 256, mask_zero=True)(
            encoder_inputs
        )
        memory = keras_hub.layers.TransformerEncoder(intermediate_dim=2048, num_heads=8)(x)
        decoder_inputs = keras.Input((None,), dtype="int32", name="target")
        y = keras_hub.layers.TokenAndPositionEmbedding(target_size, LENGTH, 256, mask_zero=True)(
            decoder_inputs
        )
        y = keras_hub.layers.TransformerDecoder(intermediate_dim=2048, num_heads=8)(y, memory)
        y = keras.layers.Dropout(0.5)(y)
        probabilities = keras.layers.Dense(target_size, activation="softmax")(y)
        self.model = keras.Model([encoder_inputs, decoder_inputs], probabilities)
        self.model.compile(
            optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        self.vocabulary_sizes = (source_size, target_size)

    def _source_ids(self, texts):
        return np.asarray(self.source_packer(self.source_tokenizer(texts)), "int32")  # (N, 40)

    def dataset(self, pairs, seed=0):
        import tensorflow as tf

        sources = self._source_ids([s for s, _ in pairs])
        targets = np.asarray(
            self.target_packer(self.target_tokenizer([t for _, t in pairs])), "int32"
        )  # (N, 41)
        data = tf.data.Dataset.from_tensor_slices(
            ({"source": sources, "target": targets[:, :-1]}, targets[:, 1:])
        )
        return data.shuffle(2048, seed=seed).batch(BATCH_SIZE).prefetch(2)

    def translate(self, texts):
        """Greedy decoding, the whole prefix re-run each step (compiled once)."""
        import tensorflow as tf

        model = self.model

        @tf.function(reduce_retracing=True)
        def next_token(source, target, index):
            probabilities = model({"source": source, "target": target}, training=False)
            return tf.cast(tf.argmax(probabilities[:, index], axis=-1), tf.int32)

        outputs = []
        for start in range(0, len(texts), BATCH_SIZE):
            source = self._source_ids(texts[start : start + BATCH_SIZE])
            target = np.zeros((len(source), LENGTH), "int32")
            target[:, 0] = self.start_id
            finished = np.zeros(len(source), bool)
            for index in range(LENGTH - 1):
                token = next_token(source, target, tf.constant(index)).numpy()
                target[:, index + 1] = np.where(finished, 0, token)
                finished |= token == self.end_id
                if finished.all():
                    break
            for row in target:
                ids = [int(i) for i in row[1:] if i != 0]
                if self.end_id in ids:
                    ids = ids[: ids.index(self.end_id)]
                text = self.target_tokenizer.detokenize(np.asarray(ids, "int32"))
                outputs.append(text.numpy().decode() if hasattr(text, "numpy") else str(text))
        return outputs
