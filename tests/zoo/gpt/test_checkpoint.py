"""zoo.gpt.load_hf_checkpoint against transformers' GPT-2: logits and greedy tokens."""

import json
import os

import numpy as np
import pytest

from tests.conftest import require_module, to_numpy

transformers = require_module("transformers", "the reference GPT-2 implementation")
torch = require_module("torch", "runs the reference GPT-2")

from zoo.gpt import load_hf_checkpoint  # noqa: E402


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    """A small randomly initialised GPT2LMHeadModel, saved with save_pretrained."""
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=97, n_positions=40, n_embd=32, n_layer=2, n_head=4,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    folder = str(tmp_path_factory.mktemp("gpt2"))
    model.save_pretrained(folder)
    return folder, model


def test_same_logits_as_transformers(gpt2_folder):
    folder, reference = gpt2_folder
    ours = load_hf_checkpoint(folder)
    ids = np.random.default_rng(0).integers(0, 97, (3, 17))
    with torch.no_grad():
        expected = reference(torch.tensor(ids)).logits.numpy()
    logits = to_numpy(ours(ids))
    assert logits.shape == (3, 17, 97)
    np.testing.assert_allclose(logits, expected, atol=1e-4)


def test_same_greedy_tokens_as_transformers(gpt2_folder):
    folder, reference = gpt2_folder
    ours = load_hf_checkpoint(folder)
    prompts = np.random.default_rng(1).integers(0, 97, (2, 5))
    with torch.no_grad():
        expected = reference.generate(
            torch.tensor(prompts), attention_mask=torch.ones(2, 5, dtype=torch.long),
            max_new_tokens=20, do_sample=False, pad_token_id=0,
        ).numpy()
    tokens = ours.generate(prompts, max_new_tokens=20)
    np.testing.assert_array_equal(tokens, expected)
    assert len(set(tokens[:, 5:].ravel().tolist())) > 1  # not one token repeated


def _rewrite_tensors(folder, tmp_path, change):
    """A copy of `folder` whose tensors went through `change(dict)`."""
    from safetensors.numpy import load_file, save_file

    tensors = load_file(os.path.join(folder, "model.safetensors"))
    change(tensors)
    copy = tmp_path / "changed"
    copy.mkdir()
    save_file(tensors, str(copy / "model.safetensors"))
    with open(os.path.join(folder, "config.json")) as f:
        (copy / "config.json").write_text(f.read())
    return str(copy)


def test_a_missing_tensor_is_named(gpt2_folder, tmp_path):
    folder, _ = gpt2_folder
    changed = _rewrite_tensors(folder, tmp_path, lambda t: t.pop("transformer.h.1.mlp.c_fc.bias"))
    with pytest.raises(ValueError, match=r"missing tensors: h\.1\.mlp\.c_fc\.bias"):
        load_hf_checkpoint(changed)


def test_a_wrong_shape_is_named(gpt2_folder, tmp_path):
    folder, _ = gpt2_folder

    def cut(tensors):
        tensors["transformer.h.0.attn.c_attn.weight"] = tensors["transformer.h.0.attn.c_attn.weight"][:, :90]

    with pytest.raises(ValueError, match=r"h\.0\.attn\.c_attn\.weight has shape \(32, 90\)"):
        load_hf_checkpoint(_rewrite_tensors(folder, tmp_path, cut))


def test_an_unknown_tensor_is_named(gpt2_folder, tmp_path):
    folder, _ = gpt2_folder

    def add(tensors):
        tensors["transformer.h.0.attn.extra"] = np.zeros((3,), "float32")

    with pytest.raises(ValueError, match=r"unknown tensors: h\.0\.attn\.extra"):
        load_hf_checkpoint(_rewrite_tensors(folder, tmp_path, add))


def test_an_unsupported_config_is_a_clear_error(gpt2_folder, tmp_path):
    folder, _ = gpt2_folder
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    config["activation_function"] = "swish"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="activation_function"):
        load_hf_checkpoint(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_hf_checkpoint(str(tmp_path / "nowhere"))
