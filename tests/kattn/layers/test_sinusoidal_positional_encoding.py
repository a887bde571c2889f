"""SinusoidalPositionalEncoding against the paper's formula and keras_hub."""

import os

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import require_module, to_numpy


def paper_formula(length, depth, start=0, wavelength=10000.0):
    """PE[p, 2i] = sin(p / w^(2i/d)), PE[p, 2i+1] = cos(p / w^(2i/d)), float64."""
    encoding = np.zeros((length, depth))
    for p in range(start, start + length):
        for feature in range(depth):
            i = feature // 2
            angle = p / wavelength ** (2 * i / depth)
            encoding[p - start, feature] = np.sin(angle) if feature % 2 == 0 else np.cos(angle)
    return encoding


@pytest.mark.parametrize("length, depth, start", [(1, 4, 0), (9, 6, 0), (9, 7, 0), (12, 5, 3), (30, 16, 17)])
def test_equals_the_papers_formula(length, depth, start):
    x = np.zeros((2, length, depth), "float32")
    encoding = to_numpy(kattn.layers.SinusoidalPositionalEncoding()(x, start_index=start))
    assert encoding.shape == (2, length, depth)
    np.testing.assert_allclose(encoding[0], paper_formula(length, depth, start), atol=1e-5)
    np.testing.assert_array_equal(encoding[0], encoding[1])


def test_any_length_and_wavelength():
    x = np.zeros((1, 3000, 8), "float32")
    encoding = to_numpy(kattn.layers.SinusoidalPositionalEncoding(max_wavelength=100)(x))
    # float32 angles at position 3000 are exact to about 3000 * 6e-8 radians
    np.testing.assert_allclose(encoding[0], paper_formula(3000, 8, 0, 100.0), atol=1e-3)


@pytest.mark.parametrize("depth", [6, 7])
def test_equals_keras_hub(depth):
    keras_hub = require_module("keras_hub", "the reference implementation for parity")
    # keras_hub interleaves sin (even features) and cos (odd features) with
    # the same frequencies, so the two layers compute the same encoding.
    x = np.zeros((2, 11, depth), "float32")
    ours = kattn.layers.SinusoidalPositionalEncoding()
    hub = keras_hub.layers.SinePositionEncoding()
    np.testing.assert_allclose(to_numpy(ours(x)), to_numpy(hub(x)), atol=1e-5)
    np.testing.assert_allclose(
        to_numpy(ours(x, start_index=5)), to_numpy(hub(x, start_index=5)), atol=1e-5
    )


def test_tensor_start_index_for_decoding():
    layer = kattn.layers.SinusoidalPositionalEncoding()
    full = to_numpy(layer(np.zeros((1, 10, 4), "float32")))
    step = layer(np.zeros((1, 1, 4), "float32"), start_index=keras.ops.convert_to_tensor(7))
    np.testing.assert_allclose(to_numpy(step)[0, 0], full[0, 7], atol=1e-6)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    keras.mixed_precision.set_global_policy(policy)
    encoding = kattn.layers.SinusoidalPositionalEncoding()(np.zeros((1, 2000, 8), policy[6:]))
    assert keras.backend.standardize_dtype(encoding.dtype) == policy[6:]
    # angles in float32, so position 1999 is as good as the dtype allows
    tolerance = 1e-3 if policy == "mixed_float16" else 1e-2
    np.testing.assert_allclose(
        to_numpy(encoding)[0].astype("float32"), paper_formula(2000, 8), atol=tolerance
    )


def test_mask_passes_through_and_bad_input():
    ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(ids)
    encoding = kattn.layers.SinusoidalPositionalEncoding()(x)
    assert keras.backend.is_keras_tensor(encoding)
    assert kattn.checks.keras_mask(encoding) is not None
    with pytest.raises(ValueError, match="max_wavelength"):
        kattn.layers.SinusoidalPositionalEncoding(max_wavelength=0)
    with pytest.raises(ValueError, match="inputs"):
        kattn.layers.SinusoidalPositionalEncoding()(np.zeros((3,), "float32"))


def test_save_and_load(tmp_path):
    inputs = keras.Input((None, 6))
    model = keras.Model(inputs, kattn.layers.SinusoidalPositionalEncoding(max_wavelength=500)(inputs))
    path = os.path.join(tmp_path, "sine.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.zeros((1, 5, 6), "float32")
    np.testing.assert_array_equal(to_numpy(loaded(x)), to_numpy(model(x)))
    assert loaded.layers[1].get_config()["max_wavelength"] == 500
