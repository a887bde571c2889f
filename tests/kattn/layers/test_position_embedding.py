"""PositionEmbedding: lookup, limits, keras_hub parity, precision, saving."""

import os

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import require_module, to_numpy


def test_returns_the_rows_of_the_table():
    layer = kattn.layers.PositionEmbedding(sequence_length=10)
    x = np.zeros((3, 4, 5), "float32")
    out = to_numpy(layer(x, start_index=2))
    table = to_numpy(layer.embeddings)
    assert table.shape == (10, 5)
    for b in range(3):
        np.testing.assert_array_equal(out[b], table[2:6])
    step = layer(x[:, :1], start_index=keras.ops.convert_to_tensor(9))
    np.testing.assert_array_equal(to_numpy(step)[0, 0], table[9])


def test_equals_keras_hub():
    keras_hub = require_module("keras_hub", "the reference implementation for parity")
    ours = kattn.layers.PositionEmbedding(sequence_length=8)
    hub = keras_hub.layers.PositionEmbedding(sequence_length=8)
    x = np.zeros((2, 6, 4), "float32")
    hub.build(x.shape)
    ours.build(x.shape)
    ours.set_weights(hub.get_weights())
    np.testing.assert_array_equal(to_numpy(ours(x)), to_numpy(hub(x)))
    np.testing.assert_array_equal(to_numpy(ours(x[:, :3], start_index=5)), to_numpy(hub(x[:, :3], start_index=5)))


def test_past_sequence_length_is_a_value_error():
    layer = kattn.layers.PositionEmbedding(sequence_length=6)
    layer(np.zeros((1, 6, 4), "float32"))  # exactly full is fine
    with pytest.raises(ValueError, match="sequence_length"):
        layer(np.zeros((1, 7, 4), "float32"))
    with pytest.raises(ValueError, match="start_index"):
        layer(np.zeros((1, 2, 4), "float32"), start_index=5)
    with pytest.raises(ValueError, match="sequence_length"):
        kattn.layers.PositionEmbedding(sequence_length=0)
    with pytest.raises(ValueError, match="feature size"):
        layer(np.zeros((1, 2, 5), "float32"))


def test_unknown_length_in_a_functional_model():
    inputs = keras.Input((None, 4))
    model = keras.Model(inputs, kattn.layers.PositionEmbedding(sequence_length=6)(inputs))
    assert to_numpy(model(np.zeros((2, 3, 4), "float32"))).shape == (2, 3, 4)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.PositionEmbedding(sequence_length=6)
    out = layer(np.zeros((1, 3, 4), policy[6:]))
    assert keras.backend.standardize_dtype(out.dtype) == policy[6:]
    assert keras.backend.standardize_dtype(layer.embeddings.dtype) == "float32"


def test_save_and_load(tmp_path):
    inputs = keras.Input((5, 4))
    layer = kattn.layers.PositionEmbedding(sequence_length=7, initializer="he_normal")
    model = keras.Model(inputs, layer(inputs))
    path = os.path.join(tmp_path, "positions.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.zeros((1, 5, 4), "float32")
    np.testing.assert_array_equal(to_numpy(loaded(x)), to_numpy(model(x)))
    config = loaded.layers[1].get_config()
    assert config["sequence_length"] == 7 and config["initializer"]["class_name"] == "HeNormal"
