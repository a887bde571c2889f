"""`python -m zoo ...`: see `zoo.cli`."""

import os
import sys

# Before TensorFlow is imported: quiet logs, and oneDNN's CPU kernels, which
# TensorFlow leaves off on CPUs without AVX-512 (1.4-1.6x faster training
# steps on our 2-core AVX2 machine; see BENCHMARKS.md). Set either variable
# yourself to override.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from zoo import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli.main())
