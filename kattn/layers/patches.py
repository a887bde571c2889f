"""Cut images into flattened square patches (the tokens of a ViT)."""

import keras
from keras import ops

from kattn import checks


def check_image_size(images_shape, patch_size):
    """Raise unless `images_shape` is `(B, H, W, C)` with H, W multiples of the patch."""
    if len(images_shape) != 4:
        raise ValueError(
            "`images` must have shape (batch, height, width, channels); "
            f"received shape {tuple(images_shape)}."
        )
    height, width = images_shape[1], images_shape[2]
    for name, size in (("height", height), ("width", width)):
        if size is not None and size % patch_size != 0:
            raise ValueError(
                f"`images` {name} must be a multiple of `patch_size`={patch_size}; "
                f"received shape {tuple(images_shape)}."
            )


@keras.saving.register_keras_serializable(package="kattn")
class Patches(keras.layers.Layer):
    """Split `(B, H, W, C)` images into `N = (H/p)(W/p)` flattened `p x p` patches.

    Patches are numbered row by row (left to right, then top to bottom), and
    each patch is flattened the same way: its pixels row by row, the
    channels of a pixel together. So patch `n = r * (W/p) + c` holds
    `images[:, r*p:(r+1)*p, c*p:(c+1)*p, :].reshape(-1)`.

    Args:
        patch_size: `p`, the side of a square patch in pixels.

    Call arguments:
        images: `(B, H, W, C)`, H and W multiples of `p`.

    Returns:
        `(B, N, p * p * C)`.

    Example:

    >>> import keras, numpy as np, kattn
    >>> images = np.arange(2 * 4 * 6 * 3, dtype="float32").reshape(2, 4, 6, 3)
    >>> patches = kattn.layers.Patches(2)(images)              # (2, 6, 12)
    >>> tuple(patches.shape)
    (2, 6, 12)
    >>> bool((keras.ops.convert_to_numpy(patches)[:, 4]
    ...       == images[:, 2:4, 2:4, :].reshape(2, -1)).all())
    True
    """

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = checks.positive_int("patch_size", patch_size)

    def call(self, images):
        check_image_size(tuple(images.shape), self.patch_size)
        p = self.patch_size
        shape = ops.shape(images)
        rows, cols, channels = shape[1] // p, shape[2] // p, shape[3]
        x = ops.reshape(images, (-1, rows, p, cols, p, channels))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))  # (B, rows, cols, p, p, C)
        return ops.reshape(x, (-1, rows * cols, p * p * channels))  # (B, N, p*p*C)

    def compute_output_shape(self, images_shape):
        check_image_size(tuple(images_shape), self.patch_size)
        _, height, width, channels = images_shape
        p = self.patch_size
        count = None if height is None or width is None else (height // p) * (width // p)
        features = None if channels is None else p * p * channels
        return (images_shape[0], count, features)

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config
