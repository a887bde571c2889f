"""Argument checks shared by the layers: each raises a ValueError that names
the argument, what was expected and what was received.

>>> from kattn import checks
>>> checks.positive_int("num_heads", 0)
Traceback (most recent call last):
...
ValueError: `num_heads` must be a positive int; received 0.
"""

import keras


def positive_int(name, value, allow_none=False):
    """Raise unless `value` is a positive int (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        expected = "a positive int" + (" or None" if allow_none else "")
        raise ValueError(f"`{name}` must be {expected}; received {value!r}.")
    return value


def rate(name, value):
    """Raise unless 0 <= value < 1."""
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1); received {value!r}.")
    return float(value)


def one_of(name, value, choices):
    """Raise unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {tuple(choices)}; received {value!r}."
        )
    return value


def rank(name, tensor, ranks, layout):
    """Raise unless `tensor` has one of `ranks`; `layout` describes the shape."""
    shape = tuple(tensor.shape)
    if len(shape) not in ranks:
        raise ValueError(
            f"`{name}` must have shape {layout}; received shape {shape}."
        )


def same_size(what, name_a, size_a, name_b, size_b):
    """Raise if two known sizes differ (None is unknown and passes)."""
    if size_a is not None and size_b is not None and size_a != size_b:
        raise ValueError(
            f"`{name_a}` and `{name_b}` must have the same {what}; received "
            f"{size_a} and {size_b}."
        )


def mask_shape(name, mask, expected):
    """Raise unless `mask` has `expected` shape (None entries match anything)."""
    if mask is None:
        return
    shape = tuple(mask.shape)
    fits = len(shape) == len(expected) and all(
        e is None or s is None or s == e for s, e in zip(shape, expected)
    )
    if not fits:
        layout = "(" + ", ".join("?" if e is None else str(e) for e in expected) + ")"
        raise ValueError(
            f"`{name}` must have shape {layout}; received shape {shape}."
        )


def keras_mask(tensor):
    """The implicit Keras mask attached to `tensor` (e.g. by an Embedding)."""
    try:
        from keras.src.backend import get_keras_mask
    except ImportError:  # pragma: no cover - older Keras
        return getattr(tensor, "_keras_mask", None)
    return get_keras_mask(tensor)


def set_keras_mask(tensor, mask):
    """Attach `mask` as the implicit Keras mask of `tensor` (None detaches)."""
    try:
        from keras.src.backend import set_keras_mask as keras_set_mask
    except ImportError:  # pragma: no cover - older Keras
        return
    keras_set_mask(tensor, mask)


def drop_keras_mask(tensor):
    """Detach the implicit mask once a layer has consumed it."""
    set_keras_mask(tensor, None)


def float_dtype(name, tensor):
    """Raise unless `tensor` has a floating-point dtype."""
    dtype = keras.backend.standardize_dtype(tensor.dtype)
    if "float" not in dtype:
        raise ValueError(f"`{name}` must be a float tensor; received {dtype}.")
