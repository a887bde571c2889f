"""Tests for RNNAttentionTranslator and TransformerTranslator (tiny models)."""

import logging
import warnings

import keras
import numpy as np
import pytest
from keras import ops

from tests.conftest import to_numpy
from zoo.translation import decoding, training
from zoo.translation.rnn import RNNAttentionTranslator
from zoo.translation.tokenizers import CharacterTokenizer
from zoo.translation.transformer import TransformerTranslator

PAIRS = [
    ("3 May 1979", "1979-05-03"),
    ("12/25/01", "2001-12-25"),
    ("the 1st of June, 1950", "1950-06-01"),
    ("2042 March 17", "2042-03-17"),
]
SOURCE_LENGTH, TARGET_LENGTH = 24, 11


def tiny_model(kind, dropout=0.0):
    source = CharacterTokenizer.from_texts([s for s, _ in PAIRS])
    target = CharacterTokenizer.from_texts("0123456789-")
    if kind == "rnn":
        model = RNNAttentionTranslator(source, target, SOURCE_LENGTH, TARGET_LENGTH,
                                       embedding_dim=16, units=32, dropout=dropout)
    else:
        model = TransformerTranslator(source, target, SOURCE_LENGTH, TARGET_LENGTH, num_layers=1,
                                      num_heads=2, hidden_dim=32, intermediate_dim=64,
                                      dropout=dropout)
    model.build()
    return model


def fit(model, steps):
    """`steps` Adam steps on batches of 32 rows: 8 copies of each pair."""
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=training.MaskedCrossEntropy(),
                  metrics=[training.masked_accuracy])
    x, y = model.make_arrays(PAIRS * 8 * steps)
    return model.fit(x, y, batch_size=32, epochs=1, verbose=0)


@pytest.fixture(scope="module", params=["rnn", "transformer"])
def trained(request):
    keras.utils.set_random_seed(1)
    model = tiny_model(request.param)
    fit(model, steps=150)
    return model


def test_tiny_models_overfit_a_handful_of_pairs(trained):
    assert trained.translate([s for s, _ in PAIRS]) == [t for _, t in PAIRS]
    assert trained.translate([s for s, _ in PAIRS], method="beam", beam_size=3) == [t for _, t in PAIRS]


def test_beam_of_one_equals_greedy(trained):
    texts = [s for s, _ in PAIRS] + ["4 June 1990", "garbage in"]
    greedy, greedy_alignments = trained.translate(texts, return_attention=True)
    beam, beam_alignments = trained.translate(texts, method="beam", beam_size=1, return_attention=True)
    assert beam == greedy
    for a, b in zip(greedy_alignments, beam_alignments):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_alignments_have_one_row_per_output_token_summing_to_one(trained, method):
    texts = [s for s, _ in PAIRS]
    translations, alignments = trained.translate(texts, method=method, return_attention=True)
    for text, translation, alignment in zip(texts, translations, alignments):
        assert alignment.shape == (len(translation), len(text))  # characters
        np.testing.assert_allclose(alignment.sum(axis=1), 1.0, atol=1e-5)
        assert (alignment >= 0).all()


def test_cached_and_uncached_transformer_decoding_agree():
    keras.utils.set_random_seed(2)
    model = tiny_model("transformer")
    source_ids = ops.convert_to_tensor(model.encode_source([s for s, _ in PAIRS]))
    results = {}
    for use_cache in (True, False):
        state, step = model.start_decoding(source_ids, use_cache=use_cache)
        results[use_cache] = decoding.greedy_search(step, state, 4, TARGET_LENGTH, SOURCE_LENGTH)
    np.testing.assert_array_equal(to_numpy(results[True][0]), to_numpy(results[False][0]))
    np.testing.assert_allclose(to_numpy(results[True][1]), to_numpy(results[False][1]), atol=1e-5)
    # and the cached step logits equal a full teacher-forced forward pass
    tokens = to_numpy(results[True][0])[:, :-1]  # (B, T)
    full = to_numpy(model({"source": source_ids, "target": tokens}))  # (B, T, V)
    state, step = model.start_decoding(source_ids)
    for index in range(TARGET_LENGTH):
        logits, state, _ = step(ops.convert_to_tensor(tokens[:, index]), state, index)
        real = tokens[:, index] != 0  # after "[END]" the full pass masks the padding
        np.testing.assert_allclose(to_numpy(logits)[real], full[real, index], atol=1e-4)


def test_rnn_attention_step_is_the_additive_attention_layer():
    keras.utils.set_random_seed(3)
    model = tiny_model("rnn")
    source_ids = ops.convert_to_tensor(model.encode_source([s for s, _ in PAIRS]))
    memory, mask, state = model.encode(source_ids)
    context, alignment = model.attend(state, memory, model.project_keys(memory), mask)
    expected_context, expected_alignment = model.attention(
        state, memory, mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(context), to_numpy(expected_context), atol=1e-5)
    np.testing.assert_allclose(to_numpy(alignment), to_numpy(expected_alignment), atol=1e-6)


@pytest.mark.parametrize("kind", ["rnn", "transformer"])
def test_fit_prints_no_mask_warnings_and_saves(kind, tmp_path, caplog, capsys):
    model = tiny_model(kind, dropout=0.1)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        history = fit(model, steps=2)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    messages.append(capsys.readouterr().err)
    assert not [m for m in messages if "mask" in m.lower()]
    assert np.isfinite(history.history["loss"]).all()
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path, compile=False)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    x, _ = model.make_arrays(PAIRS)
    np.testing.assert_allclose(to_numpy(restored(x)), to_numpy(model(x)), atol=1e-6)


def test_translate_rejects_bad_arguments():
    model = tiny_model("rnn")
    with pytest.raises(ValueError, match="method"):
        model.translate(["3 May 1979"], method="sample")
    with pytest.raises(ValueError, match="beam_size"):
        model.translate(["3 May 1979"], method="beam", beam_size=0)
    with pytest.raises(ValueError, match="texts"):
        model.translate("3 May 1979")


def test_masked_loss_against_keras_losses():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 5)).astype("float32")
    y_true = np.array([[4, 2, 0], [1, 0, 0]])
    rows = y_true != 0
    for smoothing in (0.0, 0.1):
        ours = float(training.MaskedCrossEntropy(label_smoothing=smoothing)(y_true, logits))
        reference = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing)
        expected = float(reference(np.eye(5)[y_true[rows]], logits[rows]))
        assert ours == pytest.approx(expected, rel=1e-5)
    accuracy = float(training.masked_accuracy(y_true, logits))
    assert accuracy == pytest.approx(np.mean(logits[rows].argmax(-1) == y_true[rows]))
