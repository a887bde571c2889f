"""Where the zoo's datasets come from: their public source, or an offline mirror.

By default a loader downloads its dataset once from the public source listed
in `DATASETS` into the Keras cache (`~/.keras/datasets/kattn/<name>/`, or under
`$KERAS_HOME`) with `keras.utils.get_file`, and checks every file's sha256
each time it is used. A file with another hash is deleted and refused with a
`ValueError` naming it and both hashes.

`KATTN_DATA=DIR` points every loader at an offline mirror laid out like the
project's `shared/data` (`DIR/mnist/mnist.npz`, `DIR/tweeteval/datasets/...`).
Nothing is downloaded then: the mirror's files are checked against their own
sha256 (`mirror_files`: the mirror keeps some datasets in another format than
the public source; each loader reads both and gives the same examples).

Without internet and without a mirror, a loader raises a `ConnectionError`
naming the dataset, the URL and `KATTN_DATA`.

Every loader also takes an explicit `path` (a local file or folder, or a URL
downloaded once, unchecked): see `resolve`.

>>> from zoo import data_paths
>>> sorted(data_paths.DATASETS)
['cifar10', 'fashion-mnist', 'mnist', 'semeval2017-4a', 'spa-eng', 'tweeteval', 'wikitext-2']
>>> data_paths.DATASETS["mnist"].url + "mnist.npz"
'https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz'
"""

import collections
import hashlib
import os
import shutil
import zipfile

# url: the folder the public files are in (each file is `url + file`), or one
#   `.zip` whose members are `files` (their sha256 is taken after extraction).
# files: {file: sha256} of the public source.
# mirror: the dataset's folder under KATTN_DATA.
# mirror_files: {file: sha256} under `mirror`; None when they are `files`.
Dataset = collections.namedtuple("Dataset", ["url", "files", "mirror", "mirror_files"], defaults=(None,))

KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

DATASETS = {
    # keras.datasets.mnist's file and hash; same arrays as the mirror's npz.
    "mnist": Dataset(
        KERAS_DATASETS,
        {"mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"},
        "mnist",
        {"mnist.npz": "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"},
    ),
    # keras.datasets.fashion_mnist's four IDX files (keras gives no hash: these
    # are the sha256 of Zalando's files, the labels' equal to the mirror's).
    "fashion-mnist": Dataset(
        KERAS_DATASETS,
        {
            "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        },
        "fashion-mnist",
        {"fashion_mnist.npz": "5b6d2c4c694a91887af8ab7d039c04f80af3c29378d731c93a538d2e831aa469"},
    ),
    # keras.datasets.cifar10's python batches (lossless); the mirror holds
    # JPEG (q75) copies of the same images.
    "cifar10": Dataset(
        "https://www.cs.toronto.edu/~kriz/",
        {"cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"},
        "cifar10",
        {"cifar10_jpeg.npz": "bf4ae456faead12bb13462e376e7883f4b47b39f5819e8500326a2f2fe838f5d"},
    ),
    # The TensorFlow NMT tutorial's zip (2018-05-13 Tatoeba/Anki export);
    # spa.txt inside it is byte-identical to the mirror's.
    "spa-eng": Dataset(
        "https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip",
        {"spa-eng/spa.txt": "6ec60e212f812ee3430f7568ea6f33b6fb080e32193c5952e8da0ee8ba45574c"},
        "spa-eng",
        {"spa.txt": "6ec60e212f812ee3430f7568ea6f33b6fb080e32193c5952e8da0ee8ba45574c"},
    ),
    # The canonical repository at the commit the mirror copied byte-for-byte.
    # Sentiment train texts are left out: the mirror lacks them, so no hash.
    "tweeteval": Dataset(
        "https://raw.githubusercontent.com/cardiffnlp/tweeteval/4fbd22cd78421f05b1ecdb4fc5725bc7a7bd8f66/datasets/",
        {
            "emotion/mapping.txt": "656dea85d149716af96206ca19bec0d94e9dc6de3f5079f5c7c2a241ec76cadb",
            "emotion/test_labels.txt": "245072348c711961785be6d395997f97cf7fcda3effeae7805664171dc75f913",
            "emotion/test_text.txt": "7e1070f5d3e3fcece5bc73680bff9981e90d8f7b2f1009bfe7a01d059d1c6091",
            "emotion/train_labels.txt": "987e767d8679e18abdf7de37a6d2bcd0a40a296ddd704e8d515cf0e3033c8d9c",
            "emotion/train_text.txt": "2c62f67aeb3eac1aea0e5a9c3d0f4bc337992581f3f858061786a1fb4d79d95e",
            "emotion/val_labels.txt": "313730630160b7e0a6b4235b800c76683f4aeeb72d094eb69646630cd5cfe338",
            "emotion/val_text.txt": "e2e30c86b8cbb97944d6543aedc06eace3bb275cb2f381aba787b838b4f23ca5",
            "hate/mapping.txt": "3fc75504ffae64ddc82e13afb5790af7798cd3167d7d35790abe78b39b991896",
            "hate/test_labels.txt": "c14adca6b3627616a835c5ccea8a1cceb0235cd79417257f093eb0e16a69c62f",
            "hate/test_text.txt": "bc4762876a8dd8baa55c3cd7b03108e3231a5d691e80b8b1ef97c5be31b9da9a",
            "hate/train_labels.txt": "4e8fde025a453a25c94632794254131dedeac4e57228ad64157c41571cc88f71",
            "hate/train_text.txt": "6572bb3a42143128a5dfa99af8debeb0668e637c34b2d1e3140dac47316fe2c2",
            "hate/val_labels.txt": "5092badf1a0e70036ea6264bcd0b78afc07d0f4a512fa6af34c2c4973600656b",
            "hate/val_text.txt": "1ff78b1ed4c5ce43284b9eba32eb7d60c6d45d0d1b3b4d6df456ae01640764f1",
            "irony/mapping.txt": "70e09046e181179b9870a2f59a3263bbb28c787831779e4ce4a18373d054296b",
            "irony/test_labels.txt": "08e2095e1725e74907a380614c220204e356bb46e3e8c93deb74e83e5b15ab38",
            "irony/test_text.txt": "53103da934a7308eee82f05f2a9781a8ea3e88604fdc1e02d3101108505c64be",
            "irony/train_labels.txt": "fc69e6106c0f1f433a91536e08f83c71a391d7b219f7684d42f243a8089af77d",
            "irony/train_text.txt": "a888125a44f7dfaa25b026318748d0e62cc9a300d20f66eafd62011a19eaea23",
            "irony/val_labels.txt": "ccf429f63b4e8d0e7f425ca09445f7c31f7cea8a1b7c283b015b117c4002fd07",
            "irony/val_text.txt": "8806cf3793e300a485cfae34892fc3a0a2f9a183deb06c750c6531515c83051e",
            "offensive/mapping.txt": "3e427f483dd5d5be21ae85dcf224c36b3d024af27999939fa0d438d695801c50",
            "offensive/test_labels.txt": "41d05a7aa0b01f5dafab21b95adb4f979cb4226c046ff315702774d10dac1605",
            "offensive/test_text.txt": "25b08c3333c26190f1023961c4508ec9aab24d4722b1a3ea7a6040724c120547",
            "offensive/train_labels.txt": "c0b7d6ebdaa4ebcf6fc557ef1e775d92eda160218a0e3b1dd48eb8234dc892a6",
            "offensive/train_text.txt": "78a7a32e38b10af7d8970b008bf17f661c8d0a90dad145fa0fa6a944669650db",
            "offensive/val_labels.txt": "ed2deb776bd1c52fb8221fadd3360e32d9dfe46842d78053528126e46363a258",
            "offensive/val_text.txt": "816f36d180c35f15a5104838cb73856a0bef42043482fe738f3481b06242a55c",
            "sentiment/mapping.txt": "c0572796fbe261d8ea5fd16c5061076fbba49bc69fc865d6abccaf60daacee24",
            "sentiment/test_labels.txt": "6afb4afe9374d1f983bcf9a7c79b108d0f37fdf020a83f30488309bed215db9d",
            "sentiment/test_text.txt": "09a93a55c63fd93f97485ef7302889d7edb4091cd49733aa37da094f0bfa0675",
            "sentiment/train_labels.txt": "122bfb1732fb6995b0e5c5f726c0ba457c469c3b6e60513007ce5037f23e65d4",
            "sentiment/val_labels.txt": "b4566926c72e2e4e2916c864def94e76c4cdde52446af2c7ba4fc2006e057e51",
            "sentiment/val_text.txt": "e5b021e6fc45064c260b09814b803d8f56cada519c4d952d72f43d48a350a964",
        },
        "tweeteval/datasets",
    ),
    # pytorch/examples' WikiText-2 (v1, tokenized); the mirror's valid/test
    # are copies of these files, its train.txt a rebuild of the same file.
    "wikitext-2": Dataset(
        "https://raw.githubusercontent.com/pytorch/examples/77f55b912142e11fcfdf5b530231fb9c52f181e8/"
        "word_language_model/data/wikitext-2/",
        {
            "train.txt": "9e9fa1ad55b1c2c95b08e37dd8e653f638fac2c6de904b79e813611eefbc985f",
            "valid.txt": "f0737ed31fc1329026e95cb8b98e19c2a182c39c240ab909dc31abf2f8af58e8",
            "test.txt": "d790b833ef8cf03a90db7bf1271b7520b83c45ce07ba3c1a9699df81e239eca0",
        },
        "wikitext-2",
    ),
    # The 11 raw SemEval 2013-2016 files (as the mirror's raw/); the mirror's
    # train.tsv is derived from them: zoo.tweets.semeval rebuilds it exactly.
    "semeval2017-4a": Dataset(
        "https://raw.githubusercontent.com/cbaziotis/datastories-semeval2017-task4/"
        "faeee5fd1c2cf38e32179a4676dff53ae01adfa8/dataset/Subtask_A/downloaded/",
        {
            "twitter-2013dev-A.tsv": "e402ab2e9bad766275ef5af490e2c3b0edca8236d60e6e69227589186bffd896",
            "twitter-2013test-A.tsv": "eb98d2342016eefda22dd563aa1ccde18aed399eeba572d8c963bbc56c196164",
            "twitter-2013train-A.tsv": "111969d156c516b40bd504fcedcca52bbd44ec24add6f59290eb94df9b9c392c",
            "twitter-2014sarcasm-A.tsv": "8321459374f88fc32b0b93da76c8740e7a3f30256886dbe9fcebb04b0ae8906f",
            "twitter-2014test-A.tsv": "d6aa09ca41031e3deefb7e5b2f74f53260ab374f993e2275d8e4ccec6b210253",
            "twitter-2015test-A.tsv": "54b3481924c025d31ac9669c049603b91035b40e8becd6629fb9476a6d9a62f4",
            "twitter-2015train-A.tsv": "29780e613f562a511fa427196503c3f95fea6c0298470e157deab88a0e0ed65e",
            "twitter-2016dev-A.tsv": "47bda81cb91db2bf92222a5f20742b5e3edc14eb391e74b882b284e5afd0c8bb",
            "twitter-2016devtest-A.tsv": "c16686ebaa3b61770f4d4d2a60d051715146950faa93e039bb0aefb3523c3b38",
            "twitter-2016test-A.tsv": "c90ee3e9cca3c4b019cc45169190c0bcc1c9e2eda938527e31d12040798dc453",
            "twitter-2016train-A.tsv": "f49f65cf5e94b47d077ab7715d3d0a656c09b5c71608678a672d7378ef79c932",
        },
        "semeval2017-4a",
        {"train.tsv": "6684e5c23f2a9c4b91b54d1cd3c3cd1e70124c7a7236ddba523a592bfbee6d7e"},
    ),
}


def mirror_dir():
    """The offline mirror `KATTN_DATA`, or None when it is unset or empty."""
    return os.environ.get("KATTN_DATA") or None


def _keras_home():
    # Read at each call (Keras reads it once, at import), so tests can move it.
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def cache_dir(name):
    """Where dataset `name` is downloaded: `<KERAS_HOME or ~/.keras>/datasets/kattn/<name>`."""
    return os.path.join(_keras_home(), "datasets", "kattn", name)


def _source(name):
    """`(folder, {file: sha256})` that `fetch(name)` reads: the mirror's or the cache's."""
    if name not in DATASETS:
        raise ValueError(f"`name` must be one of {sorted(DATASETS)}; received {name!r}.")
    dataset = DATASETS[name]
    if mirror_dir():
        return os.path.join(mirror_dir(), dataset.mirror), dataset.mirror_files or dataset.files
    return cache_dir(name), dataset.files


def _wanted(name, files, file):
    if file is None:
        return list(files)
    if file not in files:
        raise ValueError(f"`file` must be one of {sorted(files)} for dataset {name!r}; received {file!r}.")
    return [file]


def is_available(name, file=None):
    """Whether `fetch(name, file)` can answer without the network.

    True when the mirror (`KATTN_DATA` set) or the Keras cache (unset) holds
    the files. Nothing is hashed or downloaded.
    """
    folder, files = _source(name)
    return all(os.path.exists(os.path.join(folder, f)) for f in _wanted(name, files, file))


def fetch(name, file=None):
    """Local path of dataset `name`, or of one of its files, checked by sha256.

    From the mirror `KATTN_DATA` when set, else from the public source
    (downloaded once into the Keras cache). With `file` (e.g.
    `fetch("tweeteval", "sentiment/test_text.txt")`) only that file; without,
    every file: the path of the file when the source has one, else their folder.
    """
    folder, files = _source(name)
    wanted = _wanted(name, files, file)
    for f in wanted:
        path = os.path.join(folder, f)
        if mirror_dir():
            if not os.path.exists(path):
                raise FileNotFoundError(
                    f"dataset {name!r}: {path} not found in the offline mirror KATTN_DATA={mirror_dir()} "
                    f"(unset KATTN_DATA to download it from {_origin(name, f)})."
                )
            _check(path, files[f], delete=False)
        else:
            if not os.path.exists(path):
                _download(name, f)
            _check(path, files[f], delete=True)
    if file is not None or len(files) == 1:
        return os.path.join(folder, wanted[0])
    return folder


def origin(name):
    """The public URL of dataset `name`: its file, its archive, or the folder of its files."""
    dataset = DATASETS[name]
    if dataset.url.endswith(".zip") or len(dataset.files) > 1:
        return dataset.url
    return dataset.url + next(iter(dataset.files))


def _origin(name, file):
    url = DATASETS[name].url
    return url if url.endswith(".zip") else url + file


def _download(name, file):
    """Put the public `file` of dataset `name` at `cache_dir(name)/file`."""
    url = DATASETS[name].url
    if not url.endswith(".zip"):
        _get_file(name, url + file, os.path.join(cache_dir(name), file))
        return
    archive = _get_file(name, url, os.path.join(cache_dir(name), os.path.basename(url)))
    try:
        with zipfile.ZipFile(archive) as members:
            for member in DATASETS[name].files:
                target = os.path.join(cache_dir(name), member)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with members.open(member) as source, open(target, "wb") as copy:
                    shutil.copyfileobj(source, copy)
    finally:
        os.remove(archive)  # only the checked members stay in the cache


def _get_file(name, origin, path):
    """Download `origin` to `path` with Keras (its progress bar)."""
    import keras

    os.makedirs(os.path.dirname(path), exist_ok=True)  # else Keras falls back to /tmp/.keras
    try:
        return keras.utils.get_file(
            os.path.basename(path),
            origin=origin,
            cache_dir=_keras_home(),
            cache_subdir=os.path.relpath(os.path.dirname(path), _keras_home()),
        )
    except Exception as error:  # Keras reports a failed fetch as a bare Exception
        raise ConnectionError(
            f"dataset {name!r} could not be downloaded from {origin} ({error}). Connect to the "
            f"internet, or set KATTN_DATA to an offline mirror laid out like shared/data "
            f"(this dataset in KATTN_DATA/{DATASETS[name].mirror}/)."
        ) from error


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(path, expected, delete):
    actual = sha256(path)
    if actual != expected:
        if delete:
            os.remove(path)  # never leave a file that failed its check in the cache
        raise ValueError(
            f"{path} has sha256 {actual}, expected {expected}: refused"
            + (" and deleted; the next call downloads it again." if delete else ".")
        )


def resolve(path, name=None):
    """A local path for a loader's `path` argument.

    `None` means dataset `name` (see `fetch`). A URL is downloaded once to the
    Keras cache (its hash is unknown, so unchecked). A missing local file is
    a `FileNotFoundError` naming it.
    """
    if path is None:
        if name is None:
            raise ValueError("`path` is required: this loader has no default dataset.")
        return fetch(name)
    path = os.fspath(path)
    if path.startswith(("http://", "https://")):
        import keras

        return keras.utils.get_file(path.rstrip("/").split("/")[-1], origin=path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"data file not found: {path}")
    return path
