"""BertPretrainer and BertClassifier: heads, losses, training, saving, precision."""

import logging
import warnings

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import to_numpy
from zoo.bert import BertBackbone, BertClassifier, BertPretrainer, BertTokenizer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad", "movie", "very", "not", "."]
LENGTH = 8


def tiny_backbone(dropout=0.0):
    return BertBackbone(len(VOCAB), num_layers=1, num_heads=2, hidden_dim=8,
                        intermediate_dim=16, max_sequence_length=LENGTH, dropout=dropout)


def pretraining_batch(seed=0):
    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, len(VOCAB), size=(4, LENGTH)).astype("int32")
    token_ids[:, 0], token_ids[:, -1] = 2, 3
    inputs = {
        "token_ids": token_ids,
        "segment_ids": np.zeros((4, LENGTH), "int32"),
        "padding_mask": np.ones((4, LENGTH), "int32"),
        "mask_positions": np.array([[1, 2], [3, 0], [4, 5], [6, 0]], "int32"),
    }
    labels = {"mlm": rng.integers(5, len(VOCAB), size=(4, 2)).astype("int32"),
              "nsp": np.array([0, 1, 1, 0], "int32")}
    weights = {"mlm": np.array([[1, 1], [1, 0], [1, 1], [1, 0]], "float32"),
               "nsp": np.ones((4,), "float32")}
    return inputs, labels, weights


def test_masked_lm_logits_use_the_token_embedding_table():
    pretrainer = BertPretrainer(tiny_backbone())
    pretrainer.mlm_bias.assign(np.linspace(-1, 1, len(VOCAB)).astype("float32"))
    inputs, _, _ = pretraining_batch()
    logits = to_numpy(pretrainer(inputs)["mlm"])  # (B, P, V)

    # The same computation in NumPy, from the backbone's sequence output.
    sequence = to_numpy(pretrainer.backbone({k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")})["sequence_output"])
    hidden = np.take_along_axis(sequence, inputs["mask_positions"][..., None], axis=1)
    hidden = to_numpy(pretrainer.mlm_layer_norm(pretrainer.mlm_dense(hidden)))
    table = to_numpy(pretrainer.backbone.token_embedding.embeddings)
    expected = hidden @ table.T + to_numpy(pretrainer.mlm_bias)
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    # Tied: no second (vocabulary, hidden) matrix exists.
    shapes = [tuple(v.shape) for v in pretrainer.weights]
    assert shapes.count((len(VOCAB), 8)) == 1


def test_masked_lm_loss_ignores_padding_slots():
    pretrainer = BertPretrainer(tiny_backbone())
    pretrainer.compile(jit_compile=False)
    inputs, labels, weights = pretraining_batch()
    first = pretrainer.evaluate(inputs, labels, sample_weight=weights, return_dict=True, verbose=0)
    changed = {"mlm": labels["mlm"].copy(), "nsp": labels["nsp"]}
    changed["mlm"][weights["mlm"] == 0] = 5  # labels under weight 0
    second = pretrainer.evaluate(inputs, changed, sample_weight=weights, return_dict=True, verbose=0)
    assert first["mlm_loss"] == pytest.approx(second["mlm_loss"], abs=1e-6)
    # The loss is the mean over the 6 masked tokens (not over all 8 slots).
    logits = to_numpy(pretrainer(inputs)["mlm"])
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, labels["mlm"][..., None], -1)[..., 0]
    expected = -(picked * weights["mlm"]).sum() / weights["mlm"].sum()
    assert first["mlm_loss"] == pytest.approx(expected, abs=1e-4)


def test_pretrainer_learns_and_round_trips_through_keras_file(tmp_path):
    tokenizer = BertTokenizer(VOCAB, sequence_length=LENGTH)
    pretrainer = BertPretrainer(tiny_backbone(), tokenizer=tokenizer)
    pretrainer.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    inputs, labels, weights = pretraining_batch()
    history = pretrainer.fit(inputs, labels, sample_weight=weights, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    path = str(tmp_path / "pretrainer.keras")
    pretrainer.save(path)
    restored = keras.models.load_model(path)
    assert restored.tokenizer.vocabulary == VOCAB  # the vocabulary travels as an asset
    np.testing.assert_allclose(
        to_numpy(restored(inputs)["mlm"]), to_numpy(pretrainer(inputs)["mlm"]), atol=1e-5
    )


def _sentiment_data(tokenizer):
    texts = ["good movie", "very good", "bad movie", "very bad", "not good", "not bad ."] * 4
    labels = np.array([1, 1, 0, 0, 0, 1] * 4, "int32")
    return texts, labels, tokenizer.encode(texts)


def test_classifier_fits_without_warnings_and_classifies_raw_text(caplog):
    tokenizer = BertTokenizer(VOCAB, sequence_length=LENGTH)
    # Mean pooling: at width 8 with BERT's N(0, 0.02) init the [CLS] output
    # hardly differs between texts, so a "cls" head learns slowly and by luck.
    classifier = BertClassifier(tiny_backbone(dropout=0.1), num_classes=2, tokenizer=tokenizer,
                                label_names=["negative", "positive"], pooling="mean")
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    texts, labels, encoded = _sentiment_data(tokenizer)
    x = {k: np.asarray(v) for k, v in encoded.items()}
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        history = classifier.fit(x, labels, epochs=40, batch_size=8, verbose=0)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "mask" in m.lower()], messages
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    # Learned: at least 5 of the 6 phrases right once dropout is off (chance
    # is 3; over seeds 0-5 the one that may stay wrong is a "not ..." phrase).
    learned = np.argmax(classifier.predict(texts, verbose=0), axis=-1)
    assert (learned == labels).mean() >= 5 / 6 - 1e-6

    probabilities = classifier.predict(["good movie", "bad movie"], verbose=0)
    assert probabilities.shape == (2, 2)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-6)
    assert classifier.classify(["very good", "very bad"]) == ["positive", "negative"]


def test_classifier_round_trips_through_keras_file_and_zoo_presets(tmp_path):
    tokenizer = BertTokenizer(VOCAB, sequence_length=LENGTH)
    classifier = BertClassifier(tiny_backbone(), num_classes=2, tokenizer=tokenizer,
                                label_names=["negative", "positive"])
    texts = ["good movie", "not bad ."]
    expected = classifier.predict(texts, verbose=0)

    path = str(tmp_path / "classifier.keras")
    classifier.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored.predict(texts, verbose=0), expected, atol=1e-6)
    assert restored.label_names == ["negative", "positive"]

    folder = zoo.save(classifier, str(tmp_path / "preset"), metrics={"accuracy": 0.5})
    loaded = zoo.load(folder)
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), expected, atol=1e-6)
    assert loaded.tokenizer.vocabulary == VOCAB


def test_classifier_trains_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    tokenizer = BertTokenizer(VOCAB, sequence_length=LENGTH)
    classifier = BertClassifier(tiny_backbone(), num_classes=2, tokenizer=tokenizer)
    assert classifier.backbone.compute_dtype == "float16"
    classifier.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)
    assert isinstance(classifier.optimizer, keras.optimizers.LossScaleOptimizer)
    texts, labels, encoded = _sentiment_data(tokenizer)
    x = {k: np.asarray(v) for k, v in encoded.items()}
    history = classifier.fit(x, labels, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    probabilities = classifier.predict(x, verbose=0)
    assert probabilities.dtype == np.float32 and np.isfinite(probabilities).all()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="`backbone` must be a BertBackbone"):
        BertClassifier(keras.layers.Dense(2), num_classes=2)
    with pytest.raises(ValueError, match="`label_names` must have `num_classes`=3"):
        BertClassifier(tiny_backbone(), num_classes=3, label_names=["a", "b"])
    with pytest.raises(ValueError, match="no tokenizer"):
        BertClassifier(tiny_backbone(), num_classes=2).predict(["text"])


def test_mean_pooling_averages_the_real_tokens_only():
    classifier = BertClassifier(tiny_backbone(), num_classes=2, pooling="mean")
    classifier.output_dense.bias.assign(np.array([0.3, -0.2], "float32"))
    inputs, _, _ = pretraining_batch()
    inputs = {k: inputs[k] for k in ("token_ids", "segment_ids", "padding_mask")}
    inputs["padding_mask"] = (np.arange(LENGTH)[None, :] < np.array([[8], [5], [3], [6]])).astype("int32")
    sequence = to_numpy(classifier.backbone(inputs)["sequence_output"])  # (B, T, D)
    mask = inputs["padding_mask"][..., None]
    mean = (sequence * mask).sum(1) / mask.sum(1)
    logits = mean @ to_numpy(classifier.output_dense.kernel) + to_numpy(classifier.output_dense.bias)
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(to_numpy(classifier(inputs)), expected, atol=1e-5)
    # Padded positions do not count: changing their ids changes nothing.
    changed = dict(inputs, token_ids=np.where(inputs["padding_mask"] == 1, inputs["token_ids"], 7))
    np.testing.assert_allclose(to_numpy(classifier(changed)), expected, atol=1e-5)
    assert BertClassifier.from_config(classifier.get_config()).pooling == "mean"
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        BertClassifier(tiny_backbone(), num_classes=2, pooling="max")


@pytest.mark.tensorflow  # inspects a TensorFlow graph
def test_masked_lm_gradient_never_builds_a_batch_of_embedding_tables():
    # einsum("bpd,vd->bpv") made TensorFlow broadcast the (V, D) table over
    # the batch; its gradient was a (B, D, V) tensor summed over B.
    import tensorflow as tf

    batch, vocabulary, hidden = 4, len(VOCAB), 8
    pretrainer = BertPretrainer(tiny_backbone())
    inputs, _, _ = pretraining_batch()

    @tf.function
    def gradients():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(pretrainer(inputs)["mlm"] ** 2)
        return tape.gradient(loss, pretrainer.backbone.token_embedding.embeddings)

    graph = gradients.get_concrete_function().graph
    shapes = [tuple(t.shape) for op in graph.get_operations() for t in op.outputs if t.shape.rank == 3]
    assert (batch, hidden, vocabulary) not in shapes and (batch, vocabulary, hidden) not in shapes
    assert (batch, 2, vocabulary) in shapes  # the logits themselves are there
