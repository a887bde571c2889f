"""Shared helpers for benchmarks: machine description and Markdown tables
(timing: `bench._timing`).

Each benchmark module `bench/NAME.py` defines `run(quick=False) -> str`, which
measures and returns a Markdown section (tables, a sentence per finding).
`python -m bench NAME` runs it, stores the section in `bench/results/NAME.md`
with the command, machine and date, and rebuilds `BENCHMARKS.md` from every
stored section.
"""

import os
import platform

from zoo import quiet_start

# oneDNN's CPU kernels (off by default in TensorFlow on CPUs without AVX-512;
# every contestant of a benchmark runs in this same setting) and no C++ log
# lines from TensorFlow: see zoo/quiet_start.py.
quiet_start.start()


def machine_description():
    import keras

    cores = os.cpu_count()
    cpu = platform.processor() or platform.machine()
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    if flags:  # a VM hides the CPU's model; its vector instructions tell machines apart
        cpu += f" ({vector_instructions(flags)})"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{cpu}, {cores} cores, Python {platform.python_version()}, "
        f"Keras {keras.__version__} on {keras.backend.backend()}, "
        f"TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'unset')} "
        f"(load average at start {load:.1f})"
    )


def vector_instructions(flags):
    """The widest vector instructions among `/proc/cpuinfo` flags, e.g. "AVX-512, BF16".

    They decide which kernels TensorFlow, oneDNN and XLA pick, so timings taken
    on an AVX2 machine and on an AVX-512 one are not comparable.

    >>> vector_instructions({"avx2", "fma"})
    'AVX2'
    >>> vector_instructions({"avx2", "avx512f", "avx512_bf16"})
    'AVX-512, BF16'
    """
    if "avx512f" not in flags:
        return "AVX2" if "avx2" in flags else "no AVX2"
    return "AVX-512, BF16" if "avx512_bf16" in flags else "AVX-512"


def table(header, rows):
    """A Markdown table from a header list and rows of values."""
    def fmt(value):
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
