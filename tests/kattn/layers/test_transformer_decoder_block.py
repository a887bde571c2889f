"""TransformerDecoderBlock: parity with keras_hub, the cache, scores, precision, saving."""

import os

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import copy_weights_by_name, require_module, to_numpy

keras_hub = require_module("keras_hub", "the reference implementation for parity")

B, T, S, D, HEADS, FFN = 2, 5, 7, 8, 2, 16


def random_inputs(seed=0):
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(B, T, D)).astype("float32")
    source = rng.normal(size=(B, S, D)).astype("float32")
    target_padding = np.ones((B, T), bool)
    target_padding[1, 3:] = False
    source_padding = np.ones((B, S), bool)
    source_padding[0, 4:] = False
    return target, source, target_padding, source_padding


def hub_and_ours(cross_attention, norm_first):
    hub = keras_hub.layers.TransformerDecoder(FFN, HEADS, normalize_first=norm_first)
    ours = kattn.layers.TransformerDecoderBlock(
        HEADS, FFN, norm_first=norm_first, cross_attention=cross_attention
    )
    source_shape = (None, S, D) if cross_attention else None
    hub.build((None, T, D), source_shape)
    ours.build((None, T, D), source_shape)
    for variable in hub.weights:
        if "norm" in variable.path:
            variable.assign(np.random.default_rng(1).normal(size=variable.shape))
    copy_weights_by_name(hub, ours)
    return hub, ours


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("cross_attention", [False, True])
def test_equals_keras_hub_with_padding_masks(cross_attention, norm_first):
    hub, ours = hub_and_ours(cross_attention, norm_first)
    target, source, target_padding, source_padding = random_inputs()
    kwargs = {"decoder_padding_mask": target_padding}
    if cross_attention:
        kwargs.update(encoder_sequence=source, encoder_padding_mask=source_padding)
    expected = to_numpy(hub(target, **kwargs))
    np.testing.assert_allclose(to_numpy(ours(target, **kwargs)), expected, atol=1e-5)
    # the masks matter: without them the valid positions change
    unmasked = to_numpy(ours(target, source if cross_attention else None))
    assert not np.allclose(unmasked, expected, atol=1e-3)


def test_without_causal_mask_equals_keras_hub():
    hub, ours = hub_and_ours(cross_attention=True, norm_first=False)
    target, source, _, _ = random_inputs(1)
    expected = hub(target, source, use_causal_mask=False)
    output = ours(target, source, use_causal_mask=False)
    np.testing.assert_allclose(to_numpy(output), to_numpy(expected), atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("cross_attention", [False, True])
def test_cache_one_token_at_a_time_equals_full_pass(cross_attention, norm_first):
    block = kattn.layers.TransformerDecoderBlock(
        HEADS, FFN, norm_first=norm_first, cross_attention=cross_attention
    )
    target, source, _, source_padding = random_inputs(2)
    source = source if cross_attention else None
    padding = source_padding if cross_attention else None
    full = to_numpy(block(target, source, encoder_padding_mask=padding))
    cache = np.zeros((B, 2, T, HEADS, D // HEADS), "float32")
    steps = []
    for index in range(T):
        step, cache = block(
            target[:, index : index + 1],
            source,
            encoder_padding_mask=padding,
            self_attention_cache=cache,
            self_attention_cache_update_index=index,
        )
        steps.append(to_numpy(step))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # the cache holds the keys of every step: (B, 2, max_length, heads, head_dim)
    assert np.all(np.abs(to_numpy(cache)[:, 0]).sum(-1) > 0)


def test_cache_with_tensor_index_and_a_prompt():
    block = kattn.layers.TransformerDecoderBlock(HEADS, FFN, cross_attention=False)
    target, _, _, _ = random_inputs(3)
    full = to_numpy(block(target))
    cache = keras.ops.zeros((B, 2, T, HEADS, D // HEADS))
    # the first three tokens at once (a prompt), then one at a time
    prompt, cache = block(target[:, :3], self_attention_cache=cache,
                          self_attention_cache_update_index=0)
    np.testing.assert_allclose(to_numpy(prompt), full[:, :3], atol=1e-5)
    for index in (3, 4):
        step, cache = block(
            target[:, index : index + 1],
            self_attention_cache=cache,
            self_attention_cache_update_index=keras.ops.convert_to_tensor(index),
        )
        np.testing.assert_allclose(to_numpy(step), full[:, index : index + 1], atol=1e-5)


def test_keras_mask_is_the_default_padding_mask():
    ids = keras.Input((None,), dtype="int32")
    embed = kattn.layers.TokenAndPositionEmbedding(20, D, mask_zero=True)
    block = kattn.layers.TransformerDecoderBlock(HEADS, FFN, cross_attention=False)
    model = keras.Model(ids, block(embed(ids)))
    left_padded = np.array([[0, 0, 3, 5, 7]])  # causal: only left padding is visible
    embedded = embed(left_padded)
    explicit = to_numpy(block(embedded, decoder_padding_mask=left_padded != 0))
    np.testing.assert_allclose(to_numpy(model(left_padded))[:, 2:], explicit[:, 2:], atol=1e-5)
    unmasked = to_numpy(block(embedded, decoder_padding_mask=np.ones((1, 5), bool)))
    assert not np.allclose(unmasked[:, 2:], explicit[:, 2:], atol=1e-4)


def test_attention_scores():
    block = kattn.layers.TransformerDecoderBlock(HEADS, FFN)
    target, source, target_padding, source_padding = random_inputs()
    output, scores = block(
        target, source, decoder_padding_mask=target_padding,
        encoder_padding_mask=source_padding, return_attention_scores=True,
    )
    assert tuple(output.shape) == (B, T, D)
    assert sorted(scores) == ["cross", "self"]
    self_scores, cross_scores = to_numpy(scores["self"]), to_numpy(scores["cross"])
    assert self_scores.shape == (B, HEADS, T, T) and cross_scores.shape == (B, HEADS, T, S)
    assert np.all(np.triu(self_scores, 1) == 0)  # causal
    assert np.all(self_scores[1, :, :, 3:] == 0)  # decoder padding
    assert np.all(cross_scores[0, :, :, 4:] == 0)  # encoder padding
    np.testing.assert_allclose(cross_scores.sum(-1), 1.0, atol=1e-6)
    # with a cache: output, cache, then scores
    decoder_only = kattn.layers.TransformerDecoderBlock(HEADS, FFN, cross_attention=False)
    cache = np.zeros((B, 2, T, HEADS, D // HEADS), "float32")
    step, cache, scores = decoder_only(
        target[:, :1], self_attention_cache=cache, self_attention_cache_update_index=0,
        return_attention_scores=True,
    )
    assert list(scores) == ["self"]
    assert tuple(scores["self"].shape) == (B, HEADS, 1, T)
    assert tuple(cache.shape) == (B, 2, T, HEADS, D // HEADS)


def test_encoder_sequence_must_match_the_block():
    target, source, _, _ = random_inputs()
    with pytest.raises(ValueError, match="encoder_sequence"):
        kattn.layers.TransformerDecoderBlock(HEADS, FFN)(target)
    decoder_only = kattn.layers.TransformerDecoderBlock(HEADS, FFN, cross_attention=False)
    decoder_only(target)
    with pytest.raises(ValueError, match="encoder_sequence"):
        decoder_only(target, source)
    with pytest.raises(ValueError, match="num_heads"):
        kattn.layers.TransformerDecoderBlock(3, FFN, cross_attention=False)(target)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_with_cache(policy):
    target, source, _, _ = random_inputs()
    reference = kattn.layers.TransformerDecoderBlock(HEADS, FFN)
    expected = to_numpy(reference(target, source))
    keras.mixed_precision.set_global_policy(policy)
    block = kattn.layers.TransformerDecoderBlock(HEADS, FFN)
    block.build((None, T, D), (None, S, D))
    block.set_weights(reference.get_weights())
    compute = policy.split("_")[1]
    output = block(target, source)
    assert keras.backend.standardize_dtype(output.dtype) == compute
    tolerance = 2e-2 if policy == "mixed_float16" else 1e-1
    np.testing.assert_allclose(to_numpy(output).astype("float32"), expected, atol=tolerance)
    cache = keras.ops.zeros((B, 2, T, HEADS, D // HEADS), dtype=compute)
    step, cache = block(target[:, :1], source, self_attention_cache=cache,
                        self_attention_cache_update_index=0)
    assert keras.backend.standardize_dtype(cache.dtype) == compute
    np.testing.assert_allclose(
        to_numpy(step).astype("float32"), expected[:, :1], atol=tolerance
    )


def test_save_and_load(tmp_path):
    source_ids = keras.Input((None,), dtype="int32")
    target_ids = keras.Input((None,), dtype="int32")
    embed = kattn.layers.TokenAndPositionEmbedding
    encoded = kattn.layers.TransformerEncoderBlock(HEADS, FFN)(embed(20, D, mask_zero=True)(source_ids))
    decoded = kattn.layers.TransformerDecoderBlock(HEADS, FFN, dropout=0.1, norm_first=True)(
        embed(20, D, mask_zero=True)(target_ids), encoded
    )
    model = keras.Model([source_ids, target_ids], keras.layers.Dense(20)(decoded))
    data = np.random.default_rng(0).integers(1, 20, (8, 5))
    data[:4, 3:] = 0
    path = os.path.join(tmp_path, "decoder.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(
        to_numpy(loaded([data, data])), to_numpy(model([data, data])), atol=1e-6
    )
    config = [l for l in loaded.layers if isinstance(l, kattn.layers.TransformerDecoderBlock)][0].get_config()
    assert config["norm_first"] and config["cross_attention"] and config["dropout"] == 0.1
