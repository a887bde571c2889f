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
from kattn.dropout import dropout

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
    if mask is not None:
        mask = K.cast(mask, "bool")
    weights = _softmax_in_float32(logits, mask, axis)
    if mask is not None:
        # A row with no visible key would be uniform: make it all zeros.
        sees_a_key = K.any(mask, axis=axis, keepdims=True)
        weights = weights * K.cast(sees_a_key, "float32")
    return K.cast(weights, dtype)


def _softmax_in_float32(logits, mask, axis=-1):
    """Float32 softmax with masked logits set to -1e9; rows that see no key
    come out uniform (callers that allow such rows zero them)."""
    logits = K.cast(logits, "float32")
    if mask is not None:
        logits = K.where(mask, logits, _MASKED_LOGIT)
    if logits.shape[axis] == 1:
        return K.ones_like(logits)  # one key gets all the weight
    # exp(-1e9 - max) underflows to exactly 0: masked keys get weight 0 in
    # every row that has a visible key.
    return K.softmax(logits, axis=axis)


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

    The fused path (`keras.ops.dot_product_attention`) runs when the weights
    are not requested, dropout is inactive, values and keys have the same
    head size and `kattn.config` selects it; the explicit path otherwise. Query rows with no visible key give zeros on both.

    >>> import numpy as np
    >>> from kattn.ops import scaled_dot_product_attention
    >>> q = np.random.rand(2, 5, 4, 8).astype("float32")   # (B, T, heads, head_dim)
    >>> out = scaled_dot_product_attention(q, q, q, is_causal=True)
    >>> tuple(out.shape)
    (2, 5, 4, 8)
    """
    head_dim = query.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(head_dim)
    dropout_active = bool(training) and dropout_rate > 0.0

    if mask is not None:
        mask = _as_4d_mask(mask)

    if uses_fused_path(return_attention_scores, dropout_active, value.shape[-1] == head_dim):
        return _fused_attention(query, key, value, mask, is_causal, scale)

    # Scale the query first (as keras.layers.MultiHeadAttention does): smaller
    # logits are kinder to float16, and (B, Tq, H, D) is smaller than the logits.
    query = K.multiply(query, K.cast(scale, query.dtype))
    attended = heads_first_attention(
        K.transpose(query, (0, 2, 1, 3)),  # (B, H, Tq, D)
        K.transpose(key, (0, 2, 1, 3)),  # (B, H, Tk, D)
        K.transpose(value, (0, 2, 1, 3)),  # (B, H, Tk, Dv)
        mask=mask,
        is_causal=is_causal,
        dropout_rate=dropout_rate,
        return_attention_scores=return_attention_scores,
        training=training,
        seed=seed,
    )
    if return_attention_scores:
        output, weights = attended
        return K.transpose(output, (0, 2, 1, 3)), weights  # (B, Tq, H, Dv)
    return K.transpose(attended, (0, 2, 1, 3))  # (B, Tq, H, Dv)


def uses_fused_path(return_attention_scores, dropout_active, same_head_sizes):
    """Whether `scaled_dot_product_attention` runs the fused kernel.

    It does when the weights are not requested, dropout is inactive, keys and
    values have the same head size (the JAX kernels need it) and
    `kattn.config` resolves to "fused".

    >>> import kattn
    >>> from kattn.ops import uses_fused_path
    >>> with kattn.config.use_attention_implementation("fused"):
    ...     uses_fused_path(False, False, True), uses_fused_path(True, False, True)
    (True, False)
    """
    return (
        not return_attention_scores
        and not dropout_active
        and same_head_sizes
        and config.resolved_attention_implementation() == "fused"
    )


def heads_first_attention(
    scaled_query,
    key,
    value,
    mask=None,
    is_causal=False,
    dropout_rate=0.0,
    return_attention_scores=False,
    training=False,
    seed=None,
):
    """The explicit path on heads-first tensors: softmax(Q K^T) V per head.

    Two batched matmuls in `(B, H, T, D)` layout, so nothing is transposed
    between them (the transpose of the keys folds into the matmul). The
    queries come already multiplied by the scale (e.g. `1 / sqrt(D)` folded
    into the query projection), so this function does not scale.

    In a TensorFlow graph that XLA does not compile, long inputs (scores of
    at least `MIN_SCORES_TO_CUT` entries) run one head (and, for a batch of
    known size, one sequence) at a time, with the same result: see
    `_pieces_per_axis`.

    Args:
        scaled_query: `(B, H, Tq, D)`.
        key: `(B, H, Tk, D)`.
        value: `(B, H, Tk, Dv)`.
        mask: boolean, broadcastable to `(B, H, Tq, Tk)` (rank 2, 3 or 4).
        is_causal, dropout_rate, return_attention_scores, training, seed: as
            in `scaled_dot_product_attention`.

    Returns:
        `(B, H, Tq, Dv)`, and the weights `(B, H, Tq, Tk)` if asked.

    >>> import numpy as np
    >>> from kattn.ops import heads_first_attention
    >>> q = np.random.rand(2, 4, 5, 8).astype("float32")   # (B, heads, T, head_dim)
    >>> out = heads_first_attention(q / np.sqrt(8), q, q, is_causal=True)
    >>> tuple(out.shape)
    (2, 4, 5, 8)
    """
    if mask is not None:
        mask = _as_4d_mask(mask)
    rows, heads = _pieces_per_axis(scaled_query, key)
    if rows * heads == 1:
        return _attend(scaled_query, key, value, mask, is_causal, dropout_rate,
                       return_attention_scores, training, seed)
    # The same math, one (sequence, head) piece at a time; see `_pieces_per_axis`.
    attended = [
        _attend(q, k, v, m, is_causal, dropout_rate, return_attention_scores, training, seed)
        for q, k, v, m in zip(*(_cut(t, rows, heads) for t in (scaled_query, key, value, mask)))
    ]
    if not return_attention_scores:
        return _join(attended, rows, heads)  # (B, H, Tq, Dv)
    outputs, weights = zip(*attended)
    return _join(outputs, rows, heads), _join(weights, rows, heads)


# Score matrices of at least this many entries (Tq x Tk) are computed one
# piece at a time in TensorFlow graphs; see `_pieces_per_axis`.
MIN_SCORES_TO_CUT = 256 * 256
# At most this many (sequence, head) pieces; past it, one piece per head.
MAX_PIECES = 16


def _pieces_per_axis(query, key):
    """How many pieces `heads_first_attention` cuts the batch and head axes into.

    `(1, 1)`, the whole tensors at once, except in a TensorFlow graph that
    XLA does not compile (`kattn.compiled_call.traced_as_tensorflow_graph`)
    when the scores `(Tq, Tk)` hold at least `MIN_SCORES_TO_CUT` entries.
    There each head is a separate chain of ops (matmul, softmax, matmul, and
    their gradients), and so is each sequence when the batch size is known
    while tracing and batch x heads is at most `MAX_PIECES`. TensorFlow's
    executor runs independent chains side by side, one per core, and one
    piece's scores fit in the cache, where the whole `(B, H, Tq, Tk)` tensor
    does not. With TensorFlow's default CPU kernels, 4 encoder blocks at 512
    tokens trained 1.20x as fast as keras_hub's this way against 1.10x on
    whole tensors (width 256; 1.05x against 0.99x at width 512; `python -m
    bench encoder_default_cpu`); with oneDNN's kernels it made no measurable
    difference. XLA and JAX get the whole tensors: they plan their own loops.
    """
    from kattn.compiled_call import traced_as_tensorflow_graph

    if not traced_as_tensorflow_graph():
        return 1, 1  # first: other backends' symbolic sizes cannot be compared below
    query_length, key_length = query.shape[2], key.shape[2]
    if query_length is None or key_length is None or query_length * key_length < MIN_SCORES_TO_CUT:
        return 1, 1
    batch, heads = query.shape[0], query.shape[1]
    if heads is None:
        return 1, 1
    rows = batch if batch is not None and batch * heads <= MAX_PIECES else 1
    return rows, heads


def _cut(tensor, rows, heads):
    """`tensor` `(B, H, ...)` as `rows x heads` pieces `(B / rows, H / heads, ...)`,
    row after row. An axis of size 1 (a mask broadcast over it) is not cut:
    every piece shares it. None gives None for every piece."""
    if tensor is None:
        return [None] * (rows * heads)
    by_row = [tensor] * rows if rows == 1 or tensor.shape[0] == 1 else K.split(tensor, rows, axis=0)
    return [
        piece
        for row in by_row
        for piece in ([row] * heads if heads == 1 or row.shape[1] == 1 else K.split(row, heads, axis=1))
    ]


def _join(pieces, rows, heads):
    """The inverse of `_cut`: `rows x heads` pieces back into one tensor."""
    by_row = [K.concatenate(pieces[r * heads : (r + 1) * heads], axis=1) for r in range(rows)]
    return by_row[0] if rows == 1 else K.concatenate(by_row, axis=0)


def _attend(scaled_query, key, value, mask, is_causal, dropout_rate, return_attention_scores,
            training, seed):
    """`heads_first_attention` on whole tensors (the mask is rank 4 or None)."""
    # (B, H, Tq, D) x (B, H, D, Tk): the swap becomes the matmul's transpose flag.
    logits = K.matmul(scaled_query, K.swapaxes(key, -1, -2))  # (B, H, Tq, Tk)
    if is_causal and mask is None:
        # Every query sees at least key 0: no empty row to zero out.
        causal = causal_mask(K.shape(scaled_query)[2], K.shape(key)[2])  # (Tq, Tk)
        weights = K.cast(_softmax_in_float32(logits, causal), logits.dtype)
    else:
        if is_causal:
            causal = causal_mask(K.shape(scaled_query)[2], K.shape(key)[2])
            mask = K.logical_and(mask, causal)
        weights = masked_softmax(logits, mask)  # (B, H, Tq, Tk)
    dropped = weights
    if bool(training) and dropout_rate > 0.0:
        dropped = dropout(weights, dropout_rate, seed=seed)
    output = K.matmul(dropped, value)  # (B, H, Tq, Dv)
    if return_attention_scores:
        return output, weights
    return output


def _fused_attention(query, key, value, mask, is_causal, scale):
    """`keras.ops.dot_product_attention`, with fully masked rows set to 0."""
    output = K.dot_product_attention(
        query, key, value, mask=mask, scale=scale, is_causal=is_causal
    )  # (B, Tq, H, Dv)
    if mask is None:
        return output
    # The fused kernel gives a uniform average where a query sees no key;
    # the contract (and the explicit path) gives zeros there.
    if is_causal:
        causal = causal_mask(K.shape(query)[1], K.shape(key)[1])[None, None]
        mask = K.logical_and(mask, causal)
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
    return K.einsum("bqd,bkd->bqk", query * scale, keys)


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


# ----------------------------------------------------------------------------
# Rotary position embeddings (RoPE)
# ----------------------------------------------------------------------------


def rotary_embedding(x, positions, max_wavelength=10000):
    """Rotary position embedding (Su et al., 2021, "RoFormer") on the last axis.

    The `d` features are split into two halves, `x = [x1, x2]`; feature `i`
    of the first half and feature `i` of the second half form a pair, which
    is rotated by the angle `p * w^(-2i/d)` at position `p`:

        x1' = x1 * cos(angle) - x2 * sin(angle)
        x2' = x2 * cos(angle) + x1 * sin(angle)

    i.e. `x * cos + [-x2, x1] * sin`. This is the "rotate halves" convention
    of GPT-NeoX, Hugging Face LLaMA and `keras_hub.layers.RotaryEmbedding`
    (not the interleaved pairs `(x[2i], x[2i+1])` of the RoFormer paper; both
    give the same attention scores up to a fixed permutation of the query and
    key features). Because a rotation by `a` then by `-b` is a rotation by
    `a - b`, the dot product of a query rotated at position `m` with a key
    rotated at position `n` depends only on `m - n`: the relative position.
    The angles are computed in float32 and the result is cast back to the
    dtype of `x`.

    Args:
        x: `(B, T, D)` or `(B, T, heads, D)`; axis 1 is the position axis,
            any axes between it and the last one share the rotation.
            `D` must be even.
        positions: the position of every step, `(T,)` (the same for every
            row) or `(B, T)`; ints or floats.
        max_wavelength: `w`, the wavelength of the slowest pair.

    Returns:
        A tensor shaped like `x`.

    Example: position 0 leaves `x` unchanged; position 1 rotates the fastest
    pair (features 0 and 2 of a 4-wide vector) by one radian.

    >>> import keras, numpy as np
    >>> from kattn import ops
    >>> x = np.array([[[1.0, 0.0, 0.0, 0.0]] * 2], "float32")   # (1, T=2, D=4)
    >>> y = keras.ops.convert_to_numpy(ops.rotary_embedding(x, np.arange(2)))
    >>> np.round(y[0].astype(float), 3).tolist()
    [[1.0, 0.0, 0.0, 0.0], [0.54, 0.0, 0.841, 0.0]]
    """
    depth = x.shape[-1]
    if depth is None or depth % 2:
        raise ValueError(
            "`x` must have an even, known feature size (last axis) for rotary "
            f"embeddings; received shape {tuple(x.shape)}."
        )
    if len(x.shape) < 3:
        raise ValueError(
            "`x` must have shape (batch, length, ..., features); received "
            f"shape {tuple(x.shape)}."
        )
    positions = K.cast(positions, "float32")
    if len(positions.shape) not in (1, 2):
        raise ValueError(
            "`positions` must have shape (length,) or (batch, length); "
            f"received shape {tuple(positions.shape)}."
        )
    half = depth // 2
    inverse_frequencies = K.power(
        float(max_wavelength), -K.arange(0, half, dtype="float32") * 2.0 / depth
    )  # (D/2,): w^(-2i/d)
    angles = positions[..., None] * inverse_frequencies  # (..., T, D/2)
    angles = K.concatenate([angles, angles], axis=-1)  # (..., T, D): both halves
    for _ in range(len(x.shape) - 3):  # (..., T, 1, D) for (B, T, heads, D)
        angles = K.expand_dims(angles, axis=-2)
    x1, x2 = x[..., :half], x[..., half:]
    rotated_halves = K.cast(K.concatenate([-x2, x1], axis=-1), "float32")  # [-x2, x1]
    result = K.cast(x, "float32") * K.cos(angles) + rotated_halves * K.sin(angles)
    return K.cast(result, x.dtype)
