"""Fixed sine/cosine position encodings (Vaswani et al., 2017)."""

import keras
import numpy as np
from keras import ops

from kattn import checks


def sinusoidal_frequencies(depth, max_wavelength=10000):
    """Angular frequency of every feature: `1 / w^(2i/d)` for features 2i and 2i+1.

    Returns a float32 NumPy array of shape `(depth,)`.

    >>> from kattn.layers.sinusoidal_positional_encoding import sinusoidal_frequencies
    >>> sinusoidal_frequencies(4, 10000).tolist()
    [1.0, 1.0, 0.009999999776482582, 0.009999999776482582]
    """
    pair_index = np.arange(depth) // 2  # i for features 2i and 2i+1
    exponent = 2.0 * pair_index / depth  # 2i / d
    return (1.0 / np.power(float(max_wavelength), exponent)).astype("float32")


@keras.saving.register_keras_serializable(package="kattn")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """The fixed position encodings of "Attention Is All You Need".

    For position `p` and feature pair `i` of a `d`-wide encoding:

        PE[p, 2i]   = sin(p / w^(2i/d))
        PE[p, 2i+1] = cos(p / w^(2i/d))

    with `w = max_wavelength`. Sine and cosine are interleaved feature by
    feature, as in the paper (and as in `keras_hub.layers.SinePositionEncoding`,
    which computes the same numbers). Any length works (nothing is learned or
    stored) and odd widths are fine: the last feature is then a sine.
    The angles are computed in float32 and cast to the compute dtype, so
    positions in the thousands stay exact under mixed precision.

    Args:
        max_wavelength: `w`, the longest wavelength (in positions).

    Call arguments:
        inputs: `(B, T, D)` (or any `(..., T, D)`); only its shape is used.
        start_index: position of the first step, an int or a scalar tensor
            (e.g. the decoding step when feeding one token at a time).

    Returns:
        Encodings with the shape of `inputs`; add them to the embeddings.

    Example:

    >>> import keras, numpy as np, kattn
    >>> x = np.zeros((2, 3, 4), "float32")
    >>> pe = kattn.layers.SinusoidalPositionalEncoding()(x)
    >>> np.round(keras.ops.convert_to_numpy(pe)[0, 1].astype(float), 3).tolist()
    [0.841, 0.54, 0.01, 1.0]

    Row 1 is position 1: `sin(1), cos(1), sin(1/100), cos(1/100)`.
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_wavelength, bool) or not (
            isinstance(max_wavelength, (int, float)) and max_wavelength > 0
        ):
            raise ValueError(
                "`max_wavelength` must be a positive number; received "
                f"{max_wavelength!r}."
            )
        self.max_wavelength = max_wavelength
        self.supports_masking = True

    def call(self, inputs, start_index=0):
        checks.rank("inputs", inputs, range(2, 8), "(..., length, features)")
        depth = inputs.shape[-1]
        if depth is None:
            raise ValueError(
                "`inputs` must have a known feature size (last axis); "
                f"received shape {tuple(inputs.shape)}."
            )
        length = ops.shape(inputs)[-2]
        positions = ops.cast(ops.arange(length), "float32")
        positions = positions + ops.cast(start_index, "float32")  # (T,)
        frequencies = sinusoidal_frequencies(depth, self.max_wavelength)
        angles = positions[:, None] * frequencies[None, :]  # (T, D)
        is_cosine = (np.arange(depth) % 2 == 1)[None, :]  # odd features
        encoding = ops.where(is_cosine, ops.cos(angles), ops.sin(angles))
        encoding = ops.cast(encoding, self.compute_dtype)  # (T, D)
        return ops.broadcast_to(encoding, ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
