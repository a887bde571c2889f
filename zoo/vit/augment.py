"""Data augmentation for the ViT, from Keras preprocessing layers.

A ViT has none of a CNN's built-in bias for images (locality, translation
invariance), so on small datasets it has to learn them from augmented data.
Three building blocks, all run on whole batches inside the `tf.data`
pipeline (`zoo.vit.data.make_dataset`), in parallel with training:

- `image_augmenter`: random shifts of a few pixels, each image its own
  (`keras.layers.RandomCrop` would shift a whole batch by the same offset),
  optional horizontal flip (clothes and CIFAR objects, never digits),
  optional small rotation and zoom;
- `mixer`: MixUp or CutMix of images and their one-hot labels
  (`keras.layers.MixUp` / `keras.layers.CutMix`), which helps long runs
  regularise; short CPU runs converge faster without it.

Example:

>>> import numpy as np
>>> from zoo.vit import augment
>>> augmenter = augment.image_augmenter(28, max_shift=2, flip=True)
>>> augmenter(np.zeros((4, 28, 28, 1), "float32"), training=True).shape
(4, 28, 28, 1)
"""

import keras


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
