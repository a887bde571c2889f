"""zoo.save / zoo.load / zoo.list: round trips, hashes, refusals."""

import hashlib
import json
import os
import shutil

import keras
import numpy as np
import pytest

import zoo
from zoo import presets, recipes
from zoo.classifier import EncoderClassifier, data

from tests.conftest import to_numpy

TEXTS = ["the cat saw red then a blue car", "green dog", "yellow and red sat near the house"]


def tiny_classifier(embedding_dim=8, num_layers=1):
    return EncoderClassifier(
        list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS),
        sequence_length=12, embedding_dim=embedding_dim, num_layers=num_layers,
        intermediate_dim=16,
    )


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = tiny_classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)  # the optimizer now has state to leave out
    folder = str(tmp_path_factory.mktemp("presets") / "tiny-classifier")
    zoo.save(model, folder, metrics={"accuracy": np.float32(0.75)}, command="pytest",
             data="generated", recipe="classifier")
    return model, folder


@pytest.fixture
def copy(saved, tmp_path):
    """A fresh copy of the saved preset that a test may damage."""
    folder = str(tmp_path / "copy")
    shutil.copytree(saved[1], folder)
    return folder


def rehash(folder):
    """Rewrite metadata.json's hashes, as a careless (or malicious) edit would."""
    path = os.path.join(folder, "metadata.json")
    with open(path) as f:
        metadata = json.load(f)
    for name in metadata["files"]:
        with open(os.path.join(folder, name), "rb") as f:
            metadata["files"][name] = hashlib.sha256(f.read()).hexdigest()
    with open(path, "w") as f:
        json.dump(metadata, f)


def test_round_trip_gives_identical_predictions(saved):
    model, folder = saved
    restored = zoo.load(folder)
    assert type(restored) is EncoderClassifier
    ids = model.tokenize(TEXTS)
    np.testing.assert_array_equal(model.predict(ids, verbose=0), restored.predict(ids, verbose=0))
    assert restored.classify(TEXTS) == model.classify(TEXTS)
    assert restored.get_config() == model.get_config()


def test_folder_contents_metadata_and_card(saved):
    _, folder = saved
    assert sorted(os.listdir(folder)) == ["README.md", "config.json", "metadata.json", "model.weights.h5"]
    with open(os.path.join(folder, "metadata.json")) as f:
        metadata = json.load(f)
    for name in ("config.json", "model.weights.h5"):
        with open(os.path.join(folder, name), "rb") as f:
            assert metadata["files"][name] == hashlib.sha256(f.read()).hexdigest()
    assert set(metadata["files"]) == {"config.json", "model.weights.h5"}
    assert metadata["metrics"] == {"accuracy": 0.75}
    assert metadata["command"] == "pytest" and metadata["recipe"] == "classifier"
    assert metadata["versions"]["keras"] == keras.__version__
    card = open(os.path.join(folder, "README.md")).read()
    assert "| accuracy | 0.75 |" in card and "tiny-classifier" in card


def test_preset_holds_no_optimizer_state(saved):
    import h5py

    with h5py.File(os.path.join(saved[1], "model.weights.h5")) as f:
        assert "optimizer" not in f and "layers" in f


@pytest.mark.parametrize("name", ["model.weights.h5", "config.json"])
def test_changed_byte_is_refused_naming_the_file(copy, name):
    path = os.path.join(copy, name)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(zoo.PresetError, match=rf"{name}: sha256 does not match"):
        zoo.load(copy)


@pytest.mark.parametrize("name", ["model.weights.h5", "config.json", "metadata.json"])
def test_missing_file_is_refused_naming_the_file(copy, name):
    os.remove(os.path.join(copy, name))
    with pytest.raises(zoo.PresetError, match=rf"{name}: missing"):
        zoo.load(copy)


def test_unlisted_file_is_refused(copy):
    with open(os.path.join(copy, "extra.bin"), "wb") as f:
        f.write(b"surprise")
    with pytest.raises(zoo.PresetError, match=r"extra.bin: not listed"):
        zoo.load(copy)


def test_truncated_weights_are_refused_even_with_matching_hashes(copy):
    path = os.path.join(copy, "model.weights.h5")
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    with pytest.raises(zoo.PresetError, match="sha256"):
        zoo.load(copy)
    rehash(copy)
    with pytest.raises(zoo.PresetError, match=r"model.weights.h5: not a readable weights file"):
        zoo.load(copy)


@pytest.mark.parametrize("other", [dict(embedding_dim=16), dict(num_layers=2)],
                         ids=["other-shapes", "extra-layer"])
def test_weights_of_another_architecture_are_refused(copy, tmp_path, other):
    other_folder = str(tmp_path / "other")
    zoo.save(tiny_classifier(**other), other_folder)
    shutil.copy(os.path.join(other_folder, "model.weights.h5"), os.path.join(copy, "model.weights.h5"))
    rehash(copy)  # hashes agree: only the architecture check can catch it
    with pytest.raises(zoo.PresetError, match=r"model.weights.h5: weights do not fit the architecture"):
        zoo.load(copy)


def test_shipped_presets_are_found_by_name_and_listed(saved, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shutil.copytree(saved[1], shipped / "tiny-classifier")
    monkeypatch.setattr(presets, "SHIPPED_DIR", str(shipped))
    assert zoo.list() == {"tiny-classifier": recipes.get("classifier").description}
    restored = zoo.load("tiny-classifier")
    ids = saved[0].tokenize(TEXTS)
    np.testing.assert_array_equal(saved[0].predict(ids, verbose=0), restored.predict(ids, verbose=0))
    with pytest.raises(zoo.PresetError, match=r"no preset 'nope'.*shipped: tiny-classifier"):
        zoo.load("nope")


def test_save_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"`directory` must be empty or hold a preset"):
        zoo.save(tiny_classifier(), str(tmp_path))
    assert os.listdir(tmp_path) == ["notes.txt"]


@keras.saving.register_keras_serializable(package="zoo_tests")
class ScaledByFile(keras.Model):
    """A model whose input scale lives in an asset file, not in the config."""

    def __init__(self, **kwargs):
        inputs = keras.Input((2,))
        super().__init__(inputs, keras.layers.Dense(1, name="dense")(inputs), **kwargs)
        self.scale = 1.0
        self.asset_calls = []

    def save_assets(self, directory):
        with open(os.path.join(directory, "scale.txt"), "w") as f:
            f.write(str(self.scale))

    def load_assets(self, directory):
        self.asset_calls.append(directory)
        with open(os.path.join(directory, "scale.txt")) as f:
            self.scale = float(f.read())

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}


def test_assets_are_saved_hashed_and_loaded(tmp_path):
    model = ScaledByFile()
    model.scale = 2.5
    folder = str(tmp_path / "scaled")
    zoo.save(model, folder)
    with open(os.path.join(folder, "metadata.json")) as f:
        assert "assets/scale.txt" in json.load(f)["files"]
    restored = zoo.load(folder)
    assert restored.scale == 2.5 and restored.asset_calls == [os.path.join(folder, "assets")]
    x = np.ones((1, 2), "float32")
    np.testing.assert_array_equal(to_numpy(model(x)), to_numpy(restored(x)))
    with open(os.path.join(folder, "assets", "scale.txt"), "w") as f:
        f.write("3.0")
    with pytest.raises(zoo.PresetError, match=r"scale.txt: sha256 does not match"):
        zoo.load(folder)
