"""kattn.dropout: hashed random bits, the dropout built on them, and the layer."""

import keras
import numpy as np
import pytest

from kattn.dropout import Dropout
from kattn.dropout import dropout
from kattn.dropout import random_bits
from tests.conftest import to_numpy

ON_TF = keras.backend.backend() == "tensorflow"


def _lowbias32(x):
    """The hash written out in NumPy uint32 arithmetic (wraps modulo 2**32)."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7FEB352D)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846CA68B)
    return x ^ (x >> np.uint32(16))


def test_bits_equal_the_hash_computed_in_numpy():
    with np.errstate(over="ignore"):
        seed = np.array([123456789, 42], np.uint32)
        key0 = _lowbias32(seed[0] ^ np.uint32(0x9E3779B9))
        key1 = _lowbias32(seed[1] + key0)
        counter = np.arange(24, dtype=np.uint32)
        expected = _lowbias32(_lowbias32(counter + key0) ^ key1).reshape(2, 3, 4)
    bits = to_numpy(random_bits((2, 3, 4), 123456789 + 42 * 2**32))
    assert bits.dtype == np.uint32
    np.testing.assert_array_equal(bits, expected)


def test_bits_look_uniform_and_independent():
    bits = to_numpy(random_bits((200_000,), 5)).astype(np.float64) / 2**32
    assert abs(bits.mean() - 0.5) < 0.005
    assert abs(bits.var() - 1 / 12) < 0.002
    # 16 equal bins each hold 1/16 of the numbers (chi-squared, 15 dof: 99.9% below 37.7).
    counts = np.bincount((bits * 16).astype(int), minlength=16)
    assert ((counts - 12_500) ** 2 / 12_500).sum() < 37.7
    # Neighbours and the same positions under the next seed are uncorrelated.
    other = to_numpy(random_bits((200_000,), 6)).astype(np.float64) / 2**32
    for a, b in [(bits[:-1], bits[1:]), (bits, other)]:
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.01


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_dropout_keeps_one_minus_rate_and_scales_to_keep_the_mean(rate):
    x = np.full((100, 1000), 3.0, "float32")
    dropped = to_numpy(dropout(x, rate, seed=11))
    kept = dropped != 0
    assert abs(kept.mean() - (1 - rate)) < 0.005
    np.testing.assert_allclose(dropped[kept], 3.0 / (1 - rate), rtol=1e-6)
    assert abs(dropped.mean() - 3.0) < 0.03
    np.testing.assert_array_equal(to_numpy(dropout(x, 0.0, seed=11)), x)


def test_a_seed_generator_gives_a_new_mask_each_draw():
    generator = keras.random.SeedGenerator(3)
    x = np.ones((64, 64), "float32")
    first, second = to_numpy(dropout(x, 0.5, generator)), to_numpy(dropout(x, 0.5, generator))
    assert 0.4 < ((first == 0) != (second == 0)).mean() < 0.6  # independent halves
    np.testing.assert_array_equal(to_numpy(dropout(x, 0.5, 3)), to_numpy(dropout(x, 0.5, 3)))


def test_float16_inputs_stay_float16():
    x = keras.ops.convert_to_tensor(np.full((8, 8), 1000.0, "float16"))
    dropped = dropout(x, 0.5, seed=1)
    assert keras.backend.standardize_dtype(dropped.dtype) == "float16"
    assert set(np.unique(to_numpy(dropped)).tolist()) == {0.0, 2000.0}


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_rate_outside_zero_one_is_a_value_error(rate):
    with pytest.raises(ValueError, match=r"`rate` must be in \[0, 1\); received"):
        dropout(np.ones((2,), "float32"), rate, seed=0)


@pytest.mark.skipif(not ON_TF, reason="XLA compilation through tf.function")
def test_xla_compiled_dropout_draws_the_same_mask():
    import tensorflow as tf

    x = tf.ones((4, 16, 32))
    eager = dropout(x, 0.3, seed=9)
    compiled = tf.function(lambda x: dropout(x, 0.3, seed=9), jit_compile=True)(x)
    np.testing.assert_array_equal(to_numpy(eager), to_numpy(compiled))


@pytest.mark.skipif(not ON_TF, reason="XLA compilation through tf.function")
def test_traced_without_xla_it_compiles_itself_and_draws_the_same_mask():
    """In a traced step that XLA does not compile (a block too large to
    compile whole), the dropout is one XLA computation of its own; with that
    turned off it runs as plain kernels. Same mask either way, and eager."""
    import tensorflow as tf

    from kattn import config
    from kattn import dropout as dropout_module

    x = tf.ones((8, 64, 128))  # 65,536 numbers: large enough to compile
    eager = to_numpy(dropout(x, 0.3, seed=9))
    dropout_module._compiled_drop.compiled = None
    traced = to_numpy(tf.function(lambda x: dropout(x, 0.3, seed=9))(x))
    assert dropout_module._compiled_drop.compiled is not None
    dropout_module._compiled_drop.compiled = None
    config.set_block_compilation("off")
    try:
        plain = to_numpy(tf.function(lambda x: dropout(x, 0.3, seed=9))(x))
    finally:
        config.set_block_compilation("auto")
    assert dropout_module._compiled_drop.compiled is None
    np.testing.assert_array_equal(traced, eager)
    np.testing.assert_array_equal(plain, eager)
    # Different ranks and rates through the one compiled function.
    weights = tf.ones((2, 4, 64, 128))
    both = tf.function(lambda x, w: (dropout(x, 0.5, seed=1), dropout(w, 0.1, seed=2)))(x, weights)
    np.testing.assert_array_equal(to_numpy(both[0]), to_numpy(dropout(x, 0.5, seed=1)))
    np.testing.assert_array_equal(to_numpy(both[1]), to_numpy(dropout(weights, 0.1, seed=2)))


@pytest.mark.skipif(not ON_TF, reason="gradients through a TensorFlow XLA computation")
def test_gradient_of_the_self_compiled_dropout_is_the_mask_times_the_scale():
    import tensorflow as tf

    x = tf.random.stateless_normal((8, 64, 128), seed=(3, 4))

    @tf.function
    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = dropout(x, 0.25, seed=5)
        return y, tape.gradient(y, x, output_gradients=tf.ones_like(x))

    y, gradient = (to_numpy(t) for t in value_and_gradient(x))
    kept = y != 0
    np.testing.assert_allclose(gradient, np.where(kept, 1 / 0.75, 0.0), rtol=1e-6)
    assert 0.23 < 1 - kept.mean() < 0.27


def test_layer_is_identity_at_inference_and_has_keras_dropouts_state():
    ours, theirs = Dropout(0.5, seed=1), keras.layers.Dropout(0.5, seed=1)
    x = np.ones((4, 8), "float32")
    np.testing.assert_array_equal(to_numpy(ours(x)), x)
    trained = to_numpy(ours(x, training=True))
    assert set(np.unique(trained).tolist()) == {0.0, 2.0}
    assert [(v.name, v.shape) for v in ours.variables] == [(v.name, v.shape) for v in theirs.variables]
    with pytest.raises(ValueError, match="`noise_shape` is not supported; received"):
        Dropout(0.5, noise_shape=(1, 8))
