"""Execute the tutorial notebooks and render them, with outputs, for the docs site.

    python tutorials/render.py            # every notebook, full size (`make tutorials`)
    python tutorials/render.py 02 04      # only the notebooks whose names start so
    python tutorials/render.py --fast --missing   # what `make docs` runs first

Each notebook runs top to bottom in a fresh kernel, in `tutorials/`, and is
written as a Markdown page with its outputs and pictures to
`build/docs/tutorials/<name>.md` (pictures in `<name>_files/`), beside a note
of how it was made (`<name>.json`: full size or fast mode, the notebook's
sha256, the time it took). `make docs` (`mkdocs build`) puts these pages into
the site. The committed `.ipynb` files stay without outputs.

- Full size (default): what the gallery describes; the pictures are also
  saved to `docs/images/` (see `tutorial_setup.py`). Minutes per notebook.
- `--fast`: `KATTN_FAST=1`, tiny sizes, as in the test suite; the page says
  so, and its pictures stay out of `docs/images/`.
- `--missing`: only notebooks with no render of the current notebook yet
  (a full-size render is kept; a changed notebook is rendered again).

A notebook that stops with an error (e.g. its dataset is not there: see
`KATTN_DATA`) is still rendered up to the failing cell, under a warning that
says so; the command then exits with status 1.
"""

import argparse
import datetime
import glob
import hashlib
import json
import os
import re
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import MarkdownExporter

TUTORIALS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TUTORIALS_DIR)
PAGES_DIR = os.path.join(REPO_ROOT, "build", "docs", "tutorials")


def notebook_paths(prefixes=()):
    """The numbered notebooks, in order; only those matching `prefixes` if given."""
    paths = sorted(glob.glob(os.path.join(TUTORIALS_DIR, "[0-9][0-9]_*.ipynb")))
    if prefixes:
        paths = [p for p in paths if os.path.basename(p).startswith(tuple(prefixes))]
    return paths


def execute(path, timeout=1800, notebook=None, env=None):
    """Run the notebook at `path` in a fresh kernel; return it with outputs.

    Raises `nbclient.exceptions.CellExecutionError` at the first failing cell
    (`notebook`, if given, is the node that runs: it keeps the outputs so far).
    `env`: the kernel's environment variables (default: this process's).
    """
    notebook = notebook or nbformat.read(path, as_version=4)
    env = dict(os.environ if env is None else env)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": TUTORIALS_DIR}},
    )
    client.execute(env=env)
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


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def is_rendered(path):
    """Whether `PAGES_DIR` holds a good render of the notebook at `path` as it is now."""
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        with open(os.path.join(PAGES_DIR, name + ".json"), encoding="utf-8") as f:
            note = json.load(f)
    except (OSError, ValueError):
        return False
    return (
        note.get("sha256") == sha256(path)
        and not note.get("error")  # a failed run is tried again
        and os.path.exists(os.path.join(PAGES_DIR, name + ".md"))
    )


def _banner(fast, error):
    """The note at the top of a page: how it was made, and any failure."""
    lines = []
    if error:
        lines += [
            '!!! failure "This tutorial stopped with an error in this build"',
            "",
            "    It ran up to the cell that failed, shown below with its error, and",
            "    nothing after it ran. The usual cause is a missing dataset: the",
            "    loaders read `KATTN_DATA` (default `../shared/data`).",
            "",
            "    ```text",
            *("    " + line for line in error.strip().splitlines()[-6:]),
            "    ```",
            "",
        ]
    if fast:
        lines += [
            '!!! note "Rendered in fast mode"',
            "",
            "    This page was executed with `KATTN_FAST=1` (tiny data and models,",
            "    so that the site builds in minutes): its numbers and pictures show",
            "    that the code runs, not what it learns at full size. `make tutorials`",
            "    renders the full-size version, which the next `make docs` keeps.",
            "",
        ]
    return "\n".join(lines)


def render(path, fast):
    """Execute the notebook at `path` and write its page; returns the error or None."""
    name = os.path.splitext(os.path.basename(path))[0]
    os.makedirs(PAGES_DIR, exist_ok=True)
    start = time.perf_counter()
    notebook = nbformat.read(path, as_version=4)
    env = {key: value for key, value in os.environ.items() if key != "KATTN_FAST"}
    with tempfile.TemporaryDirectory() as images:
        if fast:  # tiny sizes; pictures to a temporary folder, not docs/images/
            env.update(KATTN_FAST="1", KATTN_TUTORIAL_IMAGES=images)
        error = None
        try:
            execute(path, notebook=notebook, env=env)
        except CellExecutionError as failure:
            error = str(failure)
    drop_tensorflow_log_lines(notebook)
    files_dir = name + "_files"
    body, resources = MarkdownExporter().from_notebook_node(
        notebook, resources={"output_files_dir": files_dir, "unique_key": name}
    )
    title, _, rest = body.lstrip().partition("\n")  # the notebook's "# N. Title"
    download = f"[Download the notebook]({name}.ipynb) (without outputs)."
    page = "\n\n".join([title, _banner(fast, error), download, rest])
    with open(os.path.join(PAGES_DIR, name + ".md"), "w", encoding="utf-8") as f:
        f.write(page)
    for relative, data in resources.get("outputs", {}).items():
        target = os.path.join(PAGES_DIR, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    with open(path, "rb") as source, open(os.path.join(PAGES_DIR, name + ".ipynb"), "wb") as copy:
        copy.write(source.read())
    seconds = time.perf_counter() - start
    note = {
        "notebook": os.path.basename(path),
        "sha256": sha256(path),
        "mode": "fast" if fast else "full",
        "seconds": round(seconds, 1),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "error": error,
    }
    with open(os.path.join(PAGES_DIR, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(note, f, indent=1)
    status = "FAILED (the page says so)" if error else "ok"
    print(f"{name}: {note['mode']}, {seconds:.0f} s, {status} -> build/docs/tutorials/{name}.md",
          flush=True)
    return error


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefixes", nargs="*", help="e.g. 02 04: only these notebooks")
    parser.add_argument("--fast", action="store_true", help="tiny sizes (KATTN_FAST=1)")
    parser.add_argument("--missing", action="store_true",
                        help="skip notebooks already rendered as they are now")
    args = parser.parse_args(argv)
    failed = []
    for path in notebook_paths(args.prefixes):
        if args.missing and is_rendered(path):
            print(f"{os.path.basename(path)}: already rendered, kept")
            continue
        if render(path, args.fast):
            failed.append(os.path.basename(path))
    if failed:
        print(f"tutorials that stopped with an error: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
