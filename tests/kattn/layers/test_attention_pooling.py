"""kattn.layers.AttentionPooling: the lectures' tweet pooling."""

import os

import keras
import numpy as np
import pytest

import kattn

from tests.conftest import to_numpy

RNG = np.random.default_rng(2)


def np_pooling(inputs, mask, layer):
    """e_t = w . h_t + b (or v . tanh(W h_t + b)); a = masked softmax(e); sum_t a_t h_t."""
    weights = {w.path.split("/", 1)[1]: to_numpy(w) for w in layer.weights}
    if layer.units is None:
        scores = inputs @ weights["score/kernel"][:, 0] + weights["score/bias"][0]
    else:
        hidden = np.tanh(inputs @ weights["hidden/kernel"] + weights["hidden/bias"])
        scores = hidden @ weights["score/kernel"][:, 0]
    scores = np.where(mask, scores, -np.inf)
    top = np.max(scores, -1, keepdims=True)
    exps = np.where(mask, np.exp(scores - np.where(np.isfinite(top), top, 0.0)), 0.0)
    total = exps.sum(-1, keepdims=True)
    a = exps / np.where(total > 0, total, 1.0)
    return np.einsum("bt,btd->bd", a, inputs), a


@pytest.mark.parametrize("units", [None, 3])
def test_matches_the_numpy_formula(units):
    layer = kattn.layers.AttentionPooling(units=units)
    inputs = RNG.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[True] * 5, [True, True, False, False, False], [False] * 5])
    pooled, weights = layer(inputs, mask=mask, return_attention_scores=True)
    expected_pooled, expected_weights = np_pooling(inputs, mask, layer)
    np.testing.assert_allclose(to_numpy(weights), expected_weights, atol=1e-6)
    np.testing.assert_allclose(to_numpy(pooled), expected_pooled, atol=1e-5)
    weights = to_numpy(weights)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights[:2].sum(-1), 1.0, atol=1e-6)
    assert np.all(to_numpy(pooled)[2] == 0.0)  # nothing to pool: zeros, not NaN


def test_hand_computed_weights():
    layer = kattn.layers.AttentionPooling()
    layer.build((1, 2, 2))
    layer.set_weights([np.array([[1.0], [0.0]]), np.zeros(1)])  # e_t = first feature
    inputs = np.array([[[2.0, 5.0], [0.0, 7.0]]], "float32")
    pooled, weights = layer(inputs, return_attention_scores=True)
    a = np.exp(2.0) / (np.exp(2.0) + 1.0)
    np.testing.assert_allclose(to_numpy(weights), [[a, 1 - a]], atol=1e-6)
    np.testing.assert_allclose(to_numpy(pooled), [[2 * a, 5 * a + 7 * (1 - a)]], atol=1e-5)


def test_is_permutation_invariant():
    layer = kattn.layers.AttentionPooling(units=4)
    inputs = RNG.normal(size=(2, 6, 4)).astype("float32")
    permutation = RNG.permutation(6)
    np.testing.assert_allclose(to_numpy(layer(inputs[:, permutation])), to_numpy(layer(inputs)), atol=1e-5)


def test_takes_the_keras_mask_and_ignores_padding():
    tokens = keras.Input((None,), dtype="int32")
    pooled = kattn.layers.AttentionPooling()(keras.layers.Embedding(10, 4, mask_zero=True)(tokens))
    model = keras.Model(tokens, pooled)
    np.testing.assert_allclose(
        model.predict(np.array([[3, 4, 0, 0, 0]]), verbose=0), model.predict(np.array([[3, 4]]), verbose=0), atol=1e-6
    )


@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 1e-2), ("mixed_bfloat16", 5e-2)])
def test_mixed_precision_is_close_to_float32_and_never_nan(policy, tolerance):
    inputs = RNG.normal(size=(2, 5, 4)).astype("float32")
    mask = np.array([[True, True, True, False, False], [False] * 5])
    reference = kattn.layers.AttentionPooling(units=3)
    expected = to_numpy(reference(inputs, mask=mask))
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.AttentionPooling(units=3)
    layer(inputs)
    layer.set_weights(reference.get_weights())
    pooled, weights = layer(inputs, mask=mask, return_attention_scores=True)
    assert keras.backend.standardize_dtype(pooled.dtype) == policy.split("_")[1]
    pooled = to_numpy(keras.ops.cast(pooled, "float32"))
    assert not np.isnan(pooled).any() and np.all(pooled[1] == 0.0)
    np.testing.assert_allclose(pooled, expected, atol=tolerance)


@pytest.mark.parametrize("units", [None, 3])
def test_saved_model_file_round_trips_with_identical_outputs(units, tmp_path):
    inputs = keras.Input((5, 4))
    model = keras.Model(inputs, kattn.layers.AttentionPooling(units=units)(inputs))
    x = RNG.normal(size=(2, 5, 4)).astype("float32")
    path = os.path.join(tmp_path, "x.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[-1].get_config() == model.layers[-1].get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: kattn.layers.AttentionPooling(units=-2), "`units` must be a positive int or None; received -2"),
        (lambda: kattn.layers.AttentionPooling()(np.ones((2, 4), "float32")), "`inputs` must have shape \\(batch, length, features\\)"),
        (
            lambda: kattn.layers.AttentionPooling()(np.ones((2, 4, 3), "float32"), mask=np.ones((2, 5), bool)),
            "`mask` must have shape \\(2, 4\\); received shape \\(2, 5\\)",
        ),
    ],
    ids=["units", "rank", "mask"],
)
def test_bad_input_raises_value_errors_naming_the_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()
