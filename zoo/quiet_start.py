"""Start TensorFlow without the C++ log lines it prints on a healthy CPU-only run.

`python -m zoo`, `python -m bench` and the tutorials call `start()` before
they import Keras. What it does, measured on TensorFlow 2.21:

- `TF_CPP_MIN_LOG_LEVEL=3` (unless you set it): hides TensorFlow's C++ log
  lines of every severity once its logging is set up, e.g.
  `E0000 ... cuda_platform.cc] failed call to cuInit ... (303)` on a machine
  without a GPU and `E0000 ... util.cc] oneDNN supports DT_BOOL only on
  platforms with AVX-512`. Level 2 still lets both through. Python warnings
  (Keras', TensorFlow's Python logger, kattn's and zoo's) are not affected.
- The lines printed while TensorFlow's libraries load (`I0000 ... port.cc]
  oneDNN custom operations are on`, `cudart_stub.cc] Could not find cuda
  drivers`) come from Abseil's logging before it is initialised, which
  writes everything to stderr and reads no variable (abseil-cpp #1957). So
  `import tensorflow` runs with stderr sent to a temporary file, and every
  line of it except those known start-up lines is written back to stderr.
- `TF_ENABLE_ONEDNN_OPTS=1` (unless you set it): oneDNN's CPU kernels, which
  TensorFlow leaves off on CPUs without AVX-512 (1.4-1.6x faster training
  steps on our 2-core AVX2 machine; see BENCHMARKS.md).

Set `TF_CPP_MIN_LOG_LEVEL=0` to see everything again.

>>> from zoo import quiet_start
>>> quiet_start.is_start_up_noise("I0000 00:00:1.0  7 port.cc:153] oneDNN custom operations are on.")
True
>>> quiet_start.is_start_up_noise("W0000 00:00:1.0  7 gpu_device.cc:2] Cannot dlopen some GPU libraries.")
False
"""

import os
import sys
import tempfile

# What TensorFlow's libraries print while they load, before Abseil's logging
# is initialised; harmless, and printed on every start of a CPU-only machine.
START_UP_NOISE = (
    "All log messages before absl::InitializeLog() is called are written to STDERR",
    "] oneDNN custom operations are on.",
    "] Could not find cuda drivers on your machine, GPU will not be used.",
)


def is_start_up_noise(line):
    """True for a line of `START_UP_NOISE`."""
    return any(noise in line for noise in START_UP_NOISE)


def start():
    """Set the environment defaults above and import TensorFlow quietly (once).

    Does nothing more when TensorFlow is already imported, and imports
    nothing when Keras is set to another backend.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if "tensorflow" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved_stderr = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            captured.seek(0)
            printed = captured.read().decode("utf-8", errors="replace")
            sys.stderr.write("".join(
                line for line in printed.splitlines(keepends=True) if not is_start_up_noise(line)
            ))
            sys.stderr.flush()
