"""kattn.ops against NumPy versions of the lecture formulas, and its promises:
masked weights exactly 0, rows summing to 1, fully masked rows giving zeros
(never NaN) in every precision, and the fused and explicit paths agreeing."""

import keras
import numpy as np
import pytest

import kattn
from kattn import ops

from tests.conftest import to_numpy

RNG = np.random.default_rng(0)


def np_masked_softmax(logits, mask):
    """Softmax over the last axis where masked entries get 0 and a fully
    masked row gives zeros."""
    logits = np.where(mask, logits, -np.inf)
    top = np.max(logits, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    exps = np.where(mask, np.exp(logits - top), 0.0)
    total = exps.sum(-1, keepdims=True)
    return exps / np.where(total > 0, total, 1.0)


def np_attention(q, k, v, mask=None, causal=False):
    """softmax(Q K^T / sqrt(d)) V on (B, T, H, D) arrays; also the weights."""
    logits = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
    full = np.ones(logits.shape, bool)
    if mask is not None:
        mask = mask[:, None] if mask.ndim == 3 else mask  # (B, Tq, Tk) -> (B, 1, Tq, Tk)
        full &= np.broadcast_to(mask, full.shape)
    if causal:
        full &= np.tril(np.ones(logits.shape[-2:], bool))
    weights = np_masked_softmax(logits, full)
    return np.einsum("bhqk,bkhd->bqhd", weights, v), weights


# -- masks -------------------------------------------------------------------


def test_causal_mask_is_lower_triangle_and_offsets_for_decoding():
    np.testing.assert_array_equal(to_numpy(ops.causal_mask(3, 3)), np.tril(np.ones((3, 3), bool)))
    # Query 0 at absolute position 2 sees keys 0..2 of 4.
    np.testing.assert_array_equal(to_numpy(ops.causal_mask(1, 4, offset=2)), [[True, True, True, False]])


def test_merge_masks_is_the_logical_and_of_every_mask():
    query_mask = np.array([[True, True, False]])  # (1, 3)
    key_mask = np.array([[True, False, True, True]])  # (1, 4)
    attention_mask = RNG.random((1, 3, 4)) > 0.3
    causal = to_numpy(ops.causal_mask(3, 4))
    merged = to_numpy(ops.merge_masks(query_mask, key_mask, attention_mask, causal))
    expected = query_mask[:, :, None] & key_mask[:, None, :] & attention_mask & causal
    np.testing.assert_array_equal(np.broadcast_to(merged, (1, 3, 4)), expected)
    assert ops.merge_masks() is None


# -- masked softmax ------------------------------------------------------------


def test_masked_softmax_matches_numpy_and_zeroes_masked_entries():
    logits = RNG.normal(size=(2, 3, 5)).astype("float32")
    mask = RNG.random((2, 3, 5)) > 0.4
    mask[0, 1] = False  # one fully masked row
    weights = to_numpy(ops.masked_softmax(logits, mask))
    np.testing.assert_allclose(weights, np_masked_softmax(logits, mask), atol=1e-6)
    assert np.all(weights[~mask] == 0.0)
    sums = weights.sum(-1)
    np.testing.assert_allclose(sums[mask.any(-1)], 1.0, atol=1e-6)
    assert np.all(sums[~mask.any(-1)] == 0.0)


def test_masked_softmax_without_mask_is_softmax():
    logits = RNG.normal(size=(4, 6)).astype("float32")
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(to_numpy(ops.masked_softmax(logits)), expected, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_masked_softmax_fully_masked_row_is_zero_in_every_dtype(dtype):
    # Large logits overflow float16 exp if softmax were not done in float32.
    logits = keras.ops.cast(np.array([[300.0, 200.0, -50.0], [1.0, 2.0, 3.0]]), dtype)
    mask = np.array([[True, True, False], [False, False, False]])
    weights = ops.masked_softmax(logits, mask)
    assert keras.backend.standardize_dtype(weights.dtype) == dtype
    weights = to_numpy(keras.ops.cast(weights, "float32"))
    assert not np.isnan(weights).any()
    np.testing.assert_array_equal(weights[1], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(weights[0], [1.0, 0.0, 0.0], atol=1e-3)


# -- score functions vs the lecture formulas -------------------------------------

Q = np.array([[[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 1.0, 1.0]]], "float32")  # (1, 2, 4)
K = np.array([[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0]]], "float32")  # (1, 3, 4)


def test_dot_score_hand_computed():
    # q0 . k = [1, 1, 4]; q1 . k = [1.5, 1, 5]
    np.testing.assert_allclose(to_numpy(ops.dot_score(Q, K)), [[[1, 1, 4], [1.5, 1, 5]]], atol=1e-6)


def test_scaled_dot_score_divides_by_sqrt_of_the_size():
    np.testing.assert_allclose(
        to_numpy(ops.scaled_dot_score(Q, K)), [[[0.5, 0.5, 2.0], [0.75, 0.5, 2.5]]], atol=1e-6
    )


def test_bilinear_score_is_q_transpose_w_k():
    kernel = RNG.normal(size=(4, 4)).astype("float32")
    expected = np.einsum("bqd,de,bke->bqk", Q, kernel, K)
    np.testing.assert_allclose(to_numpy(ops.bilinear_score(Q, K, kernel)), expected, rtol=1e-5, atol=1e-5)


def test_cosine_score_is_normalised_dot_product():
    expected = np.einsum("bqd,bkd->bqk", Q, K) / (
        np.linalg.norm(Q, axis=-1)[..., None] * np.linalg.norm(K, axis=-1)[:, None, :]
    )
    np.testing.assert_allclose(to_numpy(ops.cosine_score(Q, K)), expected, atol=1e-5)


def test_additive_score_is_v_tanh_of_projected_sum():
    query_kernel = RNG.normal(size=(4, 3)).astype("float32")
    key_kernel = RNG.normal(size=(4, 3)).astype("float32")
    v = RNG.normal(size=(3,)).astype("float32")
    b = RNG.normal(size=(3,)).astype("float32")
    expected = np.zeros((1, 2, 3))
    for i in range(2):
        for j in range(3):
            expected[0, i, j] = v @ np.tanh(Q[0, i] @ query_kernel + K[0, j] @ key_kernel + b)
    got = ops.additive_score(Q, K, query_kernel, key_kernel, v, b)
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-5)


def test_score_function_table_names_the_five_scores():
    assert set(ops.SCORE_FUNCTIONS) == {"dot", "scaled_dot", "bilinear", "cosine", "additive"}


# -- scaled dot-product attention -------------------------------------------------


def _qkv(batch=2, query_length=5, key_length=5, heads=3, head_dim=4, value_dim=4):
    q = RNG.normal(size=(batch, query_length, heads, head_dim)).astype("float32")
    k = RNG.normal(size=(batch, key_length, heads, head_dim)).astype("float32")
    v = RNG.normal(size=(batch, key_length, heads, value_dim)).astype("float32")
    return q, k, v


MASK_CASES = {
    "none": None,
    "keys 2D": "tq_tk",
    "padding 3D with a fully masked row": "b_tq_tk",
    "per head 4D": "b_h_tq_tk",
}


def _mask(kind, batch, heads, query_length, key_length):
    if kind is None:
        return None
    shape = {"tq_tk": (query_length, key_length), "b_tq_tk": (batch, query_length, key_length),
             "b_h_tq_tk": (batch, heads, query_length, key_length)}[kind]
    mask = RNG.random(shape) > 0.3
    mask[..., 0, :] = False  # query 0 sees nothing: its output must be zeros
    return mask


@pytest.mark.parametrize("path", ["explicit", "fused"])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("mask_kind", list(MASK_CASES.values()), ids=list(MASK_CASES))
def test_attention_matches_numpy_on_both_paths(path, causal, mask_kind):
    q, k, v = _qkv(query_length=4, key_length=6)
    mask = _mask(mask_kind, 2, 3, 4, 6)
    expected, _ = np_attention(q, k, v, mask, causal)
    with kattn.config.use_attention_implementation(path):
        got = ops.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=causal)
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-5)


def test_fused_and_explicit_paths_agree():
    q, k, v = _qkv(batch=3, query_length=7, key_length=7, heads=2, head_dim=8, value_dim=8)
    mask = RNG.random((3, 7, 7)) > 0.2
    outputs = {}
    for path in ("explicit", "fused"):
        with kattn.config.use_attention_implementation(path):
            outputs[path] = to_numpy(ops.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=True))
    assert np.max(np.abs(outputs["explicit"] - outputs["fused"])) <= 1e-5


def test_returned_weights_are_masked_and_sum_to_one():
    q, k, v = _qkv()
    mask = RNG.random((2, 5, 5)) > 0.3
    mask[1, 2] = False
    output, weights = ops.scaled_dot_product_attention(
        q, k, v, mask=mask, is_causal=True, return_attention_scores=True
    )
    expected_output, expected_weights = np_attention(q, k, v, mask, causal=True)
    weights = to_numpy(weights)  # (B, H, Tq, Tk)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(to_numpy(output), expected_output, atol=1e-5)
    visible = np.broadcast_to((mask & np.tril(np.ones((5, 5), bool)))[:, None], weights.shape)
    assert np.all(weights[~visible] == 0.0)
    sums = weights.sum(-1)
    np.testing.assert_allclose(sums[visible.any(-1)], 1.0, atol=1e-5)
    assert np.all(sums[~visible.any(-1)] == 0.0)


def test_self_attention_is_permutation_equivariant():
    q, _, _ = _qkv(query_length=6, key_length=6)
    permutation = RNG.permutation(6)
    out = to_numpy(ops.scaled_dot_product_attention(q, q, q))
    out_permuted = to_numpy(ops.scaled_dot_product_attention(q[:, permutation], q[:, permutation], q[:, permutation]))
    np.testing.assert_allclose(out_permuted, out[:, permutation], atol=1e-5)


@pytest.mark.parametrize("path", ["explicit", "fused"])
def test_causal_output_ignores_later_tokens(path):
    q, k, v = _qkv(query_length=6, key_length=6)
    k2, v2 = k.copy(), v.copy()
    k2[:, 4:], v2[:, 4:] = 100.0, -100.0  # change tokens 4 and 5
    with kattn.config.use_attention_implementation(path):
        before = to_numpy(ops.scaled_dot_product_attention(q, k, v, is_causal=True))
        after = to_numpy(ops.scaled_dot_product_attention(q, k2, v2, is_causal=True))
    np.testing.assert_allclose(after[:, :4], before[:, :4], atol=1e-6)
    assert not np.allclose(after[:, 4:], before[:, 4:])


@pytest.mark.parametrize("path", ["explicit", "fused"])
@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_fully_masked_rows_give_zeros_not_nan(path, policy):
    keras.mixed_precision.set_global_policy(policy)
    dtype = keras.mixed_precision.global_policy().compute_dtype
    q, k, v = (keras.ops.cast(t, dtype) for t in _qkv())
    mask = np.ones((2, 5, 5), bool)
    mask[:, 1] = False  # query 1 sees no key
    mask[0, :, 3] = False  # key 3 of example 0 is padding
    with kattn.config.use_attention_implementation(path):
        out = ops.scaled_dot_product_attention(q, k, v, mask=mask)
    assert keras.backend.standardize_dtype(out.dtype) == dtype
    out = to_numpy(keras.ops.cast(out, "float32"))
    assert not np.isnan(out).any()
    assert np.all(out[:, 1] == 0.0)
    expected, _ = np_attention(*(to_numpy(keras.ops.cast(t, "float32")) for t in (q, k, v)), mask)
    np.testing.assert_allclose(out, expected, atol=0.05)


def test_dropout_applies_to_output_but_not_to_returned_weights():
    q, k, v = _qkv()
    eval_out, eval_weights = ops.scaled_dot_product_attention(q, k, v, return_attention_scores=True)
    train_out, train_weights = ops.scaled_dot_product_attention(
        q, k, v, dropout_rate=0.5, training=True, seed=1, return_attention_scores=True
    )
    np.testing.assert_allclose(to_numpy(train_weights), to_numpy(eval_weights), atol=1e-6)
    assert not np.allclose(to_numpy(train_out), to_numpy(eval_out))
    # Inactive outside training.
    same = ops.scaled_dot_product_attention(q, k, v, dropout_rate=0.5, training=False)
    np.testing.assert_allclose(to_numpy(same), to_numpy(eval_out), atol=1e-6)


def test_custom_scale_multiplies_the_logits():
    q, k, v = _qkv()
    expected, _ = np_attention(q * 2.0 * np.sqrt(4.0), k, v)  # scale 2 == sqrt(d) * 2 / sqrt(d)
    got = ops.scaled_dot_product_attention(q, k, v, scale=2.0)
    np.testing.assert_allclose(to_numpy(got), expected, atol=1e-4)


def test_mask_of_wrong_rank_is_a_value_error_naming_mask():
    q, k, v = _qkv()
    with pytest.raises(ValueError, match="`mask`.*received shape \\(5,\\)"):
        ops.scaled_dot_product_attention(q, k, v, mask=np.ones((5,), bool))


# -- the explicit path's dropout ------------------------------------------------


def test_dropout_drops_weights_and_keeps_rows_unbiased():
    q = np.zeros((2, 64, 3, 4), "float32")  # equal logits: every weight 1/64
    v = np.ones((2, 64, 3, 4), "float32")
    seed = keras.random.SeedGenerator(3)
    output = to_numpy(ops.scaled_dot_product_attention(q, q, v, dropout_rate=0.5, training=True, seed=seed))
    assert output.shape == (2, 64, 3, 4)  # (B, Tq, H, Dv): kept share x 2
    assert not np.allclose(output, 1.0)  # weights were dropped
    np.testing.assert_allclose(output.mean(), 1.0, atol=0.05)  # 1 / (1 - rate) keeps the mean
    assert not np.allclose(output[:, :, 0], output[:, :, 1])  # heads are not dropped alike


def test_scale_is_applied_once():
    """The default scale is 1/sqrt(d), applied once on both paths."""
    q, k, v = _qkv()
    for path in ("explicit", "fused"):
        with kattn.config.use_attention_implementation(path):
            default = to_numpy(ops.scaled_dot_product_attention(q, k, v))
            explicit_scale = to_numpy(ops.scaled_dot_product_attention(q, k, v, scale=1 / np.sqrt(4.0)))
        np.testing.assert_allclose(default, explicit_scale, atol=1e-6)
        np.testing.assert_allclose(default, np_attention(q, k, v)[0], atol=1e-5)
