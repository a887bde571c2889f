"""Token embeddings plus position information, the input of a transformer."""

import math

import keras
from keras import ops

from kattn import checks
from kattn.layers.position_embedding import PositionEmbedding
from kattn.layers.sinusoidal_positional_encoding import SinusoidalPositionalEncoding

POSITIONS = ("sinusoidal", "learned", None)


@keras.saving.register_keras_serializable(package="kattn")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Look up token vectors and add where each token sits.

        x = embed(token_ids) [* sqrt(D) if scale_embeddings] + position(x)

    Args:
        vocabulary_size: number of token ids.
        embedding_dim: `D`.
        sequence_length: longest sequence; needed for learned positions.
        position: `"sinusoidal"` (fixed, any length) or `"learned"`
            (`PositionEmbedding`, at most `sequence_length` positions), or
            None: tokens only, when attention adds positions itself (rotary).
        mask_zero: token id 0 is padding; the output then carries a Keras
            mask that the following kattn blocks use without being told.
        scale_embeddings: multiply token vectors by `sqrt(D)` before adding
            the positions, as in the original transformer.

    Call arguments:
        token_ids: `(B, T)` integers.
        start_index: position of the first token (int or scalar tensor),
            e.g. the step when decoding one token at a time.

    Returns:
        `(B, T, D)`.

    Example:

    >>> import keras, numpy as np, kattn
    >>> embed = kattn.layers.TokenAndPositionEmbedding(
    ...     vocabulary_size=50, embedding_dim=8, mask_zero=True)
    >>> ids = np.array([[4, 9, 0]])
    >>> tuple(embed(ids).shape)
    (1, 3, 8)
    >>> keras.ops.convert_to_numpy(embed.compute_mask(ids)).tolist()
    [[True, True, False]]
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        sequence_length=None,
        position="sinusoidal",
        mask_zero=False,
        scale_embeddings=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = checks.positive_int("vocabulary_size", vocabulary_size)
        self.embedding_dim = checks.positive_int("embedding_dim", embedding_dim)
        self.sequence_length = checks.positive_int(
            "sequence_length", sequence_length, allow_none=True
        )
        self.position = checks.one_of("position", position, POSITIONS)
        if position == "learned" and sequence_length is None:
            raise ValueError(
                '`sequence_length` must be a positive int when position="learned"; '
                "received None."
            )
        self.mask_zero = bool(mask_zero)
        self.scale_embeddings = bool(scale_embeddings)
        self.supports_masking = True

        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        if position == "learned":
            self.position_embedding = PositionEmbedding(
                sequence_length, dtype=self.dtype_policy, name="position_embedding"
            )
        elif position == "sinusoidal":
            self.position_embedding = SinusoidalPositionalEncoding(
                dtype=self.dtype_policy, name="position_embedding"
            )
        else:
            self.position_embedding = None

    def build(self, token_ids_shape):
        if len(token_ids_shape) != 2:
            raise ValueError(
                "`token_ids` must have shape (batch, length); received shape "
                f"{tuple(token_ids_shape)}."
            )
        self.token_embedding.build(token_ids_shape)
        if self.position_embedding is not None:
            self.position_embedding.build(tuple(token_ids_shape) + (self.embedding_dim,))

    def call(self, token_ids, start_index=0):
        checks.rank("token_ids", token_ids, (2,), "(batch, length)")
        tokens = self.token_embedding(token_ids)  # (B, T, D)
        if self.scale_embeddings:
            tokens = tokens * ops.cast(math.sqrt(self.embedding_dim), tokens.dtype)
        if self.position_embedding is None:
            return tokens
        positions = self.position_embedding(tokens, start_index=start_index)  # (B, T, D)
        return tokens + positions

    def compute_mask(self, token_ids, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(token_ids, 0)  # (B, T)

    def compute_output_shape(self, token_ids_shape):
        return tuple(token_ids_shape) + (self.embedding_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "embedding_dim": self.embedding_dim,
                "sequence_length": self.sequence_length,
                "position": self.position,
                "mask_zero": self.mask_zero,
                "scale_embeddings": self.scale_embeddings,
            }
        )
        return config
