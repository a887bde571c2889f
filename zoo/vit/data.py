"""Image datasets for the ViT: digits, MNIST, Fashion-MNIST and CIFAR-10.

Every loader returns `(x_train, y_train), (x_test, y_test)` with images as
uint8 arrays `(N, height, width, channels)` in 0..255 (digits: 0..16) and labels as int32
`(N,)`. The model rescales and normalises inside itself, so the same raw
images go to `fit`, `evaluate` and a loaded preset's `predict`.

Files read (by default the public files `keras.datasets` uses, downloaded
once and checked by sha256, or the offline mirror `KATTN_DATA`: see
`zoo.data_paths`):

- digits: the 1,797 8x8 images embedded in scikit-learn, split 80/20
  stratified with a seed;
- MNIST / Fashion-MNIST: an `.npz` in the `keras.datasets` layout (public
  MNIST, the mirror's both), or a folder with the original gzip'd IDX files
  (`train-images-idx3-ubyte.gz`, ...: public Fashion-MNIST);
- CIFAR-10: the official `cifar-10-python.tar.gz` (public, lossless; or its
  extracted `cifar-10-batches-py` folder), or the mirror's JPEG-bytes `.npz`
  (JPEG q75 copies, decoded with Pillow). Both are shuffled here with a seed.

Example:

>>> from zoo.vit import data
>>> (x_train, y_train), (x_test, y_test) = data.load_digits()
>>> x_train.shape, x_test.shape, x_train.dtype.name
((1437, 8, 8, 1), (360, 8, 8, 1), 'uint8')
"""

import gzip
import io
import os
import pickle
import tarfile

import keras
import numpy as np

from zoo import data_paths

DIGITS_CLASS_NAMES = [str(i) for i in range(10)]
MNIST_CLASS_NAMES = DIGITS_CLASS_NAMES
FASHION_MNIST_CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
CIFAR10_CLASS_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]

_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


# ----------------------------------------------------------------------------
# scikit-learn digits
# ----------------------------------------------------------------------------


def load_digits(test_fraction=0.2, seed=0):
    """The scikit-learn digits (8x8, 10 classes), split stratified.

    Pixel values stay 0..16 as scikit-learn gives them (as uint8), so a model
    trained on them takes `sklearn.datasets.load_digits().images` directly.
    With the defaults the test split is the 360 images used by the benchmark
    (`train_test_split(..., test_size=0.2, stratify=y, random_state=0)`).

    >>> from zoo.vit.data import load_digits
    >>> (x_train, y_train), (x_test, y_test) = load_digits()
    >>> int(x_train.max()), sorted(set(y_test.tolist())) == list(range(10))
    (16, True)
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    images = digits.images.astype("uint8")  # 0..16
    images = images[..., None]  # (1797, 8, 8, 1)
    labels = digits.target.astype("int32")
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_fraction, stratify=labels, random_state=seed
    )
    return (x_train, y_train), (x_test, y_test)


# ----------------------------------------------------------------------------
# MNIST and Fashion-MNIST
# ----------------------------------------------------------------------------


def read_idx(path):
    """Read one IDX file (optionally gzip'd) into a NumPy array.

    The IDX format (LeCun's MNIST files): 2 zero bytes, a type byte (0x08 for
    uint8), the number of dimensions, one big-endian int32 per dimension,
    then the values.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        content = f.read()
    if len(content) < 4 or content[0] != 0 or content[1] != 0 or content[2] != 0x08:
        raise ValueError(
            f"`path` must be an IDX file of unsigned bytes (magic 0x0000 08 ..); "
            f"received {path} starting with {content[:4]!r}."
        )
    rank = content[3]
    shape = tuple(
        int.from_bytes(content[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)
    )
    values = np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * rank)
    if values.size != int(np.prod(shape)):
        raise ValueError(
            f"IDX file {path} declares shape {shape} ({int(np.prod(shape))} values) "
            f"but holds {values.size} values."
        )
    return values.reshape(shape)


def _find_idx(directory, stem):
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        candidate = os.path.join(directory, name)
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(
        f"IDX file {stem}(.gz) not found in {directory}; a MNIST-style folder "
        f"holds {sorted(_IDX_FILES.values())} (each optionally .gz)."
    )


def _load_28x28(path):
    """Read an `.npz` in the keras.datasets layout or a folder of IDX files."""
    if os.path.isdir(path):
        arrays = {key: read_idx(_find_idx(path, stem)) for key, stem in _IDX_FILES.items()}
    else:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in _IDX_FILES}
    x_train = arrays["x_train"].astype("uint8")[..., None]  # (N, 28, 28, 1)
    x_test = arrays["x_test"].astype("uint8")[..., None]
    return (
        (x_train, arrays["y_train"].astype("int32")),
        (x_test, arrays["y_test"].astype("int32")),
    )


def load_mnist(path=None):
    """MNIST from an `.npz` (keras.datasets layout) or a folder of IDX files.

    >>> (x_train, y_train), (x_test, y_test) = load_mnist()  # doctest: +SKIP
    >>> x_train.shape                                         # doctest: +SKIP
    (60000, 28, 28, 1)
    """
    return _load_28x28(data_paths.resolve(path, "mnist"))


def load_fashion_mnist(path=None):
    """Fashion-MNIST from an `.npz` (keras.datasets layout) or IDX folder.

    >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> FASHION_MNIST_CLASS_NAMES[int(y_test[0])]                      # doctest: +SKIP
    'Ankle boot'
    """
    return _load_28x28(data_paths.resolve(path, "fashion-mnist"))


# ----------------------------------------------------------------------------
# CIFAR-10
# ----------------------------------------------------------------------------


def _decode_jpegs(buffer, offsets):
    from PIL import Image

    images = [
        np.asarray(Image.open(io.BytesIO(buffer[start:end].tobytes())).convert("RGB"))
        for start, end in zip(offsets[:-1], offsets[1:])
    ]
    return np.stack(images)  # (N, 32, 32, 3)


def _cifar_from_jpeg_npz(path):
    with np.load(path, allow_pickle=False) as f:
        x_train = _decode_jpegs(f["train_jpeg"], f["train_offsets"])
        x_test = _decode_jpegs(f["test_jpeg"], f["test_offsets"])
        return (x_train, f["y_train"]), (x_test, f["y_test"])


def _cifar_batch(file):
    # The official python version stores each batch as a pickled dict of
    # bytes keys: b"data" (N, 3072) channel-first rows, b"labels".
    batch = pickle.load(file, encoding="bytes")
    x = np.asarray(batch[b"data"], dtype="uint8").reshape(-1, 3, 32, 32)
    return x.transpose(0, 2, 3, 1), np.asarray(batch[b"labels"])  # (N, 32, 32, 3)


def _cifar_from_python_batches(open_member):
    parts = [_cifar_batch(open_member(f"data_batch_{i}")) for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    return (x_train, y_train), _cifar_batch(open_member("test_batch"))


def _cifar_from_tar(path):
    with tarfile.open(path, "r:gz") as archive:
        members = {os.path.basename(m.name): m for m in archive.getmembers() if m.isfile()}

        def open_member(name):
            if name not in members:
                raise ValueError(f"`path` {path} has no member {name}: not cifar-10-python.tar.gz?")
            return archive.extractfile(members[name])

        return _cifar_from_python_batches(open_member)


def _cifar_from_folder(path):
    return _cifar_from_python_batches(lambda name: open(os.path.join(path, name), "rb"))


def load_cifar10(path=None, seed=0):
    """CIFAR-10 `(N, 32, 32, 3)` uint8, both splits shuffled with `seed`.

    `path` may be the official `cifar-10-python.tar.gz` (the default, from
    its public URL), its extracted `cifar-10-batches-py` folder, or the
    mirror's JPEG-bytes `.npz` (the default under `KATTN_DATA`: lossy JPEG q75
    copies stored sorted by class, so pixels and order differ from the
    official file; the same images up to JPEG loss).

    >>> (x_train, y_train), (x_test, y_test) = load_cifar10()  # doctest: +SKIP
    >>> x_train.shape, CIFAR10_CLASS_NAMES[int(y_train[0])]    # doctest: +SKIP
    ((50000, 32, 32, 3), 'frog')
    """
    path = data_paths.resolve(path, "cifar10")
    if os.path.isdir(path):
        (x_train, y_train), (x_test, y_test) = _cifar_from_folder(path)
    elif path.endswith((".tar.gz", ".tgz")):
        (x_train, y_train), (x_test, y_test) = _cifar_from_tar(path)
    else:
        (x_train, y_train), (x_test, y_test) = _cifar_from_jpeg_npz(path)
    rng = np.random.default_rng(seed)
    train_order = rng.permutation(len(x_train))
    test_order = rng.permutation(len(x_test))
    return (
        (x_train[train_order], y_train[train_order].astype("int32")),
        (x_test[test_order], y_test[test_order].astype("int32")),
    )


# ----------------------------------------------------------------------------
# By name
# ----------------------------------------------------------------------------

LOADERS = {
    "digits": (load_digits, DIGITS_CLASS_NAMES),
    "mnist": (load_mnist, MNIST_CLASS_NAMES),
    "fashion-mnist": (load_fashion_mnist, FASHION_MNIST_CLASS_NAMES),
    "cifar10": (load_cifar10, CIFAR10_CLASS_NAMES),
}


def load(name, path=None):
    """`(x_train, y_train), (x_test, y_test), class_names` for a dataset name.

    >>> from zoo.vit.data import load
    >>> (x_train, y_train), (x_test, y_test), names = load("digits")
    >>> len(names)
    10
    """
    if name not in LOADERS:
        raise ValueError(f"`name` must be one of {tuple(LOADERS)}; received {name!r}.")
    loader, class_names = LOADERS[name]
    splits = loader() if name == "digits" else loader(path)
    return splits[0], splits[1], list(class_names)


# ----------------------------------------------------------------------------
# Training batches: tf.data on TensorFlow, NumPy elsewhere
# ----------------------------------------------------------------------------


def make_dataset(images, labels, batch_size, num_classes=None, shuffle=False,
                 augment=None, mix=None, seed=0):
    """Batches of `(images, labels)` that keep the cores busy.

    On TensorFlow a `tf.data.Dataset`; on JAX and torch (no TensorFlow
    needed) an `ImageBatches` that does the same in NumPy and Keras ops.

    Args:
        images: uint8 `(N, H, W, C)`; labels: int `(N,)`.
        num_classes: when given, labels become one-hot float32 `(B, classes)`
            (needed by `mix` and by label smoothing).
        shuffle: reshuffle every epoch, and drop the short last batch (a
            training set: every batch has the same shape, so kattn's blocks
            stay XLA-compiled, and each epoch leaves out different images).
        augment: a callable on float32 image batches `(B, H, W, C)`, e.g.
            `zoo.vit.augment.image_augmenter(...)`, run in the pipeline.
        mix: a callable `(images, one_hot_labels) -> (images, labels)` such as
            `zoo.vit.augment.mixer(...)`, run after `augment`.

    Augmentation runs on whole batches (vectorised, far cheaper than per
    image), in parallel with training, and the next batches are prefetched.

    >>> from zoo.vit.data import make_dataset
    >>> import numpy as np
    >>> ds = make_dataset(np.zeros((10, 8, 8, 1), "uint8"), np.arange(10), 4,
    ...                   num_classes=10)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), tuple(y.shape)
    ((4, 8, 8, 1), (4, 10))
    """
    if mix is not None and num_classes is None:
        raise ValueError("`num_classes` is required with `mix`: mixing needs one-hot labels.")
    if keras.backend.backend() != "tensorflow":
        return ImageBatches(images, labels, batch_size, num_classes, shuffle, augment, mix, seed)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices((images, np.asarray(labels, "int32")))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=shuffle, num_parallel_calls=tf.data.AUTOTUNE)

    def prepare(x, y):
        x = tf.cast(x, "float32")  # still 0..255: the model rescales
        if augment is not None:
            x = augment(x, training=True)
        if num_classes is not None:
            y = tf.one_hot(y, num_classes)
        if mix is not None:
            x, y = mix(x, y)
        return x, y

    dataset = dataset.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)


class ImageBatches(keras.utils.PyDataset):
    """`make_dataset` without TensorFlow: the same batches, drawn in NumPy.

    Epoch `e` is shuffled from `(seed, e)` alone; augmentation and mixing run
    on each whole batch (Keras layers, eager on the backend).
    """

    def __init__(self, images, labels, batch_size, num_classes=None, shuffle=False,
                 augment=None, mix=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.images = np.asarray(images)
        self.labels = np.asarray(labels, "int32")
        self.batch_size = int(batch_size)
        self.num_classes = num_classes
        self.shuffle = shuffle
        self.augment = augment
        self.mix = mix
        self.seed = seed
        self.set_epoch(0)

    def set_epoch(self, epoch):
        self.epoch = epoch
        count = len(self.images)
        self.order = np.random.default_rng([self.seed, epoch]).permutation(count) if self.shuffle else np.arange(count)

    def on_epoch_end(self):
        self.set_epoch(self.epoch + 1)

    def __len__(self):
        count = len(self.images)
        return count // self.batch_size if self.shuffle else -(-count // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        x = self.images[rows].astype("float32")  # (B, H, W, C), still 0..255: the model rescales
        y = self.labels[rows]  # (B,)
        if self.augment is not None:
            x = self.augment(x, training=True)
        if self.num_classes is not None:
            y = np.eye(self.num_classes, dtype="float32")[y]  # (B, classes)
        if self.mix is not None:
            x, y = self.mix(x, y)
        return keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y)
