"""PatchEmbedding: equals flatten-then-Dense, class token, positions, errors, saving."""

import os

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import to_numpy


def flatten_patches(images, p):
    """(B, H, W, C) -> (B, N, p*p*C) with plain NumPy slicing, row-major."""
    batch, height, width, _ = images.shape
    patches = [
        images[:, r : r + p, c : c + p, :].reshape(batch, -1)
        for r in range(0, height, p)
        for c in range(0, width, p)
    ]
    return np.stack(patches, axis=1)


def test_equals_flatten_then_dense_plus_class_token_and_positions():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(2, 6, 4, 3)).astype("float32")
    layer = kattn.layers.PatchEmbedding(patch_size=2, embedding_dim=5)
    layer.build(images.shape)
    for variable in layer.weights:
        variable.assign(rng.normal(size=variable.shape))
    kernel, bias = to_numpy(layer.projection.kernel), to_numpy(layer.projection.bias)
    class_token = to_numpy(layer.class_token)[0]  # (1, D)
    positions = to_numpy(layer.position_embedding.embeddings)  # (N + 1, D)
    dense = flatten_patches(images, 2) @ kernel + bias  # (B, 6, D)
    expected = np.concatenate([np.repeat(class_token[None], 2, 0), dense], axis=1) + positions
    out = to_numpy(layer(images))
    assert out.shape == (2, 7, 5)
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_without_class_token_and_with_sinusoidal_positions():
    images = np.random.default_rng(1).normal(size=(1, 4, 4, 1)).astype("float32")
    layer = kattn.layers.PatchEmbedding(2, 4, use_class_token=False, position="sinusoidal")
    out = to_numpy(layer(images))
    dense = flatten_patches(images, 2) @ to_numpy(layer.projection.kernel)
    sine = to_numpy(kattn.layers.SinusoidalPositionalEncoding()(np.zeros((1, 4, 4), "float32")))
    np.testing.assert_allclose(out, dense + sine, atol=1e-5)
    assert not layer.non_trainable_weights and len(layer.trainable_weights) == 2


def test_clear_errors():
    layer = kattn.layers.PatchEmbedding(patch_size=4, embedding_dim=8)
    with pytest.raises(ValueError, match="height must be a multiple of `patch_size`=4"):
        layer(np.zeros((1, 10, 8, 3), "float32"))
    layer(np.zeros((1, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="number of channels"):
        layer(np.zeros((1, 8, 8, 1), "float32"))
    with pytest.raises(ValueError, match="number of tokens"):
        layer(np.zeros((1, 16, 8, 3), "float32"))
    with pytest.raises(ValueError, match="position"):
        kattn.layers.PatchEmbedding(4, 8, position="rotary")
    with pytest.raises(ValueError, match="known image size"):
        kattn.layers.PatchEmbedding(4, 8).build((None, None, None, 3))


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.PatchEmbedding(2, 4)
    out = layer(np.ones((2, 4, 4, 1), "float32"))
    assert keras.backend.standardize_dtype(out.dtype) == policy[6:]
    assert keras.backend.standardize_dtype(layer.class_token.dtype) == "float32"


def test_save_and_load(tmp_path):
    inputs = keras.Input((8, 8, 1))
    tokens = kattn.layers.PatchEmbedding(4, 8)(inputs)  # (B, 5, 8)
    tokens = kattn.layers.TransformerEncoderBlock(2, 16, norm_first=True)(tokens)
    model = keras.Model(inputs, keras.layers.Dense(3)(tokens[:, 0]))
    assert tuple(tokens.shape) == (None, 5, 8)
    images = np.random.default_rng(0).random((4, 8, 8, 1)).astype("float32")
    path = os.path.join(tmp_path, "vit.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(to_numpy(loaded(images)), to_numpy(model(images)), atol=1e-6)
    config = loaded.layers[1].get_config()
    assert config["patch_size"] == 4 and config["use_class_token"] and config["position"] == "learned"
