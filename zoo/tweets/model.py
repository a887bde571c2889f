"""AttentionPoolingClassifier: the lectures' first attention model.

    tweet -> tokens -> (token dropout) -> embeddings (+ positions)
          -> 0..N encoder blocks -> pooling -> dropout -> dense softmax

Mean pooling averages the token vectors, every token equally important.
Attention pooling scores each token, softmaxes the scores over the real
(unpadded) tokens, and takes the weighted average; the weights say which
tokens decided the class, and `explain` returns them. `pooling="mean"` is the
baseline with everything else equal.
"""

import keras
import numpy as np
from keras import ops

import kattn
from kattn import checks
from zoo import text_inputs
from zoo.tweets.tokenizer import UNKNOWN_TOKEN, TweetTokenizer

POOLINGS = ("attention", "mean")
POSITIONS = (None, "sinusoidal", "learned")


def _is_text(x):
    """True for what should be raw tweets (checked by `zoo.text_inputs`) rather than token ids."""
    if isinstance(x, (str, bytes, list, tuple)):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind in ("U", "S", "O")


@keras.saving.register_keras_serializable(package="zoo")
class AttentionPoolingClassifier(keras.Model):
    """Token embedding -> optional encoder blocks -> pooling -> softmax.

    Args:
        vocabulary_size: number of token ids (id 0 is padding).
        num_classes: number of classes.
        embedding_dim: width of the token vectors.
        num_layers: `kattn.layers.TransformerEncoderBlock`s after the
            embedding (0: a bag of embeddings).
        num_heads, intermediate_dim: size of each encoder block.
        position: None (no position information), "sinusoidal" or "learned".
        sequence_length: longest input; needed by learned positions.
        dropout: after the embedding, inside the blocks and before the head.
        pooling: "attention" (`kattn.layers.AttentionPooling`) or "mean".
        pooling_units: None (a linear score per token) or the width of the
            pooling's tanh MLP.
        label_names: class names for `classify`; default "0", "1", ...
        tokenizer: a `TweetTokenizer`; with it `predict`, `classify` and
            `explain` take a list of raw tweet strings (the rules of
            `zoo.text_inputs`: a tweet longer than `sequence_length` tokens
            is cut, with an `InputWarning`). Its vocabulary is saved as an
            asset (`save_assets`), its settings in the config.
        token_dropout: in training, the share of tokens dropped from each
            tweet (treated as padding), the "word dropout" of Iyyer et al.
            (2015, Deep Averaging Networks): the model cannot lean on any one
            word. Off at inference.

    Call: `token_ids (B, T)` int, 0 = padding -> class probabilities
    `(B, num_classes)`; with `return_attention_scores=True` also the pooling
    weights `(B, T)` (exactly 0 on padding).

    Example:

    >>> import numpy as np
    >>> from zoo.tweets import AttentionPoolingClassifier, TweetTokenizer
    >>> texts = ["i love it", "i hate it"] * 10
    >>> tokenizer = TweetTokenizer.train(texts, vocabulary_size=100, sequence_length=6)
    >>> model = AttentionPoolingClassifier(tokenizer.vocabulary_size, 2,
    ...     embedding_dim=8, label_names=["neg", "pos"], tokenizer=tokenizer)
    >>> model.predict(["i love it"], verbose=0).shape
    (1, 2)
    >>> tokens, weights = model.explain(["i love it"])[0]
    >>> tokens, round(float(weights.sum()), 5)
    (['i', 'love', 'it'], 1.0)
    """

    def __init__(
        self,
        vocabulary_size,
        num_classes,
        embedding_dim=128,
        num_layers=0,
        num_heads=4,
        intermediate_dim=256,
        position=None,
        sequence_length=64,
        dropout=0.1,
        pooling="attention",
        pooling_units=None,
        label_names=None,
        tokenizer=None,
        token_dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = checks.positive_int("vocabulary_size", vocabulary_size)
        self.num_classes = checks.positive_int("num_classes", num_classes)
        self.embedding_dim = checks.positive_int("embedding_dim", embedding_dim)
        self.num_layers = int(num_layers)
        if self.num_layers < 0:
            raise ValueError(f"`num_layers` must be >= 0; received {num_layers!r}.")
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.intermediate_dim = checks.positive_int("intermediate_dim", intermediate_dim)
        self.position = checks.one_of("position", position, POSITIONS)
        self.sequence_length = checks.positive_int("sequence_length", sequence_length)
        self.dropout = checks.rate("dropout", dropout)
        self.token_dropout = checks.rate("token_dropout", token_dropout)
        self.pooling = checks.one_of("pooling", pooling, POOLINGS)
        self.pooling_units = checks.positive_int("pooling_units", pooling_units, allow_none=True)
        if label_names is not None and len(label_names) != num_classes:
            raise ValueError(
                f"`label_names` must have num_classes={num_classes} names; "
                f"received {len(label_names)}."
            )
        self.label_names = list(label_names) if label_names else [str(i) for i in range(num_classes)]
        if tokenizer is not None and tokenizer.vocabulary is not None:
            checks.same_size(
                "size", "vocabulary_size", vocabulary_size,
                "the tokenizer's vocabulary", tokenizer.vocabulary_size,
            )
        self.tokenizer = tokenizer

        if position is None:
            self.embedding = keras.layers.Embedding(vocabulary_size, embedding_dim, name="embedding")
        else:
            self.embedding = kattn.layers.TokenAndPositionEmbedding(
                vocabulary_size, embedding_dim, sequence_length=sequence_length,
                position=position, name="embedding",
            )
        self.token_dropout_seed = keras.random.SeedGenerator(name="token_dropout_seed")
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.encoder_blocks = [
            kattn.layers.TransformerEncoderBlock(
                num_heads, intermediate_dim, dropout=dropout, name=f"encoder_block_{i}"
            )
            for i in range(self.num_layers)
        ]
        if pooling == "attention":
            self.pool = kattn.layers.AttentionPooling(units=pooling_units, name="pooling")
        else:
            self.pool = keras.layers.GlobalAveragePooling1D(name="pooling")
        self.head_dropout = keras.layers.Dropout(dropout, name="head_dropout")
        # Softmax in float32 under mixed precision.
        self.head = keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="head")

    def build(self, token_ids_shape=None):
        token_ids_shape = token_ids_shape or (None, self.sequence_length)
        if len(token_ids_shape) != 2:
            raise ValueError(
                "`token_ids` must have shape (batch, length); received shape "
                f"{tuple(token_ids_shape)}."
            )
        self.embedding.build(token_ids_shape)
        sequence_shape = tuple(token_ids_shape) + (self.embedding_dim,)  # (B, T, D)
        for block in self.encoder_blocks:
            block.build(sequence_shape)
        self.pool.build(sequence_shape)
        self.head.build((token_ids_shape[0], self.embedding_dim))
        self.built = True

    def call(self, token_ids, training=None, return_attention_scores=False):
        checks.rank("token_ids", token_ids, (2,), "(batch, length)")
        if training and self.token_dropout > 0:
            token_ids = self._drop_tokens(token_ids)
        mask = ops.not_equal(token_ids, 0)  # (B, T), False on padding
        x = self.embedding(token_ids)  # (B, T, D)
        x = self.embedding_dropout(x, training=training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=mask, training=training)  # (B, T, D)
        if self.pooling == "attention":
            pooled, weights = self.pool(x, mask=mask, return_attention_scores=True)  # (B, D), (B, T)
        else:
            pooled = self.pool(x, mask=mask)  # (B, D)
            real = ops.cast(mask, "float32")
            weights = real / ops.maximum(ops.sum(real, axis=1, keepdims=True), 1.0)  # (B, T)
        probabilities = self.head(self.head_dropout(pooled, training=training))  # (B, C)
        if return_attention_scores:
            return probabilities, weights
        return probabilities

    def attention_scores(self, token_ids):
        """Every attention weight of one pass: `{"encoder": [(B, H, T, T) per
        block], "pooling": (B, T)}` (mean pooling: uniform over the tokens)."""
        mask = ops.not_equal(token_ids, 0)  # (B, T)
        x = self.embedding(token_ids)  # (B, T, D)
        encoder_scores = []
        for block in self.encoder_blocks:
            x, block_scores = block(x, padding_mask=mask, return_attention_scores=True)
            encoder_scores.append(block_scores)  # (B, H, T, T)
        if self.pooling == "attention":
            _, weights = self.pool(x, mask=mask, return_attention_scores=True)  # (B, T)
        else:
            real = ops.cast(mask, "float32")
            weights = real / ops.maximum(ops.sum(real, axis=1, keepdims=True), 1.0)
        return {"encoder": encoder_scores, "pooling": weights}

    def _drop_tokens(self, token_ids):
        """Each token becomes padding (id 0) with probability `token_dropout`."""
        draws = keras.random.uniform(ops.shape(token_ids), seed=self.token_dropout_seed)  # (B, T)
        return ops.where(draws >= self.token_dropout, token_ids, ops.zeros_like(token_ids))

    # ------------------------------------------------------------------
    # Raw tweets in, predictions out
    # ------------------------------------------------------------------

    def _token_ids(self, texts):
        if self.tokenizer is None or self.tokenizer.vocabulary is None:
            raise ValueError(
                "This model has no tokenizer vocabulary, so it takes token ids, not "
                "strings: pass `tokenizer=` when building it, or load a preset."
            )
        texts = text_inputs.check_texts(texts)
        tokens = self.tokenizer.tokens(texts, cut=False)
        text_inputs.warn_if_cut(texts, [len(t) for t in tokens], self.tokenizer.sequence_length, "tokens")
        text_inputs.warn_if_unknown(
            texts,
            [text.split() if all(t == UNKNOWN_TOKEN for t in row) else [] for text, row in zip(texts, tokens)],
            "no word the model knows; the answer is a guess",
        )
        return self.tokenizer(texts)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Class probabilities `(B, num_classes)` for token ids or raw tweet strings."""
        if _is_text(x):
            x = self._token_ids(x)
        return super().predict(x, batch_size=batch_size, verbose=verbose, steps=steps, callbacks=callbacks)

    def input_description(self):
        """What `predict` and `classify` take, for the model card."""
        length = self.sequence_length if self.tokenizer is None else self.tokenizer.sequence_length
        return (
            "`predict(texts)`, `classify(texts)` and `explain(texts)` take a list of raw tweet strings "
            f"(normalised and WordPiece-tokenised inside; the first {length} tokens are read, longer "
            "tweets are cut with a warning; an empty text is refused), or token ids `(N, T)` int32 with "
            f"0 as padding. `predict` returns `(N, {self.num_classes})` probabilities, `classify` the "
            f"label names {self.label_names}."
        )

    def classify(self, texts, batch_size=256):
        """The predicted label name of each tweet."""
        probabilities = self.predict(texts, batch_size=batch_size, verbose=0)
        return [self.label_names[i] for i in np.argmax(probabilities, axis=-1)]

    def explain(self, texts):
        """Each tweet's tokens with the pooling weight on each (they sum to 1).

        Returns a list of `(tokens, weights)` pairs: `tokens` a list of
        strings, `weights` a float array of the same length. Show one with
        `kattn.viz.highlight_tokens(tokens, weights)`. (Mean pooling gives
        every token `1 / length`.) A tweet with no token at all gets empty lists.
        """
        token_ids = self._token_ids(texts)  # (B, T)
        tokens = self.tokenizer.tokens(list(texts))
        _, weights = self(token_ids, training=False, return_attention_scores=True)
        weights = np.asarray(ops.convert_to_numpy(weights), dtype="float32")  # (B, T)
        return [(row_tokens, weights[i, : len(row_tokens)]) for i, row_tokens in enumerate(tokens)]

    # ------------------------------------------------------------------
    # Saving: settings in the config, the vocabulary as an asset
    # ------------------------------------------------------------------

    def save_assets(self, directory):
        if self.tokenizer is not None and self.tokenizer.vocabulary is not None:
            self.tokenizer.save_assets(directory)

    def load_assets(self, directory):
        if self.tokenizer is not None:
            self.tokenizer.load_assets(directory)
            checks.same_size(
                "size", "vocabulary_size", self.vocabulary_size,
                "the loaded vocabulary", self.tokenizer.vocabulary_size,
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_classes": self.num_classes,
                "embedding_dim": self.embedding_dim,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "position": self.position,
                "sequence_length": self.sequence_length,
                "dropout": self.dropout,
                "pooling": self.pooling,
                "pooling_units": self.pooling_units,
                "token_dropout": self.token_dropout,
                "label_names": self.label_names,
                "tokenizer": None if self.tokenizer is None else self.tokenizer.get_config(),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        tokenizer_config = config.pop("tokenizer", None)
        if tokenizer_config is not None:
            # The vocabulary arrives later, through load_assets.
            config["tokenizer"] = TweetTokenizer(**tokenizer_config)
        return cls(**config)
