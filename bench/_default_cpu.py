"""Run a benchmark's `run` in TensorFlow's default CPU setting (oneDNN off).

`python -m bench` turns TensorFlow's oneDNN kernels on for every benchmark
(`TF_ENABLE_ONEDNN_OPTS=1`, bench/common.py): on this machine they make both
contestants faster, so the main sections compare kattn with keras_hub at
keras_hub's best. TensorFlow leaves oneDNN off by default on CPUs without
AVX-512 (our first machine had AVX2), so that is what such a user who installs
TensorFlow and calls `fit` gets; on an AVX-512 CPU oneDNN is already the
default, and these sections then show a setting a user has to ask for. The variable is read when TensorFlow is first imported,
hence a fresh Python process.
"""

import os
import subprocess
import sys

MARKER = "<!-- table -->"


def run_without_onednn(module, quick):
    """`bench.<module>.run(quick)` in a subprocess with `TF_ENABLE_ONEDNN_OPTS=0`;
    returns its section without the title line."""
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0")
    code = (
        "import os\n"
        "assert os.environ['TF_ENABLE_ONEDNN_OPTS'] == '0'\n"
        f"from bench import {module}\n"
        f"section = {module}.run(quick={quick!r})\n"
        f"print({MARKER!r})\n"
        "print(section)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    finished = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True
    )
    if finished.returncode != 0:
        raise RuntimeError(f"the benchmark subprocess failed:\n{finished.stderr[-4000:]}")
    section = finished.stdout.split(MARKER, 1)[1].strip()
    _title, _, rest = section.partition("\n")
    return rest.strip()
