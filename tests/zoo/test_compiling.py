"""zoo.compiling: a decoder compiled once still reads the weights, and keeps
the random state it changes, on every backend."""

import keras
import numpy as np

from zoo.compiling import compile_function


def test_the_compiled_function_reads_the_weights_when_it_runs():
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    compiled = compile_function(lambda x: layer(x), layer.variables)
    x = np.ones((1, 2), "float32")
    before = keras.ops.convert_to_numpy(compiled(x))
    np.testing.assert_allclose(before, keras.ops.convert_to_numpy(layer(x)), atol=1e-6)
    layer.kernel.assign(layer.kernel + 1.0)  # as a training step would
    after = keras.ops.convert_to_numpy(compiled(x))
    np.testing.assert_allclose(after, before + 2.0, atol=1e-5)  # two inputs of 1, each weight +1


def test_the_random_state_it_changes_is_kept_between_calls():
    seed = keras.random.SeedGenerator(7)
    compiled = compile_function(lambda shape_of: keras.random.uniform((4,), seed=seed) + 0 * shape_of,
                                [], [seed.state])
    state = keras.ops.convert_to_numpy(seed.state.value).copy()
    first = keras.ops.convert_to_numpy(compiled(np.zeros((4,), "float32")))
    second = keras.ops.convert_to_numpy(compiled(np.zeros((4,), "float32")))
    assert not np.allclose(first, second)  # the second call drew new numbers
    assert not np.array_equal(keras.ops.convert_to_numpy(seed.state.value), state)
    seed.state.assign(state)  # the same state: the same numbers again
    np.testing.assert_allclose(keras.ops.convert_to_numpy(compiled(np.zeros((4,), "float32"))), first)
