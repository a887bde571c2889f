"""kattn.layers.AdditiveAttention (Bahdanau) against the lecture formula."""

import os
import warnings

import keras
import numpy as np
import pytest

import kattn

from tests.conftest import to_numpy

RNG = np.random.default_rng(1)


def bahdanau(state, encoder_states, W_q, W_k, v, b, mask):
    """e_j = v . tanh(W_q s + W_k h_j + b); a = softmax(e) over unmasked j;
    c = sum_j a_j h_j, one decoder state at a time, in plain loops."""
    batch, length, _ = encoder_states.shape
    contexts, alignments = [], []
    for n in range(batch):
        e = np.array([v @ np.tanh(state[n] @ W_q + encoder_states[n, j] @ W_k + b) for j in range(length)])
        e = np.where(mask[n], e, -np.inf)
        a = np.where(mask[n], np.exp(e - e[mask[n]].max()), 0.0)
        a = a / a.sum()
        alignments.append(a)
        contexts.append(a @ encoder_states[n])
    return np.array(contexts), np.array(alignments)


def test_matches_the_bahdanau_formula():
    layer = kattn.layers.AdditiveAttention(units=3)
    state = RNG.normal(size=(2, 5)).astype("float32")
    encoder_states = RNG.normal(size=(2, 4, 6)).astype("float32")
    mask = np.array([[True, True, True, False], [True, False, True, True]])
    context, alignment = layer(state, encoder_states, mask=mask, return_attention_scores=True)
    weights = {w.path.split("/")[-1]: to_numpy(w) for w in layer.weights}
    expected_context, expected_alignment = bahdanau(
        state, encoder_states, weights["query_kernel"], weights["key_kernel"],
        weights["score_vector"], weights["bias"], mask,
    )
    np.testing.assert_allclose(to_numpy(alignment), expected_alignment, atol=1e-5)
    np.testing.assert_allclose(to_numpy(context), expected_context, atol=1e-5)
    assert to_numpy(alignment)[0, 3] == 0.0 and to_numpy(alignment)[1, 1] == 0.0


def test_hand_computed_alignment():
    layer = kattn.layers.AdditiveAttention(units=2, use_bias=False)
    layer.build((1, 2), (1, 2, 2))
    # W_q = 0, W_k = I, v = [1, 1]: e_j = tanh(h_j1) + tanh(h_j2)
    layer.set_weights([np.zeros((2, 2)), np.eye(2), np.ones(2)])
    encoder_states = np.array([[[1.0, 1.0], [0.0, 0.0]]], "float32")
    _, alignment = layer(np.ones((1, 2), "float32"), encoder_states, return_attention_scores=True)
    e = 2 * np.tanh(1.0)
    np.testing.assert_allclose(to_numpy(alignment), [[np.exp(e) / (np.exp(e) + 1), 1 / (np.exp(e) + 1)]], atol=1e-6)


def test_is_attention_with_the_additive_score():
    state = RNG.normal(size=(2, 3, 5)).astype("float32")
    encoder_states = RNG.normal(size=(2, 4, 6)).astype("float32")
    additive = kattn.layers.AdditiveAttention(units=3)
    general = kattn.layers.Attention(score="additive", units=3)
    additive(state, encoder_states)
    general(state, encoder_states)
    general.set_weights(additive.get_weights())
    np.testing.assert_allclose(to_numpy(additive(state, encoder_states)), to_numpy(general(state, encoder_states)), atol=1e-6)


@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 1e-2), ("mixed_bfloat16", 5e-2)])
def test_mixed_precision_is_close_to_float32_and_never_nan(policy, tolerance):
    state = RNG.normal(size=(2, 5)).astype("float32")
    encoder_states = RNG.normal(size=(2, 4, 6)).astype("float32")
    mask = np.array([[True, True, False, False], [False] * 4])
    reference = kattn.layers.AdditiveAttention(units=3)
    expected = to_numpy(reference(state, encoder_states, mask=mask))
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.AdditiveAttention(units=3)
    layer(state, encoder_states)
    layer.set_weights(reference.get_weights())
    context = layer(state, encoder_states, mask=mask)
    assert keras.backend.standardize_dtype(context.dtype) == policy.split("_")[1]
    context = to_numpy(keras.ops.cast(context, "float32"))
    assert not np.isnan(context).any() and np.all(context[1] == 0.0)
    np.testing.assert_allclose(context, expected, atol=tolerance)


def test_saved_model_file_round_trips_and_fit_prints_no_warnings(tmp_path):
    """Padded encoder states and a summary query, as in the lectures (a
    Dense encoder stands in for the GRU to keep the test fast)."""
    ids = RNG.integers(1, 15, size=(16, 5))
    ids[::2, 3:] = 0
    labels = RNG.integers(0, 2, size=(16,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tokens = keras.Input((None,), dtype="int32")
        embedded = keras.layers.Embedding(15, 6, mask_zero=True)(tokens)
        states = keras.layers.Dense(4, activation="tanh")(embedded)  # keeps the mask
        summary = keras.layers.GlobalAveragePooling1D()(states)  # consumes the mask
        context = kattn.layers.AdditiveAttention(units=3, dropout=0.1)(summary, states)
        model = keras.Model(tokens, keras.layers.Dense(2)(context))
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(ids, labels, batch_size=8, epochs=1, verbose=0)
    assert [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)] == []

    path = os.path.join(tmp_path, "x.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    attention = [layer for layer in loaded.layers if isinstance(layer, kattn.layers.AdditiveAttention)][0]
    assert attention.get_config()["units"] == 3 and "score" not in attention.get_config()
    np.testing.assert_array_equal(loaded.predict(ids, verbose=0), model.predict(ids, verbose=0))


@pytest.mark.parametrize(
    "kwargs, message",
    [(dict(units=0), "`units` must be a positive int"), (dict(units=3, dropout=2.0), "`dropout` must be in")],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kattn.layers.AdditiveAttention(**kwargs)


def test_mismatched_batch_is_a_value_error():
    layer = kattn.layers.AdditiveAttention(units=3)
    with pytest.raises(ValueError, match="`query` and `keys` must have the same batch size; received 3 and 2"):
        layer(np.ones((3, 5), "float32"), np.ones((2, 4, 6), "float32"))
