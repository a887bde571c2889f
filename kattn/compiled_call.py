"""A function (a block's call, a dropout), compiled with XLA on TensorFlow where faster.

Keras compiles `model.fit` with XLA on TensorFlow only when a GPU is present
(`jit_compile="auto"`). On a CPU a transformer block then runs as dozens of
separate kernels: a few large matmuls and many small element-wise ops
(LayerNorm, residual adds, softmax, bias, activation, dropout) that each
read and write the whole activation tensor. XLA fuses those. Compiling just
the block, forward and backward, made the training step of 4 encoder blocks
(width 256, 128 tokens) 1.10x faster on a 2-core CPU (`python -m bench
encoder`, BENCHMARKS.md) without asking the user to compile the whole model;
on wider or longer blocks it was slower (below).

`CompiledCall(function)` calls `function` as it is, except when all of these
hold, where it calls `tf.function(function, jit_compile=True)`:

- `kattn.config.block_compilation()` is "auto" (the default);
- the backend is TensorFlow (JAX compiles everything already);
- the call is being traced (inside `fit`, `predict`, `evaluate` or a user's
  `tf.function`); eager calls stay eager, so that they are easy to inspect
  and pay no compilation;
- the first argument's shape `(B, T, D)` is fully known while tracing and it
  holds at least `MIN_ELEMENTS` numbers. XLA compiles once per input shape, a
  few seconds each on a CPU. Keras traces `fit` with the batch's exact shape
  and traces again with unknown sizes once the shapes vary (batches bucketed
  by length, a short last batch), so varying shapes run uncompiled instead of
  compiling for every new length; tiny activations gain less from fusion
  than a compilation costs;
- the call is not traced inside a function XLA compiles already (a user's
  `model.compile(jit_compile=True)`);
- for a transformer block, which passes `max_width=MAX_WIDTH`,
  `max_length=MAX_LENGTH` and `only_float32=True`: the block is narrow and
  short, `D <= MAX_WIDTH` and `T <= MAX_LENGTH`, and it computes in float32.
  XLA's CPU matmuls are slower than oneDNN's, so fusing the element-wise ops
  pays only while they are a large share of the step. Measured on our 2-core
  CPU (`python -m bench encoder`, 4 blocks, vs keras_hub) while every shape
  still compiled, before this rule: compiled 1.12x and
  uncompiled 1.02x at D = 256, T = 128; compiled 0.93x and uncompiled 1.04x
  at D = 256, T = 512; compiled 1.03x and uncompiled 1.08x at D = 512,
  T = 128. Under `mixed_bfloat16` the gap is wider: on a CPU with AVX-512
  BF16 instructions, oneDNN's bfloat16 matmuls ran about 2x its float32 ones
  (716 against 371 GFLOP/s at 2048 x 2048) while XLA's barely gained (378),
  and with the blocks compiled the training steps of 4 encoder blocks and
  of the translation Transformer ran 0.65x and 0.78x keras_hub's, against
  0.97x and 0.97x with the blocks plain (one-off measurement, 2026-12-03;
  `python -m bench mixed_precision` records the encoder: 0.68x compiled,
  1.00x plain). So blocks compile in float32 only.

Dropout inside a compiled block draws its masks with `kattn.dropout`, a hash
of each element's index: XLA's own random numbers are slow on a CPU (a
decoder block's training step took 5x as long with them). In a block that
runs plain (wider or longer than the caps), each dropout is a
`CompiledCall` of its own: the hash, the comparison and the scaling become
one pass over the tensor instead of about fifteen kernels.

Python arguments (flags such as `training`) select the traced variant. Pass
tensors, not Python numbers, for values that change from call to call (a
cache index), or every new value is a new trace. Keras masks are attributes
of the eager tensor that do not cross a `tf.function` boundary: resolve them
before calling.

Example:

>>> import numpy as np
>>> from kattn.compiled_call import CompiledCall
>>> double = CompiledCall(lambda x: 2 * x)
>>> double(np.ones((2,), "float32")).tolist()   # eager: called as it is
[2.0, 2.0]
>>> double.compiled is None
True
"""

import math

import keras

from kattn import config


# Activations smaller than this (batch x length x width) run uncompiled: 8
# tweets of 64 tokens at width 128 is 65,536.
MIN_ELEMENTS = 65_536
# Wider or longer blocks run uncompiled (see the module docstring).
MAX_WIDTH = 256
MAX_LENGTH = 256


class CompiledCall:
    """Calls `function`, XLA-compiled when traced on TensorFlow (see module doc).

    Args:
        function: the Python function to call; its first argument is a tensor.
        max_width, max_length: if given, a first argument `(B, T, D)` with
            `D > max_width` or `T > max_length` runs plain (the blocks pass
            `MAX_WIDTH` and `MAX_LENGTH`: their matmuls decide).
        only_float32: if True, a first argument of another dtype (a
            `mixed_bfloat16` or `mixed_float16` block) runs plain: XLA's CPU
            matmuls do not use bfloat16 instructions, oneDNN's do.

    A plain object, not a Keras layer or a `tf.function` attribute, so that
    neither Keras' weight tracking nor TensorFlow's SavedModel export sees it.
    """

    def __init__(self, function, max_width=None, max_length=None, only_float32=False):
        self.function = function
        self.max_width = max_width
        self.max_length = max_length
        self.only_float32 = only_float32
        self.compiled = None  # the tf.function, made on first use

    def __call__(self, *args, **kwargs):
        if not self.should_compile(args[0]):
            return self.function(*args, **kwargs)
        if self.compiled is None:
            import tensorflow as tf

            self.compiled = tf.function(self.function, jit_compile=True)
        return self.compiled(*args, **kwargs)

    def should_compile(self, first_argument):
        if not traced_outside_xla():
            return False
        shape = tuple(first_argument.shape)  # (B, T, D) for a block
        if None in shape or math.prod(shape) < MIN_ELEMENTS:
            return False
        too_wide = self.max_width is not None and shape[-1] > self.max_width
        too_long = self.max_length is not None and shape[-2] > self.max_length
        dtype = keras.backend.standardize_dtype(first_argument.dtype)
        not_float32 = self.only_float32 and dtype != "float32"
        return not (too_wide or too_long or not_float32)


def traced_outside_xla():
    """Whether a function compiled here with XLA would run as its own computation.

    True when `kattn.config.block_compilation()` is "auto", the backend is
    TensorFlow, a `tf.function` is being traced (eager code stays eager) and
    that function is not XLA-compiled already.
    """
    return config.block_compilation() == "auto" and traced_as_tensorflow_graph()


def traced_as_tensorflow_graph():
    """Whether a TensorFlow graph that XLA does not compile is being traced.

    True when the backend is TensorFlow, a `tf.function` is being traced and
    that function is not XLA-compiled. Such a graph is run by TensorFlow's
    executor, which runs ops that do not depend on each other side by side.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return tf.inside_function() and not _inside_xla(tf)


def _inside_xla(tf):
    """Whether the call is traced inside a function XLA compiles already.

    A user's `model.compile(jit_compile=True)` compiles the whole step: a block
    compiled again inside it made every step after the second recompile
    (tens of seconds a step for a ViT-tiny instead of under one). TensorFlow
    has no public name for this test; it is the one `tf.function` itself
    runs to decide whether a nested function is compiled on its own.
    """
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
