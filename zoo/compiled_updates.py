"""The optimizer's weight update as one XLA computation, on TensorFlow.

Keras compiles a training step with XLA on TensorFlow only when a GPU is
present (`jit_compile="auto"`). On a CPU the optimizer then updates every
weight with separate kernels: AdamW reads and writes each weight, its two
moments and its gradient about ten times. `compile_updates(optimizer)` makes
`optimizer.apply` (which `fit` calls through `apply_gradients`) run as one
`tf.function(jit_compile=True)` whenever it is traced outside XLA
(`kattn.compiled_call.traced_outside_xla`) for at least `MIN_WEIGHTS`
weights, so that XLA fuses each variable's update into one pass. For
BERT-small's 17.3 million weights on the 2-core CPU of BENCHMARKS.md, that
is part of `python -m bench training_steps`' BERT row.

The zoo's models call it from their `compile`; the arithmetic is the
optimizer's own, so the weights after a step match the plain update to
float32 rounding (tested). Eager calls, the JAX backend, steps that XLA
compiles whole (`model.compile(jit_compile=True)`) and
`kattn.config.set_block_compilation("off")` keep the plain update.

Example:

>>> import keras
>>> from zoo.compiled_updates import compile_updates
>>> optimizer = compile_updates(keras.optimizers.AdamW(1e-3))
>>> weight = keras.Variable([1.0, 2.0])
>>> optimizer.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [weight])  # eager: plain
>>> [round(float(v), 4) for v in weight.numpy()]
[0.999, 2.001]
"""

import math

from kattn.compiled_call import traced_outside_xla

# Models with fewer weights keep the plain update: compiling it takes a
# second or two and saves little on them.
MIN_WEIGHTS = 1_000_000


def compile_updates(optimizer):
    """Make `optimizer.apply` one XLA computation when traced (see module doc).

    Returns the same optimizer. Calling it again on the same optimizer
    changes nothing.
    """
    if getattr(optimizer, "_plain_apply", None) is not None:
        return optimizer
    plain_apply = optimizer.apply

    def apply(grads, trainable_variables=None):
        # `fit` passes the variables (`apply_gradients`); other calls stay plain.
        if trainable_variables is None or not traced_outside_xla():
            return plain_apply(grads, trainable_variables)
        variables = list(trainable_variables)
        if sum(math.prod(v.shape) for v in variables) < MIN_WEIGHTS:
            return plain_apply(grads, variables)
        import tensorflow as tf

        if not optimizer.built:
            optimizer.build(variables)
        # The variables are captured, not passed: a tf.function cannot take
        # Keras variables as arguments. One compilation per traced step.
        update = tf.function(lambda grads: plain_apply(grads, variables), jit_compile=True)
        optimizer._compiled_apply = update  # the last one made, for inspection
        return update(list(grads))

    optimizer._plain_apply = plain_apply
    optimizer._compiled_apply = None
    optimizer.apply = apply
    return optimizer
