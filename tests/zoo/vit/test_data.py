"""Image loaders (digits, IDX, keras.datasets .npz, CIFAR-10 files), pipeline, augmentation."""

import gzip
import hashlib
import io
import pickle
import shutil
import tarfile

import numpy as np
import pytest

from tests.conftest import require_shared_data, to_numpy
from zoo import data_paths
from zoo.vit import augment, data


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + array.astype("uint8").tobytes())


def test_digits_split_is_stratified_and_scaled():
    (x_train, y_train), (x_test, y_test) = data.load_digits()
    assert x_train.shape == (1437, 8, 8, 1) and x_test.shape == (360, 8, 8, 1)
    assert x_train.dtype == np.uint8 and x_train.max() == 16 and x_train.min() == 0  # scikit-learn's scale
    counts = np.bincount(y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 20 % of 174..183 per class
    from sklearn.datasets import load_digits

    digits = load_digits()
    first = np.flatnonzero((digits.images == x_test[0, ..., 0]).all(axis=(1, 2)))
    assert digits.target[first[0]] == y_test[0]
    (again, _), _ = data.load_digits()
    np.testing.assert_array_equal(again, x_train)


def test_idx_reader_and_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, (5,)),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, (3,)),
    }
    for name, array in arrays.items():
        write_idx(tmp_path / name, array)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "t10k-labels-idx1-ubyte.gz"), arrays["t10k-labels-idx1-ubyte.gz"])
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(str(tmp_path))
    assert x_train.shape == (5, 28, 28, 1) and y_test.dtype == np.int32
    np.testing.assert_array_equal(x_test[..., 0], arrays["t10k-images-idx3-ubyte.gz"])

    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="`path` must be an IDX file"):
        data.read_idx(tmp_path / "bad.idx")
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        data.load_mnist(str(tmp_path))


def test_shared_mnist_npz_agrees_with_the_original_idx_files():
    path = require_shared_data("mnist/mnist.npz")
    (x_train, y_train), (x_test, y_test) = data.load_mnist(path)
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    folder = path.rsplit("/", 1)[0]
    np.testing.assert_array_equal(x_test[..., 0], data.read_idx(f"{folder}/t10k-images-idx3-ubyte.gz"))
    np.testing.assert_array_equal(y_train, data.read_idx(f"{folder}/train-labels-idx1-ubyte.gz"))


def test_fashion_mnist_public_idx_files_give_the_mirror_arrays(tmp_path):
    # The public source is keras.datasets' 4 IDX files, the mirror one npz:
    # IDX files made from the mirror's pixels, beside the mirror's copies of
    # the public label files, load to the same arrays.
    npz = require_shared_data("fashion-mnist/fashion_mnist.npz")
    public = data_paths.DATASETS["fashion-mnist"].files
    for name in ("train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        copy = shutil.copy(require_shared_data(f"fashion-mnist/{name}"), tmp_path / name)
        assert hashlib.sha256(open(copy, "rb").read()).hexdigest() == public[name]
    with np.load(npz) as arrays:
        write_idx(tmp_path / "train-images-idx3-ubyte.gz", arrays["x_train"])
        write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", arrays["x_test"])
    from_public = data.load_fashion_mnist(str(tmp_path))
    from_mirror = data.load_fashion_mnist(npz)
    for got, expected in zip(from_public, from_mirror):
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
    assert from_public[0][0].shape == (60000, 28, 28, 1)


def test_cifar10_public_tarball_and_mirror_npz_give_the_same_arrays(tmp_path):
    # The public source holds the original pixels as python batches, the
    # mirror JPEG copies: given the same pixels (250 train / 50 test images of
    # the mirror, decoded), both readers give the same shuffled arrays.
    with np.load(require_shared_data("cifar10/cifar10_jpeg.npz")) as mirror:
        subset = {}
        for split, step in (("train", 200), ("test", 200)):
            offsets, blobs = mirror[f"{split}_offsets"], mirror[f"{split}_jpeg"]
            chosen = [blobs[offsets[i]:offsets[i + 1]] for i in range(0, len(offsets) - 1, step)]
            subset[f"{split}_jpeg"] = np.concatenate(chosen)
            subset[f"{split}_offsets"] = np.concatenate([[0], np.cumsum([len(b) for b in chosen])])
            subset[f"y_{split}"] = mirror[f"y_{split}"][::step]
    np.savez(tmp_path / "subset.npz", **subset)
    (x_train, y_train), (x_test, y_test) = data._cifar_from_jpeg_npz(str(tmp_path / "subset.npz"))
    assert len(set(y_train.tolist())) == 10 and x_train.shape == (250, 32, 32, 3)

    def batch(x, y):  # the python version's layout: channel-first rows
        return pickle.dumps({b"data": x.transpose(0, 3, 1, 2).reshape(len(x), -1), b"labels": y.tolist()})

    members = {f"data_batch_{i + 1}": batch(x_train[50 * i: 50 * (i + 1)], y_train[50 * i: 50 * (i + 1)])
               for i in range(5)}
    members["test_batch"] = batch(x_test, y_test)
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))

    from_public = data.load_cifar10(str(tmp_path / "cifar-10-python.tar.gz"), seed=3)
    from_mirror = data.load_cifar10(str(tmp_path / "subset.npz"), seed=3)
    for got, expected in zip(from_public, from_mirror):
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_array_equal(got[1], expected[1])
        assert got[1].dtype == np.int32


def cifar_batch(rng, count):
    images = rng.integers(0, 256, (count, 32, 32, 3)).astype("uint8")
    labels = rng.integers(0, 10, count).tolist()
    rows = images.transpose(0, 3, 1, 2).reshape(count, -1)  # channel-first rows, as the original
    return images, labels, pickle.dumps({b"data": rows, b"labels": labels})


def test_cifar10_python_tarball(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "cifar-10-python.tar.gz"
    expected = []
    with tarfile.open(path, "w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            images, labels, content = cifar_batch(rng, 2)
            expected.append((images, labels))
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(str(path), seed=0)
    assert x_train.shape == (10, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    all_train = np.concatenate([images for images, _ in expected[:5]])
    all_labels = np.concatenate([labels for _, labels in expected[:5]])
    order = np.random.default_rng(0).permutation(10)  # shuffled with the seed
    np.testing.assert_array_equal(x_train, all_train[order])
    np.testing.assert_array_equal(y_train, all_labels[order])


def test_cifar10_jpeg_npz_is_decoded_and_shuffled(tmp_path):
    from PIL import Image

    # Flat-coloured images survive JPEG almost exactly: label i has grey level 20 i.
    def jpeg_bytes(level):
        buffer = io.BytesIO()
        Image.fromarray(np.full((32, 32, 3), level, "uint8")).save(buffer, "JPEG", quality=95)
        return np.frombuffer(buffer.getvalue(), "uint8")

    labels = np.repeat(np.arange(4), 2).astype("uint8")  # class-sorted, like the shared file
    blobs = [jpeg_bytes(20 * int(label)) for label in labels]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])])
    np.savez(tmp_path / "c.npz", train_jpeg=np.concatenate(blobs), train_offsets=offsets,
             y_train=labels, test_jpeg=np.concatenate(blobs[:2]), test_offsets=offsets[:3],
             y_test=labels[:2], class_names=np.array(data.CIFAR10_CLASS_NAMES))
    (x_train, y_train), (x_test, y_test) = data.load_cifar10(str(tmp_path / "c.npz"))
    assert x_train.shape == (8, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    assert not np.array_equal(y_train, labels)  # no longer class-sorted
    np.testing.assert_allclose(x_train.mean(axis=(1, 2, 3)), 20.0 * y_train, atol=2)


def test_pipeline_batches_one_hot_and_augments():
    x = np.arange(10 * 8 * 8, dtype="uint8").reshape(10, 8, 8, 1)
    y = np.arange(10) % 3
    plain = data.make_dataset(x, y, 4)
    first_x, first_y = next(iter(plain))
    np.testing.assert_array_equal(to_numpy(first_x), x[:4].astype("float32"))
    np.testing.assert_array_equal(to_numpy(first_y), y[:4])
    # Evaluation keeps every image; a shuffled training set drops the short
    # last batch, so every training batch has one shape.
    assert [int(b.shape[0]) for b, _ in plain] == [4, 4, 2]
    assert [int(b.shape[0]) for b, _ in data.make_dataset(x, y, 4, shuffle=True)] == [4, 4]

    shifted = data.make_dataset(x, y, 10, num_classes=3,
                                augment=augment.image_augmenter(8, max_shift=2, seed=1))
    batch_x, batch_y = next(iter(shifted))
    np.testing.assert_array_equal(to_numpy(batch_y), np.eye(3)[y])
    assert batch_x.shape == (10, 8, 8, 1) and not np.array_equal(to_numpy(batch_x), x)
    with pytest.raises(ValueError, match="`num_classes` is required with `mix`"):
        data.make_dataset(x, y, 4, mix=augment.mixer())


def _shifted(image, dy, dx):
    """`image` moved down by `dy` and right by `dx` pixels, zeros let in."""
    height, width = image.shape[:2]
    padded = np.pad(image, ((1, 1), (1, 1), (0, 0)))
    return padded[1 - dy: 1 - dy + height, 1 - dx: 1 - dx + width]


def test_augmenter_shift_flip_and_mixing():
    images = np.arange(2 * 4 * 4, dtype="float32").reshape(2, 4, 4, 1)
    flip = augment.image_augmenter(4, flip=True, seed=3)
    flipped = to_numpy(flip(images, training=True))
    for original, result in zip(images, flipped):  # each image kept or mirrored
        assert np.array_equal(result, original) or np.array_equal(result, original[:, ::-1])
    np.testing.assert_array_equal(to_numpy(flip(images, training=False)), images)

    shift = augment.image_augmenter(6, max_shift=1, seed=0)
    many = np.random.default_rng(0).uniform(1, 255, (32, 6, 6, 1)).astype("float32")
    shifted = to_numpy(shift(many, training=True))
    moves = []
    for original, result in zip(many, shifted):  # each image moved by whole pixels
        matches = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if np.array_equal(result, _shifted(original, dy, dx))]
        assert matches, "not a whole-pixel shift of at most 1 with zero fill"
        moves.append(matches[0])
    assert len(set(moves)) > 3  # each image its own shift, not one per batch
    np.testing.assert_array_equal(to_numpy(shift(many, training=False)), many)

    x = np.stack([np.zeros((4, 4, 1)), np.ones((4, 4, 1))]).astype("float32")
    labels = np.eye(2, dtype="float32")
    mixed_x, mixed_y = augment.mixer("mixup", alpha=1.0, seed=0)(x, labels)
    mixed_x, mixed_y = to_numpy(mixed_x), to_numpy(mixed_y)
    # MixUp blends image and label with the same weight: mean pixel = weight of image 1.
    np.testing.assert_allclose(mixed_x.mean(axis=(1, 2, 3)), mixed_y[:, 1], atol=1e-5)
    with pytest.raises(ValueError, match="`kind` must be one of"):
        augment.mixer("blend")


def test_shifted_moves_whole_pixels_and_rejects_too_large_shifts():
    images = np.random.default_rng(1).uniform(1, 255, (3, 5, 6, 2)).astype("float32")
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            expected = np.stack([_shifted(image, dy, dx) for image in images])
            np.testing.assert_array_equal(augment.shifted(images, dy, dx), expected)
    two = augment.shifted(images, 2, -2)
    np.testing.assert_array_equal(two[:, 2:, :-2], images[:, :-2, 2:])
    assert not two[:, :2].any() and not two[:, :, -2:].any()
    with pytest.raises(ValueError, match="smaller than the image"):
        augment.shifted(images, 5, 0)


def test_predict_with_shifts_is_the_mean_over_every_view():
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    images = np.random.default_rng(2).uniform(0, 1, (5, 4, 4, 1)).astype("float32")

    def views(batch):
        return [np.stack([_shifted(image, dy, dx) for image in batch])
                for dy in (-1, 0, 1) for dx in (-1, 0, 1)]

    by_hand = np.mean([model.predict(v, verbose=0) for v in views(images)], axis=0)
    averaged = augment.predict_with_shifts(model, images, max_shift=1)
    np.testing.assert_allclose(averaged, by_hand, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(averaged.sum(axis=-1), 1.0, rtol=1e-6)

    mirrored = views(images) + views(images[:, :, ::-1])
    by_hand = np.mean([model.predict(v, verbose=0) for v in mirrored], axis=0)
    np.testing.assert_allclose(augment.predict_with_shifts(model, images, 1, flip=True), by_hand,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(augment.predict_with_shifts(model, images, max_shift=0),
                               model.predict(images, verbose=0), rtol=1e-6)
    with pytest.raises(ValueError, match="`max_shift` must be an int >= 0"):
        augment.predict_with_shifts(model, images, max_shift=-1)
    with pytest.raises(ValueError, match="`images` must have shape"):
        augment.predict_with_shifts(model, images[0])
