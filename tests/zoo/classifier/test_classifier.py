"""zoo.classifier: the generated task, the TSV reader, EncoderClassifier."""

import warnings

import keras
import numpy as np
import pytest

from zoo.classifier import EncoderClassifier, data


def tiny(**changes):
    settings = dict(sequence_length=12, embedding_dim=8, intermediate_dim=16)
    settings.update(changes)
    return EncoderClassifier(list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS), **settings)


def test_first_colour_task_labels_the_colour_that_comes_first():
    texts, labels = data.first_colour_task(50, length=10, seed=7)
    assert labels.dtype == np.int32 and len(texts) == 50
    for text, label in zip(texts, labels):
        words = text.split()
        colours = [w for w in words if w in data.COLOURS]
        assert len(words) == 10 and len(colours) == 2 and colours[0] != colours[1]
        assert data.COLOURS[label] == colours[0]
    assert data.first_colour_task(50, length=10, seed=7)[0] == texts  # seeded
    # every colour comes first sometimes: a constant answer cannot win
    assert set(data.first_colour_task(200)[1].tolist()) == {0, 1, 2, 3}


def test_load_tsv_maps_sorted_label_names(tmp_path):
    path = tmp_path / "small.tsv"
    path.write_text("pos\tgood film\nneg\tbad plot\n\npos\tgreat\n", encoding="utf-8")
    texts, labels, names = data.load_tsv(str(path))
    assert texts == ["good film", "bad plot", "great"]
    assert names == ["neg", "pos"] and labels.tolist() == [1, 0, 1]
    path.write_text("pos good film\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: expected `label<TAB>text`"):
        data.load_tsv(str(path))
    with pytest.raises(FileNotFoundError, match="nowhere.tsv"):
        data.load_tsv(str(tmp_path / "nowhere.tsv"))


def test_build_vocabulary_keeps_the_most_frequent_words():
    assert data.build_vocabulary(["b a b", "c B a b"], max_size=2) == ["b", "a"]


def test_tokenize_pads_cuts_and_marks_unknown_words():
    model = tiny(sequence_length=4)
    vocabulary = model.vocabulary
    ids = model.tokenize(["Red zebra", "the a cat dog saw"])
    red, the, a, cat, dog = (vocabulary.index(w) + 2 for w in ("red", "the", "a", "cat", "dog"))
    assert ids.tolist() == [[red, 1, 0, 0], [the, a, cat, dog]]
    assert ids.dtype == np.int32


def test_padding_gets_no_attention_and_does_not_change_the_answer():
    model = tiny()
    short = "blue cat red"
    (explained,) = model.explain([short])
    assert [w for w, _ in explained] == ["blue", "cat", "red"]
    np.testing.assert_allclose(sum(w for _, w in explained), 1.0, atol=1e-5)  # padding got 0
    # changing what sits behind the padding mask changes nothing
    ids = model.tokenize([short])
    before = model.predict(ids, verbose=0)
    embedding = model.get_layer("embedding").token_embedding
    table = keras.ops.convert_to_numpy(embedding.embeddings).copy()
    table[0] = 100.0  # the padding row
    embedding.embeddings.assign(table)
    np.testing.assert_allclose(model.predict(ids, verbose=0), before, atol=1e-6)


def test_keras_file_round_trip_and_config(tmp_path):
    model = tiny(num_layers=2, num_heads=2, dropout=0.1)
    texts = ["the red dog", "green and blue"]
    path = str(tmp_path / "model.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert restored.get_config() == model.get_config()
    np.testing.assert_array_equal(
        restored.predict(model.tokenize(texts), verbose=0), model.predict(model.tokenize(texts), verbose=0)
    )
    assert restored.classify(texts) == model.classify(texts)


def test_fit_prints_no_mask_warnings_and_learns():
    keras.utils.set_random_seed(1)
    model = tiny()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    texts, labels = data.first_colour_task(64, seed=2)
    x = model.tokenize(texts)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, labels, batch_size=16, epochs=2, verbose=0)
    assert not [str(w.message) for w in caught if "mask" in str(w.message).lower()]
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
