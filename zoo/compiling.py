"""Compile a decoding loop once, for the backend, so that it still reads the
model's weights when it runs.

The zoo's decoders (`zoo.translation` greedy and beam search, `GPT.generate`)
run one `keras.ops.while_loop` per call. Run eagerly, that loop is traced
again on every call; compiled once, it runs as one program:

- TensorFlow: `tf.function` (a graph that reads the variables when it runs);
- JAX: `jax.jit` of a pure function, the variables passed in as values
  through a `keras.StatelessScope` (a plain `jax.jit` would freeze the weights
  it saw while tracing, so a model that trained on would decode with old
  weights), and the new values of `state_variables` (e.g. a sampler's random
  state) written back;
- torch: op by op, as is.

>>> import keras, numpy as np
>>> from zoo.compiling import compile_function
>>> layer = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
>>> layer.build((None, 2))
>>> double_sum = compile_function(lambda x: 2 * layer(x), layer.variables)
>>> float(double_sum(np.ones((1, 2), "float32"))[0, 0])
4.0
>>> _ = layer.kernel.assign(np.full((2, 1), 3.0, "float32"))  # the compiled function sees it
>>> float(double_sum(np.ones((1, 2), "float32"))[0, 0])
12.0
"""

import keras


def compile_function(function, variables, state_variables=()):
    """`function(*args)` compiled once; it reads `variables` and
    `state_variables` when it runs, and may change `state_variables` only."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, reduce_retracing=True)
    if backend != "jax":
        return function
    import jax

    variables, state_variables = list(variables), list(state_variables)
    every_variable = variables + state_variables

    def pure(values, *args):  # the variables' values in -> outputs and new state out
        with keras.StatelessScope(state_mapping=list(zip(every_variable, values))) as scope:
            outputs = function(*args)
        old_state = values[len(variables):]
        new_state = [scope.get_current_value(v) for v in state_variables]
        return outputs, [old if new is None else new for old, new in zip(old_state, new_state)]

    compiled = jax.jit(pure)

    def run(*args):
        outputs, state = compiled([v.value for v in every_variable], *args)
        for variable, value in zip(state_variables, state):
            variable.assign(value)
        return outputs

    return run
