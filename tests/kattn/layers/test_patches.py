"""Patches: exact round trip, row-major order, errors."""

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import to_numpy


def unpatch(patches, height, width, patch_size):
    """The inverse reshape: (B, N, p*p*C) back to (B, H, W, C)."""
    batch, _, features = patches.shape
    p = patch_size
    channels = features // (p * p)
    x = patches.reshape(batch, height // p, width // p, p, p, channels)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(batch, height, width, channels)


@pytest.mark.parametrize("shape, patch_size", [((2, 6, 9, 3), 3), ((1, 8, 4, 1), 2), ((3, 5, 5, 2), 5)])
def test_inverse_reshape_gives_the_image_back(shape, patch_size):
    images = np.random.default_rng(0).normal(size=shape).astype("float32")
    patches = to_numpy(kattn.layers.Patches(patch_size)(images))
    _, height, width, channels = shape
    count = (height // patch_size) * (width // patch_size)
    assert patches.shape == (shape[0], count, patch_size * patch_size * channels)
    np.testing.assert_array_equal(unpatch(patches, height, width, patch_size), images)


def test_patches_are_row_major():
    images = np.arange(4 * 6, dtype="float32").reshape(1, 4, 6, 1)
    patches = to_numpy(kattn.layers.Patches(2)(images))[0]
    # patch 1 is the second patch of the first row; its pixels row by row
    assert patches[1].tolist() == [2.0, 3.0, 8.0, 9.0]
    assert patches[3].tolist() == [12.0, 13.0, 18.0, 19.0]


def test_side_not_a_multiple_is_a_value_error():
    with pytest.raises(ValueError, match="height must be a multiple of `patch_size`=4"):
        kattn.layers.Patches(4)(np.zeros((1, 10, 8, 3), "float32"))
    with pytest.raises(ValueError, match="width"):
        kattn.layers.Patches(4)(np.zeros((1, 8, 10, 3), "float32"))
    with pytest.raises(ValueError, match="images"):
        kattn.layers.Patches(4)(np.zeros((8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="patch_size"):
        kattn.layers.Patches(0)


def test_functional_shapes_and_config():
    inputs = keras.Input((6, 4, 2))
    outputs = kattn.layers.Patches(2)(inputs)
    assert tuple(outputs.shape) == (None, 6, 8)
    layer = kattn.layers.Patches.from_config(kattn.layers.Patches(2).get_config())
    assert layer.patch_size == 2
    model = keras.Model(inputs, outputs)
    assert to_numpy(model(np.zeros((3, 6, 4, 2), "float32"))).shape == (3, 6, 8)
