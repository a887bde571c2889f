"""RotaryEmbedding and ops.rotary_embedding against a formula, keras_hub, and RoPE's property."""

import keras
import numpy as np
import pytest

import kattn
from kattn import ops
from tests.conftest import require_module, to_numpy


def halves_formula(x, positions, wavelength=10000.0):
    """float64 NumPy RoPE, one pair (i, i + d/2) at a time, for x (B, T, [H,] D)."""
    x = np.asarray(x, "float64")
    depth = x.shape[-1]
    half = depth // 2
    out = np.empty_like(x)
    positions = np.broadcast_to(np.asarray(positions, "float64"), x.shape[:2])
    for b in range(x.shape[0]):
        for t in range(x.shape[1]):
            for i in range(half):
                angle = positions[b, t] / wavelength ** (2 * i / depth)
                c, s = np.cos(angle), np.sin(angle)
                a, z = x[b, t, ..., i], x[b, t, ..., i + half]
                out[b, t, ..., i] = a * c - z * s
                out[b, t, ..., i + half] = z * c + a * s
    return out


@pytest.mark.parametrize("shape", [(2, 5, 8), (2, 5, 3, 6)])
def test_equals_the_pairwise_rotation(shape):
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    positions = np.arange(7, 7 + shape[1])
    y = to_numpy(ops.rotary_embedding(x, positions, max_wavelength=100))
    np.testing.assert_allclose(y, halves_formula(x, positions, 100.0), atol=1e-5)


def test_per_row_positions():
    x = np.random.default_rng(1).normal(size=(2, 4, 2, 6)).astype("float32")
    positions = np.array([[0, 1, 2, 3], [10, 11, 12, 40]])
    y = to_numpy(ops.rotary_embedding(x, positions))
    expected = np.stack([halves_formula(x[i : i + 1], positions[i])[0] for i in range(2)])
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_rotation_keeps_the_norm_and_position_zero_is_identity():
    x = np.random.default_rng(2).normal(size=(1, 6, 16)).astype("float32")
    y = to_numpy(kattn.layers.RotaryEmbedding()(x))
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-5)
    np.testing.assert_allclose(y[:, 0], x[:, 0], atol=1e-6)
    assert not np.allclose(y[:, 1:], x[:, 1:], atol=1e-3)


@pytest.mark.parametrize("shift", [1, 7, 100])
def test_scores_depend_only_on_the_distance(shift):
    """q_m . k_n == q_(m+k) . k_(n+k): shifting both positions keeps every score."""
    rng = np.random.default_rng(3)
    q = rng.normal(size=(1, 6, 4, 8)).astype("float32")  # (B, T, heads, D)
    k = rng.normal(size=(1, 6, 4, 8)).astype("float32")
    rope = kattn.layers.RotaryEmbedding()

    def scores(start):
        qr = rope(q, start_index=start)
        kr = rope(k, start_index=start)
        return to_numpy(keras.ops.einsum("bqhd,bkhd->bhqk", qr, kr))

    base, shifted = scores(0), scores(shift)
    np.testing.assert_allclose(shifted, base, atol=1e-4)
    plain = np.einsum("bqhd,bkhd->bhqk", q, k)
    assert not np.allclose(base, plain, atol=1e-2)  # positions did change the scores


def test_positions_argument_equals_start_index():
    x = np.random.default_rng(4).normal(size=(2, 3, 8)).astype("float32")
    rope = kattn.layers.RotaryEmbedding(max_wavelength=500)
    by_start = to_numpy(rope(x, start_index=4))
    by_positions = to_numpy(rope(x, positions=np.arange(4, 7)))
    np.testing.assert_allclose(by_start, by_positions, atol=1e-6)


@pytest.mark.parametrize("shape, start", [((2, 7, 8), 0), ((2, 5, 3, 16), 9)])
def test_matches_keras_hub(shape, start):
    keras_hub = require_module("keras_hub", "reference RotaryEmbedding")
    x = np.random.default_rng(5).normal(size=shape).astype("float32")
    theirs = keras_hub.layers.RotaryEmbedding(max_wavelength=1000)(x, start_index=start)
    ours = kattn.layers.RotaryEmbedding(max_wavelength=1000)(x, start_index=start)
    np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), atol=1e-5)


def test_mixed_precision_keeps_the_dtype():
    x = np.random.default_rng(6).normal(size=(1, 300, 8)).astype("float16")
    layer = kattn.layers.RotaryEmbedding(dtype="mixed_float16")
    y = layer(x)
    assert keras.backend.standardize_dtype(y.dtype) == "float16"
    expected = halves_formula(x, np.arange(300))
    np.testing.assert_allclose(to_numpy(y).astype("float64"), expected, atol=1e-2)


def test_config_round_trip_and_functional_model(tmp_path):
    inputs = keras.Input((None, 8))
    outputs = kattn.layers.RotaryEmbedding(max_wavelength=50)(inputs)
    model = keras.Model(inputs, outputs)
    path = str(tmp_path / "rope.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert restored.layers[-1].get_config()["max_wavelength"] == 50
    x = np.random.default_rng(7).normal(size=(2, 4, 8)).astype("float32")
    np.testing.assert_allclose(to_numpy(restored(x)), to_numpy(model(x)), atol=1e-6)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="max_wavelength"):
        kattn.layers.RotaryEmbedding(max_wavelength=0)
    with pytest.raises(ValueError, match="even"):
        kattn.layers.RotaryEmbedding()(np.zeros((1, 3, 5), "float32"))
    with pytest.raises(ValueError, match="inputs"):
        kattn.layers.RotaryEmbedding()(np.zeros((3, 4), "float32"))
    with pytest.raises(ValueError, match="positions"):
        ops.rotary_embedding(np.zeros((1, 3, 4), "float32"), np.zeros((1, 1, 3)))
