"""Dropout whose random numbers are a hash of each element's position.

`dropout(x, rate, seed)` zeroes each element of `x` with probability `rate`
and scales the rest by `1 / (1 - rate)`, like `keras.random.dropout`. Its
random bits come from hashing the element's index with the seed, using only
integer multiplies, shifts and xors:

    counter  = 0, 1, 2, ...                   # one per element, (B, T, D) here
    bits     = mix(mix(counter + k0) ^ k1)     # k0, k1: the seed, mixed
    keep     = bits >= rate * 2**32

`mix` is the 32-bit "lowbias32" finalizer (Chris Wellons' hash-prospector):
an invertible map whose output bits each depend on every input bit. A
counter-based generator like this is the idea behind Philox (Salmon et al.
2011, used by TensorFlow and JAX), with fewer rounds: dropout needs masks
that are uncorrelated from element to element and from step to step, not
cryptographic strength (tested: keep rate, neighbours and seeds).

Why not `keras.random.dropout`: inside an XLA computation on a CPU,
TensorFlow's Philox generator took 285 ms to drop from a (16, 64, 1024)
tensor where this hash took 1.6 ms (`python -m bench dropout`), so
transformer blocks can train with dropout inside their XLA compilation
(`kattn.compiled_call`). As plain TensorFlow kernels the hash is about
fifteen passes over the tensor: 6.6 ms, against 4.7 ms for TensorFlow's
fused random op. So where a traced TensorFlow step does not compile the
block around it, the dropout compiles itself (the blocks' rule without
their size caps): 2.3 ms, and the same mask.

Example:

>>> import numpy as np
>>> from kattn.dropout import dropout
>>> x = np.ones((1000,), "float32")
>>> dropped = np.asarray(dropout(x, 0.25, seed=7))
>>> sorted({round(v, 4) for v in dropped.tolist()})   # dropped, or scaled by 1 / 0.75
[0.0, 1.3333]
>>> bool(0.2 < (dropped == 0).mean() < 0.3)
True
"""

import keras
from keras import ops

from kattn.compiled_call import CompiledCall

_GOLDEN = 0x9E3779B9  # 2**32 / golden ratio: spreads the seed words apart


def _uint32(value):
    return ops.convert_to_tensor(value, "uint32")


def _mix(x):
    """lowbias32: an invertible uint32 -> uint32 hash with good avalanche."""
    x = ops.bitwise_xor(x, ops.right_shift(x, _uint32(16)))
    x = ops.multiply(x, _uint32(0x7FEB352D))
    x = ops.bitwise_xor(x, ops.right_shift(x, _uint32(15)))
    x = ops.multiply(x, _uint32(0x846CA68B))
    return ops.bitwise_xor(x, ops.right_shift(x, _uint32(16)))


def _seed_words(seed):
    """Two uint32 scalars from an int, a `keras.random.SeedGenerator` or None."""
    if isinstance(seed, keras.random.SeedGenerator):
        seed = seed.next()  # (2,) integers; advances the generator
    elif seed is None:  # Keras' global generator, as `keras.random.dropout` does
        seed = keras.random.randint((2,), 0, 2**31 - 1, dtype="int32")
    else:
        seed = ops.convert_to_tensor([int(seed) % 2**32, int(seed) // 2**32 % 2**32], "uint32")
    seed = ops.cast(seed, "uint32")  # wraps modulo 2**32
    key0 = _mix(ops.bitwise_xor(seed[0], _uint32(_GOLDEN)))
    key1 = _mix(ops.add(seed[1], key0))
    return key0, key1


def random_bits(shape, seed):
    """uint32 array of `shape`: hashed element indices (see module docstring)."""
    key0, key1 = _seed_words(seed)
    return _hashed_indices(shape, key0, key1)


def _hashed_indices(shape, key0, key1):
    size = 1
    for dim in shape:
        size = size * dim  # a tensor when a dimension is only known at run time
    counter = ops.cast(ops.arange(size, dtype="int32"), "uint32")  # (size,)
    bits = _mix(ops.bitwise_xor(_mix(ops.add(counter, key0)), key1))
    return ops.reshape(bits, shape)


def dropout(inputs, rate, seed):
    """Zero each element with probability `rate`, scale the rest by 1 / (1 - rate).

    Args:
        inputs: float tensor, any shape.
        rate: float in [0, 1).
        seed: int, a `keras.random.SeedGenerator` (advanced by one draw), or
            None for Keras' global generator (not inside a JAX `jit`).
    """
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"`rate` must be in [0, 1); received {rate!r}.")
    if rate == 0.0:
        return inputs
    key0, key1 = _seed_words(seed)
    return _compiled_drop(inputs, rate, key0, key1)


def _drop(inputs, rate, key0, key1):
    bits = _hashed_indices(ops.shape(inputs), key0, key1)
    keep = ops.greater_equal(bits, _uint32(min(round(rate * 2**32), 2**32 - 1)))
    scaled = ops.multiply(inputs, ops.cast(1.0 / (1.0 - rate), inputs.dtype))
    return ops.where(keep, scaled, ops.zeros_like(inputs))


# One XLA computation when traced on TensorFlow outside XLA (module docstring).
_compiled_drop = CompiledCall(_drop)


class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` drawing its mask with `kattn.dropout.dropout`.

    Same arguments, weights (its seed generator's state) and saved files as
    Keras' layer; only the random numbers differ. `noise_shape` is not
    supported (the transformer blocks do not use it).

    Example:

    >>> import numpy as np
    >>> from kattn.dropout import Dropout
    >>> layer = Dropout(0.5, seed=1)
    >>> x = np.ones((2, 4), "float32")
    >>> bool((np.asarray(layer(x)) == x).all())        # inference: identity
    True
    >>> sorted(set(np.asarray(layer(x, training=True)).ravel().tolist()) - {0.0})
    [2.0]
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if noise_shape is not None:
            raise ValueError(f"`noise_shape` is not supported; received {noise_shape!r}.")
        super().__init__(rate, seed=seed, **kwargs)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return dropout(inputs, self.rate, self.seed_generator)
        return inputs
