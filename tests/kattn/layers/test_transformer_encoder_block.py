"""TransformerEncoderBlock: parity with keras_hub, masks, scores, precision, saving."""

import logging
import os
import warnings

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import copy_weights_by_name, require_module, to_numpy

keras_hub = require_module("keras_hub", "the reference implementation for parity")

B, T, D, HEADS, FFN = 2, 6, 8, 2, 16


def random_inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, D)).astype("float32")
    padding = np.ones((B, T), bool)
    padding[1, 4:] = False  # second sequence: 4 tokens, then padding
    return x, padding


def hub_and_ours(norm_first=False, activation="relu", epsilon=1e-5):
    hub = keras_hub.layers.TransformerEncoder(
        FFN, HEADS, activation=activation, layer_norm_epsilon=epsilon,
        normalize_first=norm_first,
    )
    ours = kattn.layers.TransformerEncoderBlock(
        HEADS, FFN, activation=activation, layer_norm_epsilon=epsilon,
        norm_first=norm_first,
    )
    hub.build((None, T, D))
    ours.build((None, T, D))
    # non-trivial LayerNorm weights, so a mix-up of the two norms would show
    for variable in hub.weights:
        if "norm" in variable.path:
            variable.assign(np.random.default_rng(1).normal(size=variable.shape))
    copy_weights_by_name(hub, ours)
    return hub, ours


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_equals_keras_hub_with_padding_mask(norm_first, activation):
    hub, ours = hub_and_ours(norm_first, activation)
    x, padding = random_inputs()
    expected = to_numpy(hub(x, padding_mask=padding))
    np.testing.assert_allclose(to_numpy(ours(x, padding_mask=padding)), expected, atol=1e-5)
    # and the padding matters: without it the second sequence changes
    assert not np.allclose(to_numpy(ours(x))[1, :4], expected[1, :4], atol=1e-3)


def test_equals_keras_hub_with_attention_mask_and_scores():
    hub, ours = hub_and_ours(norm_first=True, epsilon=1e-6)
    x, padding = random_inputs(2)
    attention = np.tril(np.ones((T, T), bool))[None].repeat(B, 0)
    expected, expected_scores = hub(
        x, padding_mask=padding, attention_mask=attention, return_attention_scores=True
    )
    output, scores = ours(
        x, padding_mask=padding, attention_mask=attention, return_attention_scores=True
    )
    np.testing.assert_allclose(to_numpy(output), to_numpy(expected), atol=1e-5)
    np.testing.assert_allclose(to_numpy(scores), to_numpy(expected_scores), atol=1e-6)
    scores = to_numpy(scores)  # (B, H, T, T)
    assert scores.shape == (B, HEADS, T, T)
    assert np.all(scores[1, :, :, 4:] == 0.0)  # nobody attends to padding
    assert np.all(np.triu(scores[0, 0], 1) == 0.0)  # the attention mask holds
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-6)


def test_keras_mask_is_used_and_passed_on():
    ids = keras.Input((None,), dtype="int32")
    x = kattn.layers.TokenAndPositionEmbedding(20, D, mask_zero=True)(ids)
    x = kattn.layers.TransformerEncoderBlock(HEADS, FFN)(x)
    x = kattn.layers.TransformerEncoderBlock(HEADS, FFN, norm_first=True)(x)
    model = keras.Model(ids, x)
    padded = np.array([[3, 5, 7, 0, 0], [3, 5, 7, 9, 11]])
    alone = to_numpy(model(padded[:1, :3]))
    together = to_numpy(model(padded))
    # the padded sequence gives what the three tokens give alone
    np.testing.assert_allclose(together[0, :3], alone[0], atol=1e-5)
    # the explicit mask wins over the Keras mask
    block = model.layers[2]
    embedded = model.layers[1](padded)
    no_padding = np.ones_like(padded, bool)
    assert not np.allclose(
        to_numpy(block(embedded, padding_mask=no_padding))[0, :3],
        to_numpy(block(embedded))[0, :3],
        atol=1e-4,
    )


def test_key_dim():
    block = kattn.layers.TransformerEncoderBlock(num_heads=3, intermediate_dim=8, key_dim=5)
    out = block(np.zeros((1, 4, 8), "float32"))
    assert tuple(out.shape) == (1, 4, 8)
    assert tuple(block.self_attention.query_dense.kernel.shape) == (8, 3, 5)
    with pytest.raises(ValueError, match="num_heads"):
        kattn.layers.TransformerEncoderBlock(num_heads=3, intermediate_dim=8)(
            np.zeros((1, 4, 8), "float32")
        )


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="num_heads"):
        kattn.layers.TransformerEncoderBlock(num_heads=0, intermediate_dim=8)
    with pytest.raises(ValueError, match="dropout"):
        kattn.layers.TransformerEncoderBlock(num_heads=2, intermediate_dim=8, dropout=1.5)
    block = kattn.layers.TransformerEncoderBlock(num_heads=2, intermediate_dim=8)
    with pytest.raises(ValueError, match="inputs"):
        block(np.zeros((4, 8), "float32"))
    with pytest.raises(ValueError, match="padding_mask"):
        block(np.zeros((2, 4, 8), "float32"), padding_mask=np.ones((2, 5), bool))


def test_dropout_only_while_training():
    block = kattn.layers.TransformerEncoderBlock(HEADS, FFN, dropout=0.5)
    x, _ = random_inputs()
    inference = to_numpy(block(x))
    np.testing.assert_array_equal(to_numpy(block(x, training=False)), inference)
    assert not np.allclose(to_numpy(block(x, training=True)), inference, atol=1e-3)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    x, padding = random_inputs()
    reference = kattn.layers.TransformerEncoderBlock(HEADS, FFN)
    expected = to_numpy(reference(x, padding_mask=padding))
    keras.mixed_precision.set_global_policy(policy)
    block = kattn.layers.TransformerEncoderBlock(HEADS, FFN)
    block.build((None, T, D))
    block.set_weights(reference.get_weights())
    output, scores = block(x, padding_mask=padding, return_attention_scores=True)
    assert keras.backend.standardize_dtype(output.dtype) == policy.split("_")[1]
    assert keras.backend.standardize_dtype(block.feedforward_output.kernel.dtype) == "float32"
    tolerance = 2e-2 if policy == "mixed_float16" else 1e-1
    np.testing.assert_allclose(to_numpy(output).astype("float32"), expected, atol=tolerance)
    assert np.all(to_numpy(scores)[1, :, :, 4:] == 0)


def test_fit_save_and_load(tmp_path, caplog):
    ids = keras.Input((None,), dtype="int32")
    x = kattn.layers.TokenAndPositionEmbedding(20, D, mask_zero=True)(ids)
    x = kattn.layers.TransformerEncoderBlock(HEADS, FFN, dropout=0.1, activation="gelu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    model = keras.Model(ids, keras.layers.Dense(2)(x))
    # jit_compile=False: what "auto" picks with TensorFlow on a CPU, and a
    # faster first step on JAX
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss, jit_compile=False)
    data = np.random.default_rng(0).integers(1, 20, (8, 5))
    data[:4, 3:] = 0
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        model.fit(data, np.arange(8) % 2, epochs=1, verbose=0)
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "mask" in m], messages  # no mask warnings
    path = os.path.join(tmp_path, "encoder.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(to_numpy(loaded(data)), to_numpy(model(data)), atol=1e-6)
    config = loaded.layers[2].get_config()
    assert config["dropout"] == 0.1 and config["num_heads"] == HEADS
    assert config["activation"] == "gelu"


@pytest.mark.parametrize("block_class", [kattn.layers.TransformerEncoderBlock, kattn.layers.TransformerDecoderBlock])
def test_initializers_reach_every_sub_layer_and_the_config(block_class):
    kwargs = dict(kernel_initializer=keras.initializers.Constant(0.5), bias_initializer=keras.initializers.Constant(0.25))
    block = block_class(HEADS, FFN, **kwargs)
    is_decoder = block_class is kattn.layers.TransformerDecoderBlock
    block.build(*([(B, T, D)] * (2 if is_decoder else 1)))  # the decoder also takes an encoder sequence
    kernels = [v for v in block.weights if v.path.endswith("kernel")]
    biases = [v for v in block.weights if v.path.endswith("bias")]
    assert len(kernels) == (10 if is_decoder else 6)  # 4 per attention, 2 feed-forward
    for variable in kernels:
        assert np.all(to_numpy(variable) == 0.5), variable.path
    for variable in biases:
        assert np.all(to_numpy(variable) == 0.25), variable.path
    config = block_class.from_config(block.get_config()).get_config()
    assert config["kernel_initializer"]["config"]["value"] == 0.5
    assert config["bias_initializer"]["config"]["value"] == 0.25
