"""Library-wide setting: which attention kernel runs.

`kattn.ops.scaled_dot_product_attention` has two paths that agree to float32
rounding:

- "explicit": einsum -> masked softmax -> einsum, the lecture formula, and
  the only path that can return the attention weights or apply dropout to
  them;
- "fused": `keras.ops.dot_product_attention`, which uses flash / cuDNN
  kernels on a GPU under JAX or PyTorch.

"auto" (the default) runs the fused path where the backend and device have a
flash kernel (JAX or PyTorch on a GPU or TPU) and the explicit path
elsewhere: on a CPU the fused op measured no faster (`python -m bench
attention`, BENCHMARKS.md), and Keras offers no flash kernel on TensorFlow.
Whatever the setting, a call that asks for the weights or trains with
attention dropout runs the explicit path.

Example:

>>> import kattn
>>> kattn.config.set_attention_implementation("explicit")
>>> kattn.config.attention_implementation()
'explicit'
>>> kattn.config.set_attention_implementation("auto")
>>> with kattn.config.use_attention_implementation("fused"):
...     kattn.config.resolved_attention_implementation()
'fused'
"""

import contextlib

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


# backend name -> whether it computes on a GPU or TPU; found at the first call
# that runs on a real device.
_flash_kernel = {}


def _has_flash_kernel(backend_name):
    """True for JAX or PyTorch computing on a GPU or TPU (asked through
    Keras, so that kattn never imports a backend library itself)."""
    if backend_name not in ("jax", "torch"):
        return False
    if backend_name not in _flash_kernel:
        if backend_name == "torch":  # Keras has no device list for torch: where a new tensor lives
            device = str(keras.ops.zeros(()).device)  # "cpu", "cuda:0"; "meta" while Keras infers shapes
            if device == "meta":
                return False  # not decided yet: either path gives the same shapes
            devices = [device]
        else:
            devices = keras.distribution.list_devices()  # e.g. ["cpu:0"] or ["gpu:0", ...]
        _flash_kernel[backend_name] = any(not device.lower().startswith("cpu") for device in devices)
    return _flash_kernel[backend_name]


def resolved_attention_implementation():
    """The path that "auto" stands for on this backend and device."""
    if _implementation != "auto":
        return _implementation
    return "fused" if _has_flash_kernel(keras.backend.backend()) else "explicit"
