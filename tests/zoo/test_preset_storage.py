"""zoo.save(..., weights_dtype="float16"): half the bytes, float32 after loading, refusals."""

import hashlib
import json
import os
import shutil

import h5py
import keras
import numpy as np
import pytest

import zoo
from zoo import presets

from tests.zoo.test_presets import TEXTS, rehash, tiny_classifier


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """One model saved twice: float32 and float16 storage."""
    keras.utils.set_random_seed(0)
    model = tiny_classifier(embedding_dim=16)
    root = tmp_path_factory.mktemp("storage")
    wide = zoo.save(model, str(root / "float32"), recipe="classifier")
    narrow = zoo.save(model, str(root / "float16"), recipe="classifier", weights_dtype="float16")
    return model, wide, narrow


def stored_arrays(folder):
    arrays = {}
    with h5py.File(os.path.join(folder, presets.WEIGHTS_FILE), "r") as f:
        f.visititems(lambda name, item: arrays.update({name: item[()]}) if isinstance(item, h5py.Dataset) else None)
    return arrays


def test_float16_file_holds_every_weight_rounded_to_float16(pair):
    _, wide, narrow = pair
    wide_arrays, narrow_arrays = stored_arrays(wide), stored_arrays(narrow)
    assert sorted(wide_arrays) == sorted(narrow_arrays)
    for name, values in wide_arrays.items():
        assert values.dtype == np.float32 and narrow_arrays[name].dtype == np.float16, name
        np.testing.assert_array_equal(narrow_arrays[name], values.astype(np.float16))
    with open(os.path.join(narrow, presets.METADATA_FILE)) as f:
        assert json.load(f)["weights_dtype"] == "float16"
    with open(os.path.join(wide, presets.METADATA_FILE)) as f:
        assert json.load(f)["weights_dtype"] == "float32"


def test_float16_storage_halves_the_weight_bytes(tmp_path):
    inputs = keras.Input((256,))
    model = keras.Model(inputs, keras.layers.Dense(256)(inputs))  # 65,792 weights
    wide = zoo.save(model, str(tmp_path / "wide"))
    narrow = zoo.save(model, str(tmp_path / "narrow"), weights_dtype="float16")
    wide_bytes = os.path.getsize(os.path.join(wide, presets.WEIGHTS_FILE))
    narrow_bytes = os.path.getsize(os.path.join(narrow, presets.WEIGHTS_FILE))
    assert wide_bytes > 4 * 65_792 and narrow_bytes < 2 * 65_792 + 20_000


def test_loaded_float16_preset_has_float32_variables_and_close_outputs(pair):
    model, _, narrow = pair
    restored = zoo.load(narrow)
    assert {v.dtype for v in restored.weights} == {"float32"}
    for original, loaded in zip(model.weights, restored.weights):
        expected = keras.ops.convert_to_numpy(original).astype(np.float16).astype(np.float32)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded), expected)
    ids = model.tokenize(TEXTS)
    np.testing.assert_allclose(
        restored.predict(ids, verbose=0), model.predict(ids, verbose=0), atol=2e-3, rtol=0
    )


def test_changed_byte_of_a_float16_file_is_refused(pair, tmp_path):
    folder = str(tmp_path / "copy")
    shutil.copytree(pair[2], folder)
    path = os.path.join(folder, presets.WEIGHTS_FILE)
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(zoo.PresetError, match="model.weights.h5: sha256 does not match"):
        zoo.load(folder)


def test_float32_weights_in_a_float16_preset_are_refused_whole(pair, tmp_path):
    """metadata says float16 but the file holds float32 (hashes rewritten to match)."""
    folder = str(tmp_path / "copy")
    shutil.copytree(pair[2], folder)
    shutil.copy(os.path.join(pair[1], presets.WEIGHTS_FILE), os.path.join(folder, presets.WEIGHTS_FILE))
    rehash(folder)
    with pytest.raises(zoo.PresetError, match=r"weights do not fit .* float32, expected .* float16"):
        zoo.load(folder)


def test_one_float64_weight_among_float16_is_refused(pair, tmp_path):
    folder = str(tmp_path / "copy")
    shutil.copytree(pair[2], folder)
    with h5py.File(os.path.join(folder, presets.WEIGHTS_FILE), "r+") as f:
        name = "layers/dense/vars/1"
        values = f[name][()]
        del f[name]
        f.create_dataset(name, data=values.astype("float64"))
    rehash(folder)
    with pytest.raises(zoo.PresetError, match=r"1 differences: layers/dense/vars/1 is \(4,\) float64"):
        zoo.load(folder)


@pytest.mark.parametrize("dtype", ["bfloat16", "int8"])
def test_a_weights_dtype_zoo_cannot_read_is_refused(pair, tmp_path, dtype):
    folder = str(tmp_path / "copy")
    shutil.copytree(pair[2], folder)
    path = os.path.join(folder, presets.METADATA_FILE)
    with open(path) as f:
        metadata = json.load(f)
    metadata["weights_dtype"] = dtype
    with open(path, "w") as f:
        json.dump(metadata, f)
    with pytest.raises(zoo.PresetError, match=f"weights_dtype '{dtype}' is not one zoo.load reads"):
        zoo.load(folder)


def test_save_refuses_an_unknown_weights_dtype(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    with pytest.raises(ValueError, match=r"`weights_dtype` must be one of .* received 'int8'"):
        zoo.save(model, str(tmp_path / "p"), weights_dtype="int8")


def test_save_refuses_weights_beyond_float16_range(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.layers[-1].kernel.assign(np.full((2, 1), 1e5, "float32"))
    with pytest.raises(ValueError, match="beyond float16's range"):
        zoo.save(model, str(tmp_path / "p"), weights_dtype="float16")


def test_metadata_of_old_presets_without_weights_dtype_still_loads(pair, tmp_path):
    folder = str(tmp_path / "copy")
    shutil.copytree(pair[1], folder)
    path = os.path.join(folder, presets.METADATA_FILE)
    with open(path) as f:
        metadata = json.load(f)
    del metadata["weights_dtype"]
    with open(path, "w") as f:
        json.dump(metadata, f)
    model = pair[0]
    ids = model.tokenize(TEXTS)
    np.testing.assert_array_equal(zoo.load(folder).predict(ids, verbose=0), model.predict(ids, verbose=0))


def test_card_says_how_weights_are_stored(pair):
    with open(os.path.join(pair[2], presets.CARD_FILE)) as f:
        assert "- Weights stored as: float16" in f.read()


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_saving_float16_twice_gives_identical_weight_files(pair, tmp_path):
    again = zoo.save(pair[0], str(tmp_path / "again"), recipe="classifier", weights_dtype="float16")
    assert sha256(os.path.join(again, presets.WEIGHTS_FILE)) == sha256(os.path.join(pair[2], presets.WEIGHTS_FILE))
