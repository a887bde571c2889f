"""kattn.layers.Attention: every score function against NumPy, masks,
keras.layers.Attention parity, saving, mixed precision and errors."""

import os

import keras
import numpy as np
import pytest

import kattn

from tests.conftest import to_numpy

RNG = np.random.default_rng(0)
SCORES = ["dot", "scaled_dot", "bilinear", "cosine", "additive"]


def np_masked_softmax(logits, mask):
    logits = np.where(mask, logits, -np.inf)
    top = np.max(logits, axis=-1, keepdims=True)
    exps = np.where(mask, np.exp(logits - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = exps.sum(-1, keepdims=True)
    return exps / np.where(total > 0, total, 1.0)


def np_scores(layer, query, keys):
    """The lecture formula of `layer.score` on (B, Tq, D) and (B, Tk, D)."""
    if layer.score == "dot":
        return np.einsum("bqd,bkd->bqk", query, keys)
    if layer.score == "scaled_dot":
        return np.einsum("bqd,bkd->bqk", query, keys) / np.sqrt(query.shape[-1])
    if layer.score == "bilinear":
        return np.einsum("bqd,de,bke->bqk", query, to_numpy(layer.kernel), keys)
    if layer.score == "cosine":
        q = query / np.linalg.norm(query, axis=-1, keepdims=True)
        k = keys / np.linalg.norm(keys, axis=-1, keepdims=True)
        return np.einsum("bqd,bkd->bqk", q, k)
    hidden = (query @ to_numpy(layer.query_kernel))[:, :, None] + (keys @ to_numpy(layer.key_kernel))[:, None]
    if layer.bias is not None:
        hidden = hidden + to_numpy(layer.bias)
    return np.tanh(hidden) @ to_numpy(layer.score_vector)


@pytest.mark.parametrize("score", SCORES)
def test_each_score_matches_the_numpy_formula_with_a_mask(score):
    layer = kattn.layers.Attention(score=score)
    query = RNG.normal(size=(2, 3, 4)).astype("float32")
    keys = RNG.normal(size=(2, 5, 4)).astype("float32")
    values = RNG.normal(size=(2, 5, 6)).astype("float32")
    mask = np.array([[True, True, True, False, False], [True, False, True, True, True]])
    context, weights = layer(query, keys, values, mask=mask, return_attention_scores=True)
    expected_weights = np_masked_softmax(np_scores(layer, query, keys), mask[:, None, :])
    np.testing.assert_allclose(to_numpy(weights), expected_weights, atol=1e-5)
    np.testing.assert_allclose(to_numpy(context), expected_weights @ values, atol=1e-5)
    assert np.all(to_numpy(weights)[~np.broadcast_to(mask[:, None, :], (2, 3, 5))] == 0.0)


def test_hand_computed_dot_attention_on_two_keys():
    layer = kattn.layers.Attention(score="dot")
    query = np.array([[[1.0, 0.0]]], "float32")
    keys = np.array([[[2.0, 0.0], [0.0, 2.0]]], "float32")
    values = np.array([[[10.0], [20.0]]], "float32")
    context, weights = layer(query, keys, values, return_attention_scores=True)
    a = np.exp(2.0) / (np.exp(2.0) + 1.0)  # softmax([2, 0])
    np.testing.assert_allclose(to_numpy(weights), [[[a, 1 - a]]], atol=1e-6)
    np.testing.assert_allclose(to_numpy(context), [[[10 * a + 20 * (1 - a)]]], atol=1e-5)


def test_single_query_vector_gives_vectors():
    layer = kattn.layers.Attention(score="scaled_dot")
    query = RNG.normal(size=(2, 4)).astype("float32")
    keys = RNG.normal(size=(2, 5, 4)).astype("float32")
    context, weights = layer(query, keys, return_attention_scores=True)
    assert context.shape == (2, 4) and weights.shape == (2, 5)
    context_seq = layer(query[:, None], keys)
    np.testing.assert_allclose(to_numpy(context), to_numpy(context_seq)[:, 0], atol=1e-6)


@pytest.mark.parametrize("score_mode", ["dot", "scaled_dot"])
def test_matches_keras_attention_layer(score_mode):
    query = RNG.normal(size=(2, 3, 4)).astype("float32")
    keys = RNG.normal(size=(2, 5, 4)).astype("float32")
    values = RNG.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[True] * 5, [True, True, False, False, False]])
    # keras.layers.Attention(score_mode="dot") with no learned scale is Luong's dot.
    theirs = keras.layers.Attention(score_mode="dot", use_scale=False)
    if score_mode == "scaled_dot":
        query_for_keras = query / np.sqrt(4.0)
    else:
        query_for_keras = query
    their_context = theirs([query_for_keras, values, keys], mask=[None, mask])
    ours = kattn.layers.Attention(score=score_mode)
    np.testing.assert_allclose(to_numpy(ours(query, keys, values, mask=mask)), to_numpy(their_context), atol=1e-5)


def test_keras_mask_of_the_keys_is_used():
    ids = np.array([[3, 4, 5, 0, 0]])
    tokens = keras.Input((None,), dtype="int32")
    keys = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    query = keras.Input((4,))
    context, weights = kattn.layers.Attention()(query, keys, return_attention_scores=True)
    model = keras.Model([query, tokens], weights)
    weights = model.predict([np.ones((1, 4), "float32"), ids], verbose=0)
    np.testing.assert_array_equal(weights[0, 3:], [0.0, 0.0])
    np.testing.assert_allclose(weights.sum(), 1.0, atol=1e-6)


def test_query_sequence_output_keeps_the_query_mask():
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(tokens)
    y = kattn.layers.Attention()(x, x)
    assert kattn.checks.keras_mask(y) is not None


def test_self_attention_is_permutation_equivariant():
    layer = kattn.layers.Attention(score="bilinear")
    x = RNG.normal(size=(2, 6, 4)).astype("float32")
    permutation = RNG.permutation(6)
    out = to_numpy(layer(x, x))
    np.testing.assert_allclose(to_numpy(layer(x[:, permutation], x[:, permutation])), out[:, permutation], atol=1e-5)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_fully_masked_example_gives_zeros_not_nan(policy):
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.Attention(score="additive", units=3)
    query = RNG.normal(size=(2, 4)).astype("float32")
    keys = RNG.normal(size=(2, 3, 4)).astype("float32")
    mask = np.array([[True, False, True], [False, False, False]])
    context, weights = layer(query, keys, mask=mask, return_attention_scores=True)
    assert keras.backend.standardize_dtype(context.dtype) == layer.compute_dtype
    context = to_numpy(keras.ops.cast(context, "float32"))
    weights = to_numpy(keras.ops.cast(weights, "float32"))
    assert not np.isnan(context).any()
    assert np.all(context[1] == 0.0) and np.all(weights[1] == 0.0) and weights[0, 1] == 0.0


@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 1e-2), ("mixed_bfloat16", 5e-2)])
@pytest.mark.parametrize("score", SCORES)
def test_mixed_precision_is_close_to_float32(score, policy, tolerance):
    query = RNG.normal(size=(2, 3, 4)).astype("float32")
    keys = RNG.normal(size=(2, 5, 4)).astype("float32")
    reference = kattn.layers.Attention(score=score)
    expected = to_numpy(reference(query, keys))
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.Attention(score=score)
    layer(query, keys)
    layer.set_weights(reference.get_weights())
    output = layer(query, keys)
    assert keras.backend.standardize_dtype(output.dtype) == policy.split("_")[1]
    np.testing.assert_allclose(to_numpy(keras.ops.cast(output, "float32")), expected, atol=tolerance)


@pytest.mark.parametrize("score", SCORES)
def test_saved_model_file_round_trips_with_identical_outputs(score, tmp_path):
    query, keys = keras.Input((3, 4)), keras.Input((5, 4))
    model = keras.Model([query, keys], kattn.layers.Attention(score=score, dropout=0.1)(query, keys))
    inputs = [RNG.normal(size=(2, 3, 4)).astype("float32"), RNG.normal(size=(2, 5, 4)).astype("float32")]
    path = os.path.join(tmp_path, "x.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()
    np.testing.assert_array_equal(loaded.predict(inputs, verbose=0), model.predict(inputs, verbose=0))


def test_dropout_only_while_training():
    layer = kattn.layers.Attention(dropout=0.5)
    x = RNG.normal(size=(2, 4, 4)).astype("float32")
    np.testing.assert_array_equal(to_numpy(layer(x, x)), to_numpy(layer(x, x, training=False)))
    assert not np.allclose(to_numpy(layer(x, x, training=True)), to_numpy(layer(x, x)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(score="general"), "`score` must be one of .*received 'general'"),
        (dict(score="dot", units=4), "`units` is only used by score='additive'; received units=4"),
        (dict(score="additive", units=0), "`units` must be a positive int or None; received 0"),
        (dict(dropout=-0.1), "`dropout` must be in \\[0, 1\\)"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kattn.layers.Attention(**kwargs)


@pytest.mark.parametrize(
    "shapes, message",
    [
        (dict(query=(2, 3, 4), keys=(2, 5, 6)), "`query` and `keys` must have the same feature size; received 4 and 6"),
        (dict(query=(3, 3, 4), keys=(2, 5, 4)), "`query` and `keys` must have the same batch size; received 3 and 2"),
        (dict(query=(2, 3, 4), keys=(2, 5, 4), values=(2, 4, 4)), "`keys` and `values` must have the same length; received 5 and 4"),
        (dict(query=(2, 3, 4), keys=(2, 5, 4), mask=(2, 4)), "`mask` must have shape \\(2, 5\\); received shape \\(2, 4\\)"),
        (dict(query=(2, 3, 4), keys=(2, 4)), "`keys` must have shape \\(batch, key_length, features\\)"),
    ],
    ids=["features", "batch", "length", "mask", "rank"],
)
def test_bad_inputs_raise_value_errors_naming_the_argument(shapes, message):
    arguments = {
        name: (np.ones(shape, bool) if name == "mask" else RNG.normal(size=shape).astype("float32"))
        for name, shape in shapes.items()
    }
    with pytest.raises(ValueError, match=message):
        kattn.layers.Attention(score="dot")(**arguments)


def test_bilinear_score_allows_different_query_and_key_sizes():
    layer = kattn.layers.Attention(score="bilinear")
    context = layer(RNG.normal(size=(2, 3)).astype("float32"), RNG.normal(size=(2, 5, 7)).astype("float32"))
    assert context.shape == (2, 7) and layer.kernel.shape == (3, 7)
