"""Library-wide settings: which attention kernel runs.

`kattn.ops.scaled_dot_product_attention` has two paths that agree to float32
rounding:

- "fused": `keras.ops.dot_product_attention`, which uses flash / cuDNN kernels
  on a GPU under JAX or PyTorch;
- "explicit": matmul -> masked softmax -> matmul, the lecture formula, and the
  only path that can return the attention weights or apply dropout to them.

With "auto" (the default) kattn picks the path that measured faster for the
backend and device (`python -m bench attention`, BENCHMARKS.md):

- on a GPU or TPU: fused, where flash kernels are expected to win;
- TensorFlow on a CPU: fused up to 1,024 keys (XLA's kernel was 1.13-1.25x
  faster than the explicit path at 128 to 1,024 tokens, causal fwd+bwd with
  oneDNN on), explicit beyond, where the fused kernel took twice as long at 2,048;
- JAX (or PyTorch) on a CPU: explicit (fused / explicit time 1.06, 1.08 and
  1.39 at 128, 512 and 1,024 tokens on JAX).

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

_implementation = "auto"


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


@functools.lru_cache(maxsize=None)
def _running_on_accelerator(backend_name):
    """True when the backend computes on a GPU or TPU (asked through Keras,
    so that kattn never imports a backend library itself)."""
    devices = keras.distribution.list_devices()  # e.g. ["cpu:0"] or ["gpu:0", ...]
    return any(not device.lower().startswith("cpu") for device in devices)


# TensorFlow on a CPU: the fused kernel up to this many keys, explicit beyond.
TENSORFLOW_CPU_FUSED_MAX_KEYS = 1024


def resolved_attention_implementation(key_length=None):
    """The path that "auto" stands for on this backend and device.

    `key_length`: the number of keys when it is known before running (a
    Python int), else None.

    >>> import kattn
    >>> with kattn.config.use_attention_implementation("fused"):
    ...     kattn.config.resolved_attention_implementation()
    'fused'
    """
    if _implementation != "auto":
        return _implementation
    backend = keras.backend.backend()
    if _running_on_accelerator(backend):
        return "fused"
    if backend == "tensorflow" and key_length is not None:
        return "fused" if key_length <= TENSORFLOW_CPU_FUSED_MAX_KEYS else "explicit"
    return "explicit"
