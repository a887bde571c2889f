"""zoo.hf_folder: the config and tensor readers shared by the BERT, GPT and ViT loaders."""

import json
import os

import numpy as np
import pytest

from zoo import hf_folder


def _write_config(folder, config):
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f)


def test_read_config_checks_the_model_type(tmp_path):
    _write_config(tmp_path, {"model_type": "vit", "hidden_size": 8})
    assert hf_folder.read_config(tmp_path, "vit") == {"model_type": "vit", "hidden_size": 8}
    with pytest.raises(ValueError, match="'gpt2' checkpoint.*received model_type 'vit'"):
        hf_folder.read_config(tmp_path, "gpt2")


def test_read_config_without_a_model_type_is_taken_as_asked(tmp_path):
    _write_config(tmp_path, {"n_layer": 1})
    assert hf_folder.read_config(tmp_path, "gpt2")["n_layer"] == 1


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        hf_folder.read_config(tmp_path, "bert")
    with pytest.raises(FileNotFoundError, match="neither model.safetensors nor pytorch_model.bin"):
        hf_folder.read_tensors(tmp_path)


def test_read_tensors_from_safetensors_and_from_pytorch_bin(tmp_path):
    from safetensors.numpy import save_file

    tensors = {"a.weight": np.arange(6, dtype="float32").reshape(2, 3)}
    (tmp_path / "st").mkdir()
    save_file(tensors, str(tmp_path / "st" / "model.safetensors"))
    np.testing.assert_array_equal(hf_folder.read_tensors(tmp_path / "st")["a.weight"], tensors["a.weight"])

    torch = pytest.importorskip("torch")
    (tmp_path / "bin").mkdir()
    torch.save({"a.weight": torch.arange(6.0).reshape(2, 3).half()}, str(tmp_path / "bin" / "pytorch_model.bin"))
    read = hf_folder.read_tensors(tmp_path / "bin")["a.weight"]
    assert read.dtype == np.float32  # half precision is widened
    np.testing.assert_array_equal(read, tensors["a.weight"])
