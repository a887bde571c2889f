"""load_hf_checkpoint against transformers; weight parity with keras_hub's ViTBackbone."""

import json

import numpy as np
import pytest

from tests.conftest import require_module, to_numpy
from zoo.vit import ViT, load_hf_checkpoint

HF_SIZES = dict(image_size=16, patch_size=4, hidden_size=32, num_hidden_layers=2,
                num_attention_heads=4, intermediate_size=64, num_channels=3)


def random_hf_model(model_class, **config):
    torch = require_module("torch", "reference ViT")
    transformers = require_module("transformers", "reference ViT")
    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.ViTConfig(**{**HF_SIZES, **config})).eval()
    with torch.no_grad():  # HF initialises biases / norms to 0 / 1: make every weight count
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    return model


def pixel_values(batch=2, size=16, seed=0):
    return np.random.default_rng(seed).normal(size=(batch, 3, size, size)).astype("float32")


def test_vit_model_matches_transformers(tmp_path):
    torch = require_module("torch", "reference ViT")
    reference = random_hf_model("ViTModel")
    reference.save_pretrained(tmp_path)
    model = load_hf_checkpoint(str(tmp_path))
    assert model.num_classes is None and model.representation_size == 32
    assert model.layer_norm_epsilon == 1e-12

    x = pixel_values()
    with torch.no_grad():
        expected = reference(pixel_values=torch.from_numpy(x))
    outputs = model.features(x.transpose(0, 2, 3, 1))  # ours is channels last
    np.testing.assert_allclose(
        to_numpy(outputs["sequence_output"]), expected.last_hidden_state.numpy(), atol=1e-4
    )
    np.testing.assert_allclose(
        to_numpy(outputs["pooled_output"]), expected.pooler_output.numpy(), atol=1e-4
    )


def test_classifier_checkpoint_in_bin_format_with_preprocessor(tmp_path):
    torch = require_module("torch", "reference ViT")
    labels = {0: "cat", 1: "dog", 2: "fox"}
    reference = random_hf_model("ViTForImageClassification", num_labels=3, id2label=labels,
                                label2id={v: k for k, v in labels.items()})
    reference.save_pretrained(tmp_path, safe_serialization=False)  # pytorch_model.bin
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(
        {"do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
         "image_mean": [0.5, 0.4, 0.3], "image_std": [0.2, 0.25, 0.3]}
    ))
    model = load_hf_checkpoint(str(tmp_path))
    assert model.class_names == ["cat", "dog", "fox"]

    raw = np.random.default_rng(1).integers(0, 256, (2, 16, 16, 3)).astype("float32")
    processed = (raw / 255 - np.array([0.5, 0.4, 0.3])) / np.array([0.2, 0.25, 0.3])
    with torch.no_grad():
        logits = reference(pixel_values=torch.from_numpy(processed.transpose(0, 3, 1, 2).astype("float32"))).logits
    expected = torch.softmax(logits, dim=-1).numpy()
    np.testing.assert_allclose(to_numpy(model(raw)), expected, atol=1e-4)


def test_fine_tuning_size_interpolates_positions(tmp_path):
    random_hf_model("ViTModel").save_pretrained(tmp_path)
    model = load_hf_checkpoint(str(tmp_path), image_size=24)
    assert model.num_tokens == 1 + 6 * 6
    original = load_hf_checkpoint(str(tmp_path))
    np.testing.assert_array_equal(
        to_numpy(model.patch_embedding.position_embedding.embeddings)[0],
        to_numpy(original.patch_embedding.position_embedding.embeddings)[0],
    )


def test_unknown_weights_and_missing_files_are_errors(tmp_path):
    safetensors = require_module("safetensors", "checkpoint format")
    from safetensors.numpy import load_file, save_file

    random_hf_model("ViTModel").save_pretrained(tmp_path)
    tensors = load_file(str(tmp_path / "model.safetensors"))
    tensors["encoder.extra.weight"] = np.zeros(3, "float32")
    save_file(tensors, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="not understood.*encoder.extra.weight"):
        load_hf_checkpoint(str(tmp_path))
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="neither model.safetensors nor pytorch_model.bin"):
        load_hf_checkpoint(str(tmp_path))
    assert safetensors is not None


def copy_into_keras_hub(ours, theirs):
    """Our ViT's weights into keras_hub's ViTBackbone of the same size."""
    embedding = ours.patch_embedding
    p, channels, width = ours.patch_size, ours.channels, ours.hidden_dim
    hub_embedding = theirs.get_layer("vit_patching_and_embedding")
    hub_embedding.patch_embedding.kernel.assign(
        to_numpy(embedding.projection.kernel).reshape(p, p, channels, width)  # Conv2D (p, p, C, D)
    )
    hub_embedding.patch_embedding.bias.assign(to_numpy(embedding.projection.bias))
    hub_embedding.class_token.assign(to_numpy(embedding.class_token))
    hub_embedding.position_embedding.embeddings.assign(
        to_numpy(embedding.position_embedding.embeddings)
    )
    encoder = theirs.get_layer("vit_encoder")
    for block, hub_block in zip(ours.blocks, encoder.encoder_layers):
        pairs = [
            (block.self_attention_norm, hub_block.layer_norm_1),
            (block.feedforward_norm, hub_block.layer_norm_2),
            (block.self_attention.query_dense, hub_block.mha._query_dense),
            (block.self_attention.key_dense, hub_block.mha._key_dense),
            (block.self_attention.value_dense, hub_block.mha._value_dense),
            (block.self_attention.output_dense, hub_block.mha._output_dense),
            (block.feedforward_intermediate, hub_block.mlp.dense_1),
            (block.feedforward_output, hub_block.mlp.dense_2),
        ]
        for mine, hub in pairs:
            hub.set_weights(mine.get_weights())
    encoder.layer_norm.set_weights(ours.encoder_norm.get_weights())


def test_matches_keras_hub_vit_backbone_with_copied_weights():
    keras_hub = require_module("keras_hub", "reference ViT")
    ours = ViT(16, 4, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64, num_classes=None)
    rng = np.random.default_rng(0)
    for weight in ours.weights:  # non-trivial class token, norms and biases
        weight.assign(to_numpy(weight) + 0.05 * rng.normal(size=weight.shape))
    theirs = keras_hub.models.ViTBackbone(
        image_shape=(16, 16, 3), patch_size=4, num_layers=2, num_heads=4,
        hidden_dim=32, mlp_dim=64,
    )
    assert theirs.count_params() == ours.count_params()
    copy_into_keras_hub(ours, theirs)
    x = rng.normal(size=(2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(ours.features(x)["sequence_output"]), to_numpy(theirs(x)), atol=1e-5
    )
