"""Library-wide settings: which attention kernel runs, and whether the
transformer blocks compile themselves with XLA.

`kattn.ops.scaled_dot_product_attention` has two paths that agree to float32
rounding:

- "fused": `keras.ops.dot_product_attention`, which uses flash / cuDNN kernels
  on a GPU under JAX or PyTorch;
- "explicit": matmul -> masked softmax -> matmul, the lecture formula, and the
  only path that can return the attention weights or apply dropout to them.

With "auto" (the default) kattn picks the path that measured faster for the
backend and device (`python -m bench attention`, BENCHMARKS.md):

- on a GPU or TPU: fused, where flash kernels are expected to win;
- on a CPU: explicit. Compiled as `model.fit` compiles on a CPU (no XLA with
  TensorFlow), our explicit path ran 1.00-1.11x keras's MultiHeadAttention at
  128 to 2,048 tokens and the fused op 0.68-0.97x on an AVX2 CPU, and
  1.11-1.34x against 0.71-1.06x on an AVX-512 one. Under XLA
  (`jit_compile=True`) the fused op is the faster one up to about 1,024 tokens:
  choose it with `set_attention_implementation("fused")` there.

Block compilation: on TensorFlow, Keras compiles `model.fit` with XLA only
when a GPU is present. A transformer block is a few matmuls surrounded by
many small element-wise ops (LayerNorm, residual adds, softmax, bias,
activation) that XLA fuses, so with `set_block_compilation("auto")` (the
default) `TransformerEncoderBlock` and `TransformerDecoderBlock` run each
call inside a traced function (`fit`, `predict`, a `tf.function`) whose
input shape is fixed and not tiny as one XLA computation, forward and
backward (`kattn.compiled_call` has the exact rule); eager calls and
the JAX and PyTorch backends are unchanged. The same setting governs
`kattn.dropout` compiling itself in a block too large to compile whole, and
the zoo's models compiling their optimizer's update (`zoo.compiled_updates`).
"off" turns all of it off, e.g. to step through a block in a debugger.

Example:

>>> import kattn
>>> kattn.config.set_attention_implementation("explicit")
>>> kattn.config.attention_implementation()
'explicit'
>>> kattn.config.set_attention_implementation("auto")
>>> with kattn.config.use_attention_implementation("fused"):
...     kattn.config.attention_implementation()
'fused'
"""

import contextlib
import functools

import keras

IMPLEMENTATIONS = ("auto", "fused", "explicit")
BLOCK_COMPILATION = ("auto", "off")

_implementation = "auto"
_block_compilation = "auto"


def set_attention_implementation(name):
    """Choose the attention path: "auto", "fused" or "explicit"."""
    global _implementation
    if name not in IMPLEMENTATIONS:
        raise ValueError(
            f"`name` must be one of {IMPLEMENTATIONS}; received {name!r}."
        )
    _implementation = name


def attention_implementation():
    """The configured attention path ("auto", "fused" or "explicit")."""
    return _implementation


@contextlib.contextmanager
def use_attention_implementation(name):
    """Context manager that sets the attention path and restores it after."""
    previous = _implementation
    set_attention_implementation(name)
    try:
        yield
    finally:
        set_attention_implementation(previous)


def set_block_compilation(mode):
    """XLA-compile the transformer blocks' calls on TensorFlow: "auto" or "off".

    >>> import kattn
    >>> kattn.config.set_block_compilation("off")
    >>> kattn.config.block_compilation()
    'off'
    >>> kattn.config.set_block_compilation("auto")
    """
    global _block_compilation
    if mode not in BLOCK_COMPILATION:
        raise ValueError(f"`mode` must be one of {BLOCK_COMPILATION}; received {mode!r}.")
    _block_compilation = mode


def block_compilation():
    """The configured block compilation ("auto" or "off")."""
    return _block_compilation


@functools.lru_cache(maxsize=None)
def _running_on_accelerator(backend_name):
    """True when the backend computes on a GPU or TPU (asked through Keras,
    so that kattn never imports a backend library itself)."""
    try:
        devices = keras.distribution.list_devices()  # e.g. ["cpu:0"] or ["gpu:0", ...]
    except AttributeError:  # torch: Keras lists no devices; where does a tensor live?
        devices = [str(keras.ops.zeros(()).device)]  # "cpu" or "cuda:0"
    return any(not device.lower().startswith("cpu") for device in devices)


def resolved_attention_implementation():
    """The path that "auto" stands for on this backend and device.

    >>> import kattn
    >>> with kattn.config.use_attention_implementation("fused"):
    ...     kattn.config.resolved_attention_implementation()
    'fused'
    """
    if _implementation != "auto":
        return _implementation
    if _running_on_accelerator(keras.backend.backend()):
        return "fused"
    return "explicit"
