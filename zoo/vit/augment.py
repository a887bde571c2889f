"""Data augmentation for the ViT, from Keras preprocessing layers.

A ViT has none of a CNN's built-in bias for images (locality, translation
invariance), so on small datasets it has to learn them from augmented data.
Two building blocks for training, run on whole batches inside the
`tf.data` pipeline (`zoo.vit.data.make_dataset`), in parallel with training:

- `image_augmenter`: random shifts of a few pixels, each image its own
  (`keras.layers.RandomCrop` would shift a whole batch by the same offset),
  optional horizontal flip (clothes and CIFAR objects, never digits),
  optional small rotation and zoom;
- `mixer`: MixUp or CutMix of images and their one-hot labels
  (`keras.layers.MixUp` / `keras.layers.CutMix`), which helps long runs
  regularise; short CPU runs converge faster without it.

And one for test time: `predict_with_shifts` averages a model's
probabilities over every small shift (and mirror) of each image.

Example:

>>> import numpy as np
>>> from zoo.vit import augment
>>> augmenter = augment.image_augmenter(28, max_shift=2, flip=True)
>>> tuple(augmenter(np.zeros((4, 28, 28, 1), "float32"), training=True).shape)
(4, 28, 28, 1)
"""

import keras
import numpy as np


def image_augmenter(image_size, max_shift=0, flip=False, rotation=0.0, zoom=0.0, seed=0):
    """A `keras.Sequential` of random image transforms for one image size.

    Args:
        image_size: height = width of the images, kept unchanged.
        max_shift: each image moves by up to this many whole pixels up or
            down and left or right, the uncovered border filled with 0
            (like padding, then cropping at a random place); 0: none.
        flip: random horizontal flips.
        rotation: largest rotation as a fraction of a full turn (0.05 = 18°).
        zoom: largest zoom in or out as a fraction of the size.

    Returns:
        A model mapping float images `(B, H, W, C)` to augmented ones; it is
        the identity when called with `training=False`.

    >>> from zoo.vit.augment import image_augmenter
    >>> augment = image_augmenter(8, max_shift=1, flip=True)
    >>> [layer.__class__.__name__ for layer in augment.layers]
    ['RandomTranslation', 'RandomFlip']
    """
    layers = []
    if max_shift:
        # Nearest-pixel sampling: shifts by whole pixels, values unchanged.
        fraction = max_shift / image_size
        layers.append(keras.layers.RandomTranslation(
            fraction, fraction, fill_mode="constant", interpolation="nearest", seed=seed))
    if flip:
        layers.append(keras.layers.RandomFlip("horizontal", seed=seed + 1))
    if rotation:
        layers.append(keras.layers.RandomRotation(rotation, fill_mode="constant", seed=seed + 2))
    if zoom:
        layers.append(keras.layers.RandomZoom(zoom, fill_mode="constant", seed=seed + 3))
    if not layers:
        layers.append(keras.layers.Identity())  # no augmentation
    return keras.Sequential(layers, name="image_augmenter")


def mixer(kind="mixup", alpha=0.2, seed=0):
    """`(images, one_hot_labels) -> (images, labels)` mixing pairs in a batch.

    `kind` is `"mixup"` (blend two images and their labels with a
    Beta(alpha, alpha) weight) or `"cutmix"` (paste a box of one image into
    another; labels weighted by area).

    >>> from zoo.vit.augment import mixer
    >>> import numpy as np
    >>> mix = mixer("mixup", alpha=0.2)
    >>> x, y = mix(np.ones((4, 8, 8, 1), "float32"), np.eye(4, 10, dtype="float32"))
    >>> np.allclose(np.sum(np.asarray(y), axis=-1), 1.0)
    True
    """
    if kind == "mixup":
        layer = keras.layers.MixUp(alpha=alpha, seed=seed)
    elif kind == "cutmix":
        layer = keras.layers.CutMix(factor=alpha, seed=seed)
    else:
        raise ValueError(f"`kind` must be one of ('mixup', 'cutmix'); received {kind!r}.")

    def mix(images, labels):
        mixed = layer({"images": images, "labels": labels}, training=True)
        return mixed["images"], mixed["labels"]

    return mix


def shifted(images, dy, dx):
    """`images (B, H, W, C)` moved down by `dy` and right by `dx` whole pixels, zeros let in.

    >>> from zoo.vit.augment import shifted
    >>> import numpy as np
    >>> shifted(np.arange(4.0).reshape(1, 2, 2, 1), 0, 1)[0, :, :, 0].tolist()
    [[0.0, 0.0], [0.0, 2.0]]
    """
    images = np.asarray(images)
    height, width = images.shape[1:3]
    if max(abs(dy), abs(dx)) >= min(height, width):
        raise ValueError(
            f"A shift must be smaller than the image; received (dy, dx) = ({dy}, {dx}) "
            f"for images of {height}x{width}."
        )
    pad_y, pad_x = abs(dy), abs(dx)
    padded = np.pad(images, ((0, 0), (pad_y, pad_y), (pad_x, pad_x), (0, 0)))
    top, left = pad_y - dy, pad_x - dx
    return padded[:, top: top + height, left: left + width]


def predict_with_shifts(model, images, max_shift=1, flip=False, batch_size=256):
    """Class probabilities averaged over shifted (and mirrored) copies of each image.

    Test-time augmentation: a model trained on randomly shifted images is
    asked about every whole-pixel shift of up to `max_shift` in each
    direction ((2 max_shift + 1)^2 views; twice as many with `flip`), and
    its probabilities are averaged. A single view's mistakes that depend on
    where the digit sits in the frame cancel out. It costs one prediction
    per view.

    Args:
        model: a Keras model mapping images `(B, H, W, C)` to probabilities.
        images: `(B, H, W, C)` images as the model takes them.
        max_shift: largest shift in pixels; 0 for no shifts.
        flip: also average over the horizontally mirrored images.

    Returns:
        `(B, num_classes)` float probabilities, each row summing to 1.

    >>> from zoo.vit.augment import predict_with_shifts
    >>> import numpy as np
    >>> from zoo.vit import ViT
    >>> model = ViT(image_size=8, patch_size=2, num_layers=1, num_heads=2,
    ...             hidden_dim=16, mlp_dim=32, num_classes=10, channels=1)
    >>> predict_with_shifts(model, np.zeros((3, 8, 8, 1)), max_shift=1).shape
    (3, 10)
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ValueError(
            f"`images` must have shape (batch, height, width, channels); received shape {images.shape}."
        )
    if int(max_shift) != max_shift or max_shift < 0:
        raise ValueError(f"`max_shift` must be an int >= 0; received {max_shift!r}.")
    views = [images, images[:, :, ::-1]] if flip else [images]
    offsets = range(-max_shift, max_shift + 1)
    total, count = 0.0, 0
    for view in views:
        for dy in offsets:
            for dx in offsets:
                total = total + model.predict(shifted(view, dy, dx), batch_size=batch_size, verbose=0)
                count += 1
    return np.asarray(total / count, dtype="float32")
