"""The CPU training steps of `bench.training_steps`, in TensorFlow's default setting.

    python -m bench training_steps_default_cpu            # about 8 minutes on 2 idle cores
    python -m bench training_steps_default_cpu --quick    # tiny sizes, checks that it runs

`python -m bench` turns TensorFlow's oneDNN kernels on for every benchmark
(`TF_ENABLE_ONEDNN_OPTS=1`, bench/common.py): on this machine they make both
contestants faster, so `python -m bench training_steps` compares kattn with
keras_hub at keras_hub's best. TensorFlow leaves oneDNN off by default on
CPUs without AVX-512 (ours has AVX2), so that is what a user who installs
TensorFlow and calls `fit` gets. This section runs the very same rows,
models, batches and timing in a fresh Python process with
`TF_ENABLE_ONEDNN_OPTS=0` (the variable is read when TensorFlow is first
imported, hence the subprocess).
"""

import os
import subprocess
import sys

MARKER = "<!-- table -->"


def run(quick=False):
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2")
    code = (
        "import os\n"
        "assert os.environ['TF_ENABLE_ONEDNN_OPTS'] == '0'\n"
        "from bench import training_steps\n"
        f"section = training_steps.run(quick={quick!r})\n"
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
    # The subprocess's own title and text, with the setting stated first.
    title, _, rest = section.partition("\n")
    return "\n".join([
        "## CPU training steps in TensorFlow's default CPU setting (oneDNN off)",
        "",
        "The rows of `python -m bench training_steps` (section \"CPU training steps: kattn vs "
        "keras_hub\"), run in a subprocess with `TF_ENABLE_ONEDNN_OPTS=0`, TensorFlow's default "
        "on CPUs without AVX-512 such as this one (the header's machine line shows the parent "
        "process's setting). The goal of issue #10 is judged on the oneDNN section, where "
        "keras_hub is at its fastest; this one shows what a user gets without setting anything.",
        "",
        rest.strip(),
    ])
