"""Rotary position embeddings (RoPE) as a layer."""

import keras
from keras import ops

from kattn import checks
from kattn.ops import rotary_embedding


@keras.saving.register_keras_serializable(package="kattn")
class RotaryEmbedding(keras.layers.Layer):
    """Rotates queries or keys by their position (RoPE, Su et al. 2021).

    Unlike the added position encodings (`SinusoidalPositionalEncoding`,
    `PositionEmbedding`), RoPE is applied to the queries and keys inside
    attention: each pair of features is rotated by an angle proportional to
    the position, so the score `q_m . k_n` depends on the two vectors and on
    `m - n` only. Nothing is learned and any length works.

    Pairs are the two halves of the features, `[x1, x2] -> x * cos + [-x2, x1] * sin`
    (the GPT-NeoX / Hugging Face LLaMA / `keras_hub.layers.RotaryEmbedding`
    convention); see `kattn.ops.rotary_embedding` for the formula.

    Args:
        max_wavelength: the wavelength of the slowest pair, in positions.

    Call arguments:
        inputs: `(B, T, D)` or `(B, T, heads, D)`, `D` even.
        start_index: position of the first step (int or scalar tensor), e.g.
            the decoding step when one token is fed at a time.
        positions: `(T,)` or `(B, T)` explicit positions; replaces
            `start_index` when given.

    Returns:
        The rotated tensor, shaped like `inputs`.

    Example: the score of a rotated query and key depends on their distance only.

    >>> import keras, numpy as np, kattn
    >>> rope = kattn.layers.RotaryEmbedding()
    >>> q = np.random.rand(1, 1, 8).astype("float32")
    >>> k = np.random.rand(1, 1, 8).astype("float32")
    >>> def score(m, n):
    ...     qm = rope(q, start_index=m)
    ...     kn = rope(k, start_index=n)
    ...     return float(keras.ops.sum(qm * kn))
    >>> bool(np.isclose(score(5, 2), score(13, 10), atol=1e-5))
    True
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_wavelength, bool) or not (
            isinstance(max_wavelength, (int, float)) and max_wavelength > 0
        ):
            raise ValueError(
                f"`max_wavelength` must be a positive number; received {max_wavelength!r}."
            )
        self.max_wavelength = max_wavelength
        self.supports_masking = True

    def call(self, inputs, start_index=0, positions=None):
        checks.rank("inputs", inputs, (3, 4), "(batch, length, features) or (batch, length, heads, features)")
        if positions is None:
            length = ops.shape(inputs)[1]
            positions = ops.arange(length, dtype="float32") + ops.cast(start_index, "float32")  # (T,)
        return rotary_embedding(inputs, positions, self.max_wavelength)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
