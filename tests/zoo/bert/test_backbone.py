"""BertBackbone: parity with keras_hub, padding, saving, mixed precision, errors."""

import keras
import numpy as np
import pytest

from tests.conftest import require_module, to_numpy
from zoo.bert import BertBackbone

VOCAB, LAYERS, HEADS, HIDDEN, FFN, MAX_LEN = 60, 2, 2, 16, 32, 12


def tiny_backbone(**kwargs):
    options = dict(max_sequence_length=MAX_LEN, dropout=0.0)
    options.update(kwargs)
    return BertBackbone(VOCAB, LAYERS, HEADS, HIDDEN, FFN, **options)


def random_inputs(batch=3, length=10, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, length + 1, size=batch)
    lengths[0] = length
    padding_mask = np.arange(length)[None, :] < lengths[:, None]
    token_ids = np.where(padding_mask, rng.integers(5, VOCAB, size=(batch, length)), 0)
    segment_ids = np.where(np.arange(length)[None, :] >= lengths[:, None] // 2, 1, 0) * padding_mask
    return {
        "token_ids": token_ids.astype("int32"),
        "segment_ids": segment_ids.astype("int32"),
        "padding_mask": padding_mask.astype("int32"),
    }


def test_matches_keras_hub_bert_backbone_with_copied_weights():
    keras_hub = require_module("keras_hub", "the reference implementation for parity")
    theirs = keras_hub.models.BertBackbone(
        VOCAB, LAYERS, HEADS, HIDDEN, FFN, dropout=0.0, max_sequence_length=MAX_LEN
    )
    ours = tiny_backbone(gelu_approximate=True)
    # Same variable paths (the blocks use keras_hub's sub-layer names).
    theirs_by_path = {v.path: v for v in theirs.weights}
    assert sorted(theirs_by_path) == sorted(v.path for v in ours.weights)
    for variable in ours.weights:
        variable.assign(theirs_by_path[variable.path])
    inputs = random_inputs()
    expected = theirs(inputs)
    received = ours(inputs)
    real = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(
        to_numpy(received["sequence_output"])[real], to_numpy(expected["sequence_output"])[real], atol=1e-5
    )
    np.testing.assert_allclose(
        to_numpy(received["pooled_output"]), to_numpy(expected["pooled_output"]), atol=1e-5
    )


def test_padding_does_not_change_real_positions():
    backbone = tiny_backbone()
    inputs = random_inputs(batch=1, length=6)
    padded = {k: np.pad(v, ((0, 0), (0, 4))) for k, v in inputs.items()}
    padded["token_ids"][:, 6:] = 7  # whatever sits under the padding mask
    short = to_numpy(backbone(inputs)["sequence_output"])
    long = to_numpy(backbone(padded)["sequence_output"])
    np.testing.assert_allclose(long[:, :6], short, atol=1e-5)


def test_exact_and_tanh_gelu_differ_and_are_configurable():
    exact = tiny_backbone()
    approximate = tiny_backbone(gelu_approximate=True)
    approximate.set_weights(exact.get_weights())
    inputs = random_inputs()
    difference = np.abs(
        to_numpy(exact(inputs)["sequence_output"]) - to_numpy(approximate(inputs)["sequence_output"])
    ).max()
    assert 0 < difference < 1e-2


def test_saves_and_loads_as_keras_file(tmp_path):
    backbone = tiny_backbone(gelu_approximate=True, layer_norm_epsilon=1e-6)
    path = str(tmp_path / "backbone.keras")
    backbone.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored, BertBackbone)
    assert restored.get_config() == backbone.get_config()
    inputs = random_inputs()
    np.testing.assert_allclose(
        to_numpy(restored(inputs)["pooled_output"]), to_numpy(backbone(inputs)["pooled_output"]), atol=1e-6
    )


def test_mixed_precision_float16_computes_in_half_and_stays_close():
    reference = tiny_backbone()
    keras.mixed_precision.set_global_policy("mixed_float16")
    half = tiny_backbone()
    half.set_weights(reference.get_weights())
    inputs = random_inputs()
    outputs = half(inputs)
    assert keras.backend.standardize_dtype(outputs["sequence_output"].dtype) == "float16"
    assert half.token_embedding.embeddings.dtype == "float32"  # weights stay float32
    real = inputs["padding_mask"].astype(bool)
    np.testing.assert_allclose(
        to_numpy(outputs["sequence_output"]).astype("float32")[real],
        to_numpy(reference(inputs)["sequence_output"])[real],
        atol=2e-2,
    )


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="`hidden_dim` must be divisible by `num_heads`"):
        BertBackbone(VOCAB, 1, 3, 16, 32)
    with pytest.raises(ValueError, match="`num_layers` must be a positive int; received 0"):
        BertBackbone(VOCAB, 0, 2, 16, 32)
    with pytest.raises(ValueError, match="`dropout`"):
        BertBackbone(VOCAB, 1, 2, 16, 32, dropout=1.5)


def test_every_block_kernel_starts_from_berts_truncated_normal():
    backbone = BertBackbone(VOCAB, 1, HEADS, 64, 256, max_sequence_length=MAX_LEN)
    block = backbone.transformer_layers[0]
    assert block.get_config()["kernel_initializer"]["class_name"] == "TruncatedNormal"
    kernel = to_numpy(block.feedforward_intermediate.kernel)  # (64, 256)
    assert np.abs(kernel).max() <= 2 * 0.02 + 1e-6  # truncated at two standard deviations
    assert 0.015 < kernel.std() < 0.02
    assert 0.015 < to_numpy(block.self_attention.query_dense.kernel).std() < 0.02
