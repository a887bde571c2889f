"""zoo.data_paths: public download into the Keras cache, checked by sha256, or
the offline mirror KATTN_DATA. Downloads come from a local HTTP server on
127.0.0.1 serving copies of the mirror's files; nothing reaches the network."""

import functools
import hashlib
import http.server
import os
import shutil
import socket
import threading
import zipfile

import pytest

from tests.conftest import require_shared_data
from zoo import data_paths
from zoo.translation import data as translation_data
from zoo.tweets import data as tweets_data

MAPPING = "sentiment/mapping.txt"  # 32 bytes of TweetEval


@pytest.fixture
def server(tmp_path):
    """A file server on 127.0.0.1 for `root`, recording the paths it was asked for."""
    root = tmp_path / "served"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/", requests
    httpd.shutdown()
    httpd.server_close()


def without_mirror(monkeypatch, tmp_path):
    """From here on: no mirror, and an empty Keras cache in a temporary KERAS_HOME."""
    monkeypatch.delenv("KATTN_DATA", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))


def serve_as(monkeypatch, name, url):
    monkeypatch.setitem(data_paths.DATASETS, name, data_paths.DATASETS[name]._replace(url=url))


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def test_download_is_checked_cached_and_not_repeated(server, monkeypatch, tmp_path):
    mirror_file = require_shared_data(f"tweeteval/datasets/{MAPPING}")
    without_mirror(monkeypatch, tmp_path)
    root, url, requests = server
    (root / "sentiment").mkdir()
    shutil.copy(mirror_file, root / MAPPING)
    serve_as(monkeypatch, "tweeteval", url)
    assert not data_paths.is_available("tweeteval", MAPPING)

    path = data_paths.fetch("tweeteval", MAPPING)
    assert requests == ["/" + MAPPING]
    assert path == os.path.join(data_paths.cache_dir("tweeteval"), MAPPING)
    assert hashlib.sha256(open(path, "rb").read()).hexdigest() == data_paths.DATASETS["tweeteval"].files[MAPPING]
    assert data_paths.is_available("tweeteval", MAPPING)

    assert data_paths.fetch("tweeteval", MAPPING) == path
    assert tweets_data.load_label_names("sentiment") == ["negative", "neutral", "positive"]
    assert requests == ["/" + MAPPING]  # both answered from the cache


def test_a_tampered_download_is_refused_and_deleted(server, monkeypatch, tmp_path):
    mirror_file = require_shared_data(f"tweeteval/datasets/{MAPPING}")
    without_mirror(monkeypatch, tmp_path)
    root, url, requests = server
    (root / "sentiment").mkdir()
    tampered = open(mirror_file, "rb").read().replace(b"positive", b"negative")
    (root / MAPPING).write_bytes(tampered)
    serve_as(monkeypatch, "tweeteval", url)

    expected = data_paths.DATASETS["tweeteval"].files[MAPPING]
    actual = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(ValueError) as error:
        data_paths.fetch("tweeteval", MAPPING)
    message = str(error.value)
    assert "mapping.txt" in message and expected in message and actual in message
    assert requests == ["/" + MAPPING]
    assert files_under(data_paths.cache_dir("tweeteval")) == []  # nothing left in the cache
    assert not data_paths.is_available("tweeteval", MAPPING)


def test_without_network_or_mirror_one_clear_error(monkeypatch, tmp_path):
    without_mirror(monkeypatch, tmp_path)
    with socket.socket() as s:  # a port on which nothing listens
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/mnist/"
    serve_as(monkeypatch, "mnist", url)
    with pytest.raises(ConnectionError) as error:
        data_paths.fetch("mnist")
    message = str(error.value)
    assert "'mnist'" in message and url + "mnist.npz" in message and "KATTN_DATA" in message
    assert files_under(data_paths.cache_dir("mnist")) == []


def test_the_mirror_is_read_in_place_and_checked(tmp_path, monkeypatch):
    mirror_file = require_shared_data(f"tweeteval/datasets/{MAPPING}")
    mirror = tmp_path / "mirror"
    monkeypatch.setenv("KATTN_DATA", str(mirror))
    with pytest.raises(FileNotFoundError, match=r"KATTN_DATA=.*mirror"):
        data_paths.fetch("tweeteval", MAPPING)

    (mirror / "tweeteval" / "datasets" / "sentiment").mkdir(parents=True)
    copy = mirror / "tweeteval" / "datasets" / MAPPING
    shutil.copy(mirror_file, copy)
    assert data_paths.fetch("tweeteval", MAPPING) == str(copy)

    copy.write_text("0\tnegative\n")
    with pytest.raises(ValueError, match="sha256"):
        data_paths.fetch("tweeteval", MAPPING)
    assert copy.exists()  # a mirror's file is refused, never deleted


def test_unknown_dataset_or_file_is_a_clear_error():
    with pytest.raises(ValueError, match="`name` must be one of"):
        data_paths.fetch("imagenet")
    with pytest.raises(ValueError, match="`file` must be one of"):
        data_paths.fetch("wikitext-2", "nope.txt")


def test_spanish_pairs_from_the_public_zip_equal_the_mirror(server, monkeypatch, tmp_path):
    mirror_file = require_shared_data("spa-eng/spa.txt")
    without_mirror(monkeypatch, tmp_path)
    root, url, requests = server
    with zipfile.ZipFile(root / "spa-eng.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.write(mirror_file, "spa-eng/spa.txt")  # the layout of the public zip
    serve_as(monkeypatch, "spa-eng", url + "spa-eng.zip")

    pairs = translation_data.load_anki()
    assert requests == ["/spa-eng.zip"]
    assert files_under(data_paths.cache_dir("spa-eng")) == ["spa-eng/spa.txt"]  # the zip is not kept
    assert pairs == translation_data.load_anki(mirror_file)
    assert len(pairs) == 118_964


def test_semeval_table_rebuilt_from_the_public_raw_files_equals_the_mirror(server, monkeypatch, tmp_path):
    mirror_table = require_shared_data("semeval2017-4a/train.tsv")
    mirror_tweeteval = require_shared_data("tweeteval/datasets")
    without_mirror(monkeypatch, tmp_path)
    root, url, requests = server
    shutil.copytree(os.path.join(os.path.dirname(mirror_table), "raw"), root / "raw")
    shutil.copytree(mirror_tweeteval, root / "tweeteval")
    serve_as(monkeypatch, "semeval2017-4a", url + "raw/")
    serve_as(monkeypatch, "tweeteval", url + "tweeteval/")

    texts, labels, names = tweets_data.load_semeval_train()  # rebuilt, checked against the table's sha256
    assert len(requests) == 11 + 2  # the raw files, TweetEval's sentiment val texts and mapping
    expected_texts, expected_labels, expected_names = tweets_data.load_semeval_train(mirror_table)
    assert texts == expected_texts and names == expected_names
    assert labels.tolist() == expected_labels.tolist()
