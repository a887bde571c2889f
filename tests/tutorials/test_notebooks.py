"""Every tutorial notebook runs top to bottom in fast mode; the gallery matches.

Each notebook runs in a fresh kernel with `KATTN_FAST=1` (tiny sizes) and
writes its pictures to a temporary folder, so the tracked `docs/images/` is
left alone. Any error in any cell fails the test. A notebook that reads a
dataset skips, with the reason, when the dataset is neither in the offline
mirror `KATTN_DATA` nor in the Keras cache (tests never download; under
`CI=true` that is a failure).
"""

import glob
import importlib.util
import os
import re

import pytest

from tests.conftest import require_dataset, require_module

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUTORIALS_DIR = os.path.join(REPO_ROOT, "tutorials")
NOTEBOOKS = sorted(glob.glob(os.path.join(TUTORIALS_DIR, "[0-9][0-9]_*.ipynb")))
GALLERY = os.path.join(REPO_ROOT, "docs", "gallery.md")
# The datasets each notebook reads in fast mode (zoo.data_paths names).
NOTEBOOK_DATASETS = {
    "06": ("tweeteval", "semeval2017-4a"),
    "07": ("wikitext-2", "semeval2017-4a", "tweeteval"),
    "08": ("mnist",),
    "09": ("wikitext-2",),
}


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _render_module():
    spec = importlib.util.spec_from_file_location("render", os.path.join(TUTORIALS_DIR, "render.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gallery_images():
    with open(GALLERY, encoding="utf-8") as f:
        return re.findall(r"images/([\w.-]+\.png)", f.read())


def test_notebooks_are_numbered_once_each():
    numbers = [os.path.basename(p)[:2] for p in NOTEBOOKS]
    assert len(numbers) >= 3
    assert len(set(numbers)) == len(numbers), numbers


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_committed_notebook_has_no_outputs(path):
    nbformat = require_module("nbformat", "reads the tutorial notebooks")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"cell {index} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_runs_top_to_bottom_in_fast_mode(path, tmp_path, monkeypatch):
    require_module("nbclient", "executes the tutorial notebooks")
    for dataset in NOTEBOOK_DATASETS.get(os.path.basename(path)[:2], ()):
        require_dataset(dataset)
    monkeypatch.setenv("KATTN_FAST", "1")
    monkeypatch.setenv("KATTN_TUTORIAL_IMAGES", str(tmp_path))

    notebook = _render_module().execute(path, timeout=600)  # raises on any failing cell

    # Its pictures were saved, including every one the gallery shows.
    written = set(os.listdir(tmp_path))
    prefix = os.path.basename(path)[:3]  # "02_"
    assert any(name.startswith(prefix) and name.endswith(".png") for name in written)
    missing = {name for name in _gallery_images() if name.startswith(prefix)} - written
    assert not missing, f"gallery pictures the notebook did not save: {sorted(missing)}"

    # Keras models built from kattn layers train without mask warnings.
    stderr = "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    )
    assert "mask" not in stderr.lower(), stderr[-2000:]


def test_gallery_pictures_exist_and_belong_to_notebooks():
    images = _gallery_images()
    assert images, "docs/gallery.md shows no pictures"
    prefixes = {os.path.basename(p)[:3] for p in NOTEBOOKS}
    for name in images:
        assert os.path.exists(os.path.join(REPO_ROOT, "docs", "images", name)), name
        assert name[:3] in prefixes, f"{name} belongs to no notebook"
