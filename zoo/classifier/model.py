"""A small transformer-encoder text classifier, the zoo's generic family."""

import keras
import numpy as np

import kattn
from zoo import text_inputs

PADDING_ID = 0
UNKNOWN_ID = 1


@keras.saving.register_keras_serializable(package="zoo")
class EncoderClassifier(keras.Model):
    """Words -> token and position embedding -> encoder blocks -> attention pooling -> softmax.

    The vocabulary and label names travel in the config, so a loaded preset
    classifies raw text: `classify(texts)` gives label names and
    `explain(texts)` shows how much the pooling attended to each word.
    Token ids: 0 is padding, 1 an unknown word, `i + 2` is `vocabulary[i]`.

    Args:
        vocabulary: list of words (lower-case).
        labels: list of label names, one per class.
        sequence_length: words per text (longer texts are cut, shorter padded).
        embedding_dim: width of the token vectors.
        num_layers: number of `kattn.layers.TransformerEncoderBlock`.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward width in each block.
        dropout: dropout rate in the blocks.

    Example:

    >>> from zoo.classifier import EncoderClassifier
    >>> model = EncoderClassifier(["red", "blue", "the"], ["red", "blue"],
    ...                           sequence_length=4, embedding_dim=8)
    >>> model.predict(model.tokenize(["the red"]), verbose=0).shape    # (B, classes)
    (1, 2)
    >>> len(model.classify(["the blue"]))
    1
    """

    def __init__(
        self,
        vocabulary,
        labels,
        sequence_length=16,
        embedding_dim=32,
        num_layers=1,
        num_heads=2,
        intermediate_dim=64,
        dropout=0.0,
        **kwargs,
    ):
        token_ids = keras.Input((sequence_length,), dtype="int32", name="token_ids")
        embedding = kattn.layers.TokenAndPositionEmbedding(
            len(vocabulary) + 2,
            embedding_dim,
            sequence_length=sequence_length,
            position="learned",
            mask_zero=True,
            name="embedding",
        )
        x = embedding(token_ids)  # (B, T, D), Keras mask: token_ids != 0
        for i in range(num_layers):
            block = kattn.layers.TransformerEncoderBlock(
                num_heads, intermediate_dim, dropout=dropout, name=f"encoder_block_{i}"
            )
            x = block(x)  # (B, T, D)
        pooled, pooling_weights = kattn.layers.AttentionPooling(name="pooling")(
            x, return_attention_scores=True
        )  # (B, D), (B, T)
        probabilities = keras.layers.Dense(
            len(labels), activation="softmax", dtype="float32", name="classifier_head"
        )(pooled)  # (B, classes)
        super().__init__(inputs=token_ids, outputs=probabilities, **kwargs)

        self.vocabulary = list(vocabulary)
        self.labels = list(labels)
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self._word_ids = {word: i + 2 for i, word in enumerate(self.vocabulary)}
        self._pooling_weights = pooling_weights  # a symbolic tensor, for explain()

    def tokenize(self, texts):
        """Lower-cased, whitespace-split word ids, `(len(texts), sequence_length)` int32."""
        ids = np.full((len(texts), self.sequence_length), PADDING_ID, dtype="int32")
        for row, text in enumerate(texts):
            words = text.lower().split()[: self.sequence_length]
            ids[row, : len(words)] = [self._word_ids.get(w, UNKNOWN_ID) for w in words]
        return ids

    def _checked_ids(self, texts):
        """`tokenize(texts)` after the checks of `zoo.text_inputs`."""
        texts = text_inputs.check_texts(texts)
        words = [text.lower().split() for text in texts]
        text_inputs.warn_if_cut(texts, [len(w) for w in words], self.sequence_length, "words")
        text_inputs.warn_if_unknown(
            texts,
            [w if not any(word in self._word_ids for word in w) else [] for w in words],
            "no word the model knows; the answer is a guess",
        )
        return self.tokenize(texts)

    def classify(self, texts):
        """The most probable label name for each text (a list of strings)."""
        probabilities = self.predict(self._checked_ids(texts), verbose=0)
        return [self.labels[i] for i in np.argmax(probabilities, axis=-1)]

    def input_description(self):
        """What `classify` and `predict` take, for the model card."""
        return (
            f"`classify(texts)` and `explain(texts)` take a list of strings (raw text, lower-cased and "
            f"split on spaces; the first {self.sequence_length} words are read, longer texts are cut "
            f"with a warning; an empty text is refused) and give label names {self.labels}. "
            f"`predict` takes token ids `(N, {self.sequence_length})` int32 from `model.tokenize(texts)` "
            f"and returns `(N, {len(self.labels)})` probabilities."
        )

    def explain(self, texts):
        """For each text, `[(word, pooling weight), ...]` over its kept words."""
        # A throw-away model over the same layers; not stored on self, so the
        # classifier's weights and saved files never change.
        attention = keras.Model(self.inputs, self._pooling_weights)
        weights = attention.predict(self._checked_ids(texts), verbose=0)  # (B, T)
        explained = []
        for text, row in zip(texts, weights):
            words = text.lower().split()[: self.sequence_length]
            explained.append([(w, float(row[i])) for i, w in enumerate(words)])
        return explained

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary": self.vocabulary,
            "labels": self.labels,
            "sequence_length": self.sequence_length,
            "embedding_dim": self.embedding_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
