"""tutorials/render.py: a page with outputs and pictures, and a failure the page admits."""

import importlib.util
import json
import os

from tests.conftest import require_module

nbformat = require_module("nbformat", "reads and writes notebooks")
require_module("nbclient", "executes notebooks")

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A 1x1 PNG, shown as a notebook picture.
PIXEL = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _render_module(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("render", os.path.join(REPO_ROOT, "tutorials", "render.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "PAGES_DIR", str(tmp_path / "pages"))
    return module


def _notebook(path, *cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# 9. A test tutorial\n\nSome text.")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(notebook, str(path))
    return str(path)


def test_page_has_outputs_pictures_and_the_fast_mode_note(tmp_path, monkeypatch):
    render = _render_module(tmp_path, monkeypatch)
    path = _notebook(
        tmp_path / "99_test.ipynb",
        "import os\nprint('fast:', os.environ.get('KATTN_FAST'))",
        "import base64\nfrom IPython.display import Image\n"
        f"Image(data=base64.b64decode('{PIXEL}'), format='png')",
    )
    monkeypatch.delenv("KATTN_FAST", raising=False)
    assert render.render(path, fast=True) is None
    assert "KATTN_FAST" not in os.environ  # the caller's environment is restored
    page = (tmp_path / "pages" / "99_test.md").read_text()
    assert page.startswith("# 9. A test tutorial")
    assert '!!! note "Rendered in fast mode"' in page and "fast: 1" in page
    pictures = os.listdir(tmp_path / "pages" / "99_test_files")
    assert len(pictures) == 1 and f"99_test_files/{pictures[0]}" in page
    assert (tmp_path / "pages" / "99_test.ipynb").exists()
    note = json.loads((tmp_path / "pages" / "99_test.json").read_text())
    assert note["mode"] == "fast" and note["error"] is None
    assert render.is_rendered(path)
    _notebook(tmp_path / "99_test.ipynb", "print('changed')")
    assert not render.is_rendered(path)  # a changed notebook is rendered again


def test_a_failing_tutorial_is_rendered_up_to_the_error_and_says_so(tmp_path, monkeypatch):
    render = _render_module(tmp_path, monkeypatch)
    path = _notebook(
        tmp_path / "98_data.ipynb",
        "print('before the data')",
        "open('/no/such/dataset/train.tsv')",
        "print('never runs')",
    )
    error = render.render(path, fast=False)
    assert "FileNotFoundError" in error
    page = (tmp_path / "pages" / "98_data.md").read_text()
    assert '!!! failure "This tutorial stopped with an error in this build"' in page
    assert "KATTN_DATA" in page and "/no/such/dataset/train.tsv" in page
    assert "\n    before the data" in page  # an output, indented as code
    assert "print('never runs')" in page and "\n    never runs" not in page
    assert "Rendered in fast mode" not in page
    assert not render.is_rendered(path)  # tried again next time
