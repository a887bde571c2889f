"""Attention math as plain functions on `keras.ops`, for every Keras backend.

Conventions used throughout:

- A *mask* is boolean: `True` means "may attend", `False` means "masked".
- Multi-head tensors are laid out `(batch, length, heads, head_dim)`.
- Single-head score functions take `query (B, Tq, D)` and `keys (B, Tk, D)`
  and return scores `(B, Tq, Tk)`.
- Softmax always runs in float32; the result comes back in the input dtype.

Example, attention by hand on 3 tokens:

>>> import keras, numpy as np
>>> from kattn import ops
>>> x = np.eye(3, 4, dtype="float32")[None]          # (1, 3, 4)
>>> scores = ops.scaled_dot_score(x, x)               # (1, 3, 3)
>>> weights = ops.masked_softmax(scores)              # rows sum to 1
>>> context = keras.ops.einsum("bqk,bkd->bqd", weights, x)
"""

import math

import keras
from keras import ops as K

from kattn import config

# A large negative logit that still fits float32; masked logits get it before
# the softmax, and their weights are then set to exactly zero.
_MASKED_LOGIT = -1e9


# ----------------------------------------------------------------------------
# Masks
# ----------------------------------------------------------------------------


def causal_mask(query_length, key_length, offset=0):
    """Boolean `(query_length, key_length)` mask: query i sees keys j <= offset + i.

    `offset` is the absolute position of the first query, e.g. the cache index
    when decoding one token at a time. With `offset=0` this is the lower
    triangle of the usual `(T, T)` causal mask.

    >>> import keras
    >>> from kattn.ops import causal_mask
    >>> keras.ops.convert_to_numpy(causal_mask(2, 3)).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0]]
    """
    offset = K.cast(offset, "int32")
    query_positions = K.arange(query_length, dtype="int32")[:, None] + offset  # (Tq, 1)
    key_positions = K.arange(key_length, dtype="int32")[None, :]  # (1, Tk)
    return K.greater_equal(query_positions, key_positions)  # (Tq, Tk)


def merge_masks(
    query_mask=None, key_mask=None, attention_mask=None, causal=None
):
    """Combine padding masks and attention masks into one boolean mask.

    Args:
        query_mask: `(B, Tq)`, False on padded queries.
        key_mask: `(B, Tk)`, False on padded keys.
        attention_mask: `(B, Tq, Tk)` or `(Tq, Tk)`.
        causal: a `(Tq, Tk)` mask from `causal_mask`, or None.

    Returns:
        A boolean mask broadcastable to `(B, Tq, Tk)`, or None if every
        argument is None.

    >>> import keras, numpy as np
    >>> from kattn.ops import causal_mask, merge_masks
    >>> keys_present = np.array([[True, True, False]])               # (1, 3)
    >>> mask = merge_masks(key_mask=keys_present, causal=causal_mask(3, 3))
    >>> keras.ops.convert_to_numpy(mask).astype(int).tolist()        # (1, 3, 3)
    [[[1, 0, 0], [1, 1, 0], [1, 1, 0]]]
    """
    merged = None

    def _and(mask, new):
        new = K.cast(new, "bool")
        return new if mask is None else K.logical_and(mask, new)

    if query_mask is not None:
        merged = _and(merged, K.expand_dims(query_mask, -1))  # (B, Tq, 1)
    if key_mask is not None:
        merged = _and(merged, K.expand_dims(key_mask, -2))  # (B, 1, Tk)
    if attention_mask is not None:
        merged = _and(merged, attention_mask)
    if causal is not None:
        merged = _and(merged, causal)
    return merged


def masked_softmax(logits, mask=None, axis=-1):
    """Softmax that gives masked positions exactly 0, computed in float32.

    A row whose every position is masked gives all zeros (never NaN), under
    float16 and bfloat16 too. The result has the dtype of `logits`.

    >>> import keras, numpy as np
    >>> from kattn.ops import masked_softmax
    >>> w = masked_softmax(np.zeros((1, 3)), np.array([[True, True, False]]))
    >>> keras.ops.convert_to_numpy(w).tolist()
    [[0.5, 0.5, 0.0]]
    """
    dtype = keras.backend.standardize_dtype(getattr(logits, "dtype", "float32"))
    logits = K.cast(logits, "float32")
    if mask is not None:
        mask = K.cast(mask, "bool")
        # exp(-1e9 - max) underflows to exactly 0: masked keys get weight 0.
        logits = K.where(mask, logits, _MASKED_LOGIT)
    if logits.shape[axis] == 1:
        weights = K.ones_like(logits)  # one key gets all the weight (Keras warns on softmax)
    else:
        weights = K.softmax(logits, axis=axis)
    if mask is None:
        return K.cast(weights, dtype)
    # A row with no visible key would come out uniform: make it all zeros.
    sees_a_key = K.any(mask, axis=axis, keepdims=True)
    return K.cast(weights * K.cast(sees_a_key, "float32"), dtype)


# ----------------------------------------------------------------------------
# Multi-head scaled dot-product attention
# ----------------------------------------------------------------------------


def _as_4d_mask(mask):
    """Bring a mask to rank 4, `(B or 1, H or 1, Tq, Tk)`."""
    mask = K.cast(mask, "bool")
    if len(mask.shape) == 2:  # (Tq, Tk)
        return mask[None, None]
    if len(mask.shape) == 3:  # (B, Tq, Tk)
        return mask[:, None]
    if len(mask.shape) == 4:  # (B, H, Tq, Tk)
        return mask
    raise ValueError(
        "`mask` must have rank 2 (Tq, Tk), 3 (B, Tq, Tk) or 4 (B, H, Tq, Tk); "
        f"received shape {tuple(mask.shape)}."
    )


def scaled_dot_product_attention(
    query,
    key,
    value,
    mask=None,
    is_causal=False,
    scale=None,
    dropout_rate=0.0,
    return_attention_scores=False,
    training=False,
    seed=None,
):
    """softmax(Q K^T / sqrt(d)) V for every head.

    Args:
        query: `(B, Tq, H, D)`.
        key: `(B, Tk, H, D)`.
        value: `(B, Tk, H, Dv)`.
        mask: boolean, broadcastable to `(B, H, Tq, Tk)` (rank 2, 3 or 4).
        is_causal: also apply `causal_mask(Tq, Tk)`.
        scale: multiplies the logits; default `1 / sqrt(D)`.
        dropout_rate: dropout on the attention weights when `training`.
        return_attention_scores: also return the weights `(B, H, Tq, Tk)`.
        training: whether dropout is active.
        seed: int or `keras.random.SeedGenerator` for the dropout.

    Returns:
        `(B, Tq, H, Dv)`, and the weights `(B, H, Tq, Tk)` if asked.

    Two paths that agree to float32 rounding: the explicit one (the formula
    step by step; the only one that returns the weights or applies dropout)
    and the fused `keras.ops.dot_product_attention` (flash kernels on GPUs
    under JAX and PyTorch). `kattn.config` chooses between them when both
    could run. Query rows with no visible key give zeros on both.

    >>> import numpy as np
    >>> from kattn.ops import scaled_dot_product_attention
    >>> q = np.random.rand(2, 5, 4, 8).astype("float32")   # (B, T, heads, head_dim)
    >>> out = scaled_dot_product_attention(q, q, q, is_causal=True)
    >>> tuple(out.shape)
    (2, 5, 4, 8)
    """
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])  # the one place 1/sqrt(d) is chosen
    if mask is not None:
        mask = _as_4d_mask(mask)  # (B or 1, H or 1, Tq, Tk)
    dropout_active = bool(training) and dropout_rate > 0.0
    fused = (
        not return_attention_scores
        and not dropout_active
        and value.shape[-1] == query.shape[-1]  # JAX's kernels need one head size
        and config.resolved_attention_implementation() == "fused"
    )
    if fused:
        return _fused_attention(query, key, value, mask, is_causal, scale)
    return _explicit_attention(
        query, key, value, mask, is_causal, scale,
        dropout_rate if dropout_active else 0.0, return_attention_scores, seed,
    )


def _explicit_attention(query, key, value, mask, is_causal, scale, dropout_rate,
                        return_attention_scores, seed):
    """The lecture's formula: scale -> Q K^T -> masked softmax -> dropout -> weights V."""
    # Scale the queries (smaller than the logits, and kinder to float16).
    query = K.multiply(query, K.cast(scale, query.dtype))  # (B, Tq, H, D)
    logits = K.einsum("bqhd,bkhd->bhqk", query, key)  # (B, H, Tq, Tk)
    if is_causal:
        causal = causal_mask(K.shape(query)[1], K.shape(key)[1])  # (Tq, Tk)
        mask = causal if mask is None else K.logical_and(mask, causal)
    weights = masked_softmax(logits, mask)  # (B, H, Tq, Tk), rows sum to 1 or 0
    dropped = weights
    if dropout_rate > 0.0:
        dropped = keras.random.dropout(weights, dropout_rate, seed=seed)
    output = K.einsum("bhqk,bkhv->bqhv", dropped, value)  # (B, Tq, H, Dv)
    if return_attention_scores:
        return output, weights
    return output


def _fused_attention(query, key, value, mask, is_causal, scale):
    """`keras.ops.dot_product_attention`, with fully masked rows set to 0."""
    output = K.dot_product_attention(
        query, key, value, mask=mask, scale=scale, is_causal=is_causal
    )  # (B, Tq, H, Dv)
    if mask is None:
        return output  # causal or no mask: every query sees at least one key
    # The fused kernel gives a uniform average where a query sees no key;
    # the contract (and the explicit path) gives zeros there.
    if is_causal:
        mask = K.logical_and(mask, causal_mask(K.shape(query)[1], K.shape(key)[1]))
    sees_a_key = K.any(mask, axis=-1)  # (B, H, Tq), maybe broadcast dims of 1
    sees_a_key = K.transpose(sees_a_key, (0, 2, 1))[..., None]  # (B, Tq, H, 1)
    return K.where(sees_a_key, output, K.zeros_like(output))


# ----------------------------------------------------------------------------
# Single-head score functions: query (B, Tq, Dq), keys (B, Tk, Dk) -> (B, Tq, Tk)
# ----------------------------------------------------------------------------


def dot_score(query, keys):
    """Luong's dot score: `q . k`.

    >>> import keras, numpy as np
    >>> from kattn.ops import dot_score
    >>> q = np.array([[[1.0, 2.0]]])                     # (1, 1, 2)
    >>> k = np.array([[[3.0, 0.0], [1.0, 1.0]]])         # (1, 2, 2)
    >>> keras.ops.convert_to_numpy(dot_score(q, k)).tolist()
    [[[3.0, 3.0]]]
    """
    return K.einsum("bqd,bkd->bqk", query, keys)


def scaled_dot_score(query, keys):
    """Vaswani's scaled dot score: `q . k / sqrt(d)`.

    >>> import keras, numpy as np
    >>> from kattn.ops import scaled_dot_score
    >>> q = np.array([[[1.0, 1.0, 1.0, 1.0]]])           # (1, 1, 4): sqrt(d) = 2
    >>> k = np.array([[[2.0, 2.0, 2.0, 2.0]]])           # (1, 1, 4)
    >>> keras.ops.convert_to_numpy(scaled_dot_score(q, k)).tolist()
    [[[4.0]]]
    """
    scale = K.cast(1.0 / math.sqrt(query.shape[-1]), query.dtype)
    return K.einsum("bqd,bkd->bqk", K.multiply(query, scale), keys)  # NumPy inputs too


def bilinear_score(query, keys, kernel):
    """Luong's general (bilinear) score: `q^T W k`, kernel `W` of shape `(Dq, Dk)`.

    >>> import keras, numpy as np
    >>> from kattn.ops import bilinear_score
    >>> q = np.array([[[1.0, 0.0]]])                     # (1, 1, Dq=2)
    >>> k = np.array([[[1.0, 1.0, 1.0]]])                # (1, 1, Dk=3)
    >>> W = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]) # (Dq, Dk)
    >>> keras.ops.convert_to_numpy(bilinear_score(q, k, W)).tolist()
    [[[6.0]]]
    """
    projected = K.einsum("bqd,de->bqe", query, kernel)  # (B, Tq, Dk)
    return K.einsum("bqe,bke->bqk", projected, keys)


def cosine_score(query, keys, epsilon=1e-6):
    """Graves' content score: cosine similarity `q . k / (|q| |k|)`, in [-1, 1].

    >>> import keras, numpy as np
    >>> from kattn.ops import cosine_score
    >>> q = np.array([[[3.0, 0.0]]], "float32")
    >>> k = np.array([[[5.0, 0.0], [0.0, 2.0], [-1.0, 0.0]]], "float32")
    >>> np.round(keras.ops.convert_to_numpy(cosine_score(q, k)), 4).tolist()
    [[[1.0, 0.0, -1.0]]]
    """
    dtype = query.dtype
    query = K.cast(query, "float32")
    keys = K.cast(keys, "float32")
    query = query / (K.norm(query, axis=-1, keepdims=True) + epsilon)
    keys = keys / (K.norm(keys, axis=-1, keepdims=True) + epsilon)
    return K.cast(K.einsum("bqd,bkd->bqk", query, keys), dtype)


def additive_score(query, keys, query_kernel, key_kernel, score_vector, bias=None):
    """Bahdanau's additive score: `v . tanh(W_q q + W_k k + b)`.

    Args:
        query: `(B, Tq, Dq)`; keys: `(B, Tk, Dk)`.
        query_kernel: `W_q`, `(Dq, U)`; key_kernel: `W_k`, `(Dk, U)`.
        score_vector: `v`, `(U,)`; bias: `b`, `(U,)` or None.

    >>> import keras, numpy as np
    >>> from kattn.ops import additive_score
    >>> q = np.zeros((1, 1, 2)); k = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    >>> W = np.eye(2); v = np.array([1.0, 1.0])
    >>> scores = additive_score(q, k, W, W, v)           # v . tanh(k)
    >>> np.round(keras.ops.convert_to_numpy(scores).astype("float64"), 4).tolist()
    [[[0.7616, 0.0]]]
    """
    projected_query = K.einsum("bqd,du->bqu", query, query_kernel)  # (B, Tq, U)
    projected_keys = K.einsum("bkd,du->bku", keys, key_kernel)  # (B, Tk, U)
    hidden = projected_query[:, :, None, :] + projected_keys[:, None, :, :]
    if bias is not None:
        hidden = hidden + bias  # (B, Tq, Tk, U)
    return K.einsum("bqku,u->bqk", K.tanh(hidden), score_vector)  # (B, Tq, Tk)


SCORE_FUNCTIONS = {
    "dot": dot_score,
    "scaled_dot": scaled_dot_score,
    "bilinear": bilinear_score,
    "cosine": cosine_score,
    "additive": additive_score,
}


def rotary_embedding(x, positions, max_wavelength=10000):
    """RoPE (Su et al., 2021): turn `x` `(B, T, heads, d)` or `(B, T, d)` by `positions` `(T,)` or `(B, T)`.

    Rotate-half convention (keras_hub, GPT-NeoX, LLaMA): the halves `[x1, x2]` of the last axis
    become `[x1 cos - x2 sin, x2 cos + x1 sin]` at angles `position * max_wavelength ** (-2i / d)`,
    so the dot product of a turned query and a turned key depends only on their distance.

    >>> import keras, numpy as np
    >>> from kattn.ops import rotary_embedding
    >>> q = np.ones((1, 1, 1, 4), "float32")                 # (B, T, heads, head_dim)
    >>> dot = lambda m, n: float(keras.ops.sum(rotary_embedding(q, [m]) * rotary_embedding(q, [n])))
    >>> round(dot(5, 2), 4) == round(dot(13, 10), 4)         # both 3 apart
    True
    """
    dim = x.shape[-1]
    if dim % 2:
        raise ValueError(f"`x` must have an even last axis for RoPE; received shape {tuple(x.shape)}.")
    positions = K.cast(positions, "float32")
    if len(positions.shape) not in (1, 2):
        raise ValueError(f"`positions` must be (T,) or (B, T); received shape {tuple(positions.shape)}.")
    inverse_frequencies = K.power(float(max_wavelength), -K.arange(0, dim, 2, dtype="float32") / dim)
    angles = positions[..., None] * inverse_frequencies  # (B or 1, T, d/2)
    angles = K.concatenate([angles, angles], axis=-1)  # (B or 1, T, d)
    if len(x.shape) == 4:
        angles = angles[..., None, :]  # the same angle for every head
    x32 = K.cast(x, "float32")  # angles of long positions need float32
    x1, x2 = K.split(x32, 2, axis=-1)
    rotated = x32 * K.cos(angles) + K.concatenate([-x2, x1], axis=-1) * K.sin(angles)
    return K.cast(rotated, x.dtype)
