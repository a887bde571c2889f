"""TokenAndPositionEmbedding: formula, masks, keras_hub parity, precision, saving."""

import os

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import require_module, to_numpy


def sinusoid(length, depth):
    positions = np.arange(length)[:, None]
    i = np.arange(depth)[None, :] // 2
    angles = positions / 10000.0 ** (2 * i / depth)
    return np.where(np.arange(depth) % 2 == 0, np.sin(angles), np.cos(angles))


@pytest.mark.parametrize("scale", [False, True])
def test_sinusoidal_equals_lookup_plus_formula(scale):
    layer = kattn.layers.TokenAndPositionEmbedding(30, 6, scale_embeddings=scale)
    ids = np.array([[1, 4, 9, 2], [0, 0, 3, 29]])
    out = to_numpy(layer(ids))
    table = to_numpy(layer.token_embedding.embeddings)
    factor = np.sqrt(6) if scale else 1.0
    np.testing.assert_allclose(out, table[ids] * factor + sinusoid(4, 6), atol=1e-5)
    # decoding step 3 alone gives row 3
    step = layer(ids[:, 3:], start_index=keras.ops.convert_to_tensor(3))
    np.testing.assert_allclose(to_numpy(step), out[:, 3:], atol=1e-5)


def test_learned_equals_keras_hub():
    keras_hub = require_module("keras_hub", "the reference implementation for parity")
    ours = kattn.layers.TokenAndPositionEmbedding(30, 6, sequence_length=5, position="learned")
    hub = keras_hub.layers.TokenAndPositionEmbedding(30, 5, 6)
    ids = np.array([[1, 4, 9, 2, 7]])
    ours.build(ids.shape)
    hub.build(ids.shape)
    ours.token_embedding.embeddings.assign(hub.token_embedding.embeddings)
    ours.position_embedding.embeddings.assign(hub.position_embedding.position_embeddings)
    np.testing.assert_allclose(to_numpy(ours(ids)), to_numpy(hub(ids)), atol=1e-6)
    with pytest.raises(ValueError, match="sequence_length"):
        ours(np.ones((1, 6), "int32"))


def test_mask_zero():
    layer = kattn.layers.TokenAndPositionEmbedding(10, 4, mask_zero=True)
    ids = np.array([[3, 2, 0]])
    assert to_numpy(layer.compute_mask(ids)).tolist() == [[True, True, False]]
    inputs = keras.Input((None,), dtype="int32")
    assert kattn.checks.keras_mask(layer(inputs)) is not None
    no_mask = kattn.layers.TokenAndPositionEmbedding(10, 4)
    assert no_mask.compute_mask(ids) is None


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="sequence_length"):
        kattn.layers.TokenAndPositionEmbedding(10, 4, position="learned")
    with pytest.raises(ValueError, match="position"):
        kattn.layers.TokenAndPositionEmbedding(10, 4, position="rotary")
    with pytest.raises(ValueError, match="vocabulary_size"):
        kattn.layers.TokenAndPositionEmbedding(0, 4)
    with pytest.raises(ValueError, match="token_ids"):
        kattn.layers.TokenAndPositionEmbedding(10, 4)(np.ones((2, 3, 1), "int32"))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.TokenAndPositionEmbedding(10, 4, sequence_length=3, position="learned",
                                                   scale_embeddings=True)
    out = layer(np.array([[1, 2, 3]]))
    assert keras.backend.standardize_dtype(out.dtype) == policy[6:]


@pytest.mark.parametrize("position", ["sinusoidal", "learned"])
def test_save_and_load(tmp_path, position):
    inputs = keras.Input((None,), dtype="int32")
    layer = kattn.layers.TokenAndPositionEmbedding(
        12, 4, sequence_length=6, position=position, mask_zero=True, scale_embeddings=True
    )
    model = keras.Model(inputs, layer(inputs))
    path = os.path.join(tmp_path, "embedding.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    ids = np.array([[5, 3, 0]])
    np.testing.assert_array_equal(to_numpy(loaded(ids)), to_numpy(model(ids)))
    config = loaded.layers[1].get_config()
    assert config["position"] == position and config["mask_zero"] and config["scale_embeddings"]
