"""Execute the tutorial notebooks and render them, with outputs, to HTML.

    python tutorials/render.py            # every notebook (what `make tutorials` runs)
    python tutorials/render.py 02 04      # only the notebooks whose names start so
    KATTN_FAST=1 python tutorials/render.py   # tiny sizes, a quick look

Each notebook runs top to bottom in a fresh kernel, in `tutorials/`, and is
written to `docs/tutorials/<name>.html`; its pictures go to `docs/images/`
(see `tutorial_setup.py`). The committed `.ipynb` files stay without outputs.
"""

import glob
import os
import re
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

TUTORIALS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TUTORIALS_DIR)
HTML_DIR = os.path.join(REPO_ROOT, "docs", "tutorials")


def notebook_paths(prefixes=()):
    """The numbered notebooks, in order; only those matching `prefixes` if given."""
    paths = sorted(glob.glob(os.path.join(TUTORIALS_DIR, "[0-9][0-9]_*.ipynb")))
    if prefixes:
        paths = [p for p in paths if os.path.basename(p).startswith(tuple(prefixes))]
    return paths


def execute(path, timeout=1800):
    """Run the notebook at `path` in a fresh kernel; return it with outputs.

    Raises `nbclient.exceptions.CellExecutionError` at the first failing cell.
    """
    notebook = nbformat.read(path, as_version=4)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": TUTORIALS_DIR}},
    )
    client.execute()
    return notebook


# TensorFlow's C++ start-up lines ("I0000 ... cudart_stub.cc ...") that the
# kernel captures on stderr; they say nothing to a reader of the tutorial.
_TENSORFLOW_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)")


def drop_tensorflow_log_lines(notebook):
    """Remove TensorFlow's C++ log lines from the stderr outputs of `notebook`."""
    for cell in notebook.cells:
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                lines = output["text"].splitlines(keepends=True)
                output["text"] = "".join(l for l in lines if not _TENSORFLOW_LOG_LINE.match(l))
                if not output["text"].strip():
                    continue
            outputs.append(output)
        if cell.cell_type == "code":
            cell.outputs = outputs
    return notebook


def main(prefixes):
    os.makedirs(HTML_DIR, exist_ok=True)
    exporter = HTMLExporter()
    for path in notebook_paths(prefixes):
        name = os.path.splitext(os.path.basename(path))[0]
        start = time.perf_counter()
        notebook = drop_tensorflow_log_lines(execute(path))
        body, _ = exporter.from_notebook_node(notebook)
        with open(os.path.join(HTML_DIR, name + ".html"), "w", encoding="utf-8") as f:
            f.write(body)
        print(f"{name}: executed in {time.perf_counter() - start:.0f} s -> docs/tutorials/{name}.html")


if __name__ == "__main__":
    main(sys.argv[1:])
