"""What every tutorial notebook shares: fast mode, and where its pictures go.

Each notebook starts with `from tutorial_setup import FAST, pick, show`.

- `KATTN_FAST=1` (set by the test suite) picks tiny sizes so every notebook
  runs top to bottom in seconds; without it the notebooks run at full size
  (a few minutes each on a 2-core CPU).
- Datasets come from their public sources, downloaded once into the Keras
  cache on first use, or from an offline mirror when `KATTN_DATA=DIR` is set
  (the test suite sets it to `../shared/data` when that exists): see
  `zoo/data_paths.py`.
- `show(fig, name)` saves the figure as `<name>.png` under
  `KATTN_TUTORIAL_IMAGES` (default: `docs/images/` of this checkout, the
  pictures of `docs/gallery.md`) and displays it in the notebook.

>>> from tutorial_setup import pick
>>> pick(fast=100, full=10_000) in (100, 10_000)
True
"""

import os
import sys

TUTORIALS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TUTORIALS_DIR)

# Run from a checkout without `pip install -e .`: kattn and zoo sit beside us.
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
from zoo import quiet_start  # noqa: E402

quiet_start.start()  # oneDNN's faster CPU kernels, no TensorFlow C++ log lines

FAST = os.environ.get("KATTN_FAST", "") not in ("", "0")
IMAGES_DIR = os.environ.get(
    "KATTN_TUTORIAL_IMAGES", os.path.join(REPO_ROOT, "docs", "images")
)


def pick(fast, full):
    """`fast` in fast mode (KATTN_FAST=1), `full` otherwise."""
    return fast if FAST else full


def show(fig, name):
    """Save `fig` as `IMAGES_DIR/<name>.png` and return it as a notebook image."""
    from IPython.display import Image

    os.makedirs(IMAGES_DIR, exist_ok=True)
    path = os.path.join(IMAGES_DIR, name + ".png")
    fig.savefig(path, dpi=100)
    with open(path, "rb") as f:
        return Image(data=f.read(), format="png")
