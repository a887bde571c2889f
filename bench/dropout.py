"""Dropout masks on a CPU: `kattn.dropout` vs `keras.random.dropout`.

    python -m bench dropout            # about a minute
    python -m bench dropout --quick    # a small tensor, checks that it runs

Why the transformer blocks draw their dropout masks with `kattn.dropout`: it
times one dropout of a (16, 64, 1024) float32 tensor (a translation
Transformer's FFN activations at batch 16) with each function, called in a
`tf.function` as `fit` calls it, without and with XLA (`jit_compile=True`,
as inside kattn's compiled blocks). The function returns the dropped tensor;
the fraction of zeros is printed as a sanity check (rate 0.1: about 0.1).
"""

import keras
import numpy as np

from bench import _timing


def run(quick=False):
    import tensorflow as tf

    from kattn.dropout import dropout

    shape = (2, 8, 16) if quick else (16, 64, 1024)
    rounds = 3 if quick else 20
    x = tf.ones(shape)
    generators = {"keras": keras.random.SeedGenerator(1), "kattn": keras.random.SeedGenerator(1)}
    functions = {
        "keras": lambda x: keras.random.dropout(x, 0.1, seed=generators["keras"]),
        "kattn": lambda x: dropout(x, 0.1, generators["kattn"]),
    }
    steps, dropped = {}, {}
    for name, function in functions.items():
        for jit in (False, True):
            key = f"{name}, XLA" if jit else name
            compiled = tf.function(function, jit_compile=jit)
            steps[key] = lambda compiled=compiled: compiled(x)
            dropped[key] = float(np.mean(compiled(x).numpy() == 0))
    times = _timing.interleaved(steps, rounds)
    labels = {"keras": "keras.random.dropout", "kattn": "kattn.dropout.dropout"}
    rows = []
    for key in steps:
        name, compilation = key.split(", ")[0], "XLA" if key.endswith("XLA") else "no XLA"
        rows.append(f"| `{labels[name]}` | {compilation} | "
                    f"{_timing.median(times[key]) * 1e3:.2f} | {dropped[key]:.4f} |")
    return "\n".join([
        "## Dropout masks on a CPU: `kattn.dropout` vs `keras.random.dropout`",
        "",
        f"One dropout (rate 0.1) of a {shape} float32 tensor inside a `tf.function`, median of "
        f"{rounds} calls taken in turns. `keras.random.dropout` uses TensorFlow's Philox generator; "
        "`kattn.dropout` hashes each element's index with the seed (see its docstring). "
        "This is why kattn's transformer blocks can keep dropout inside their XLA compilation.",
        "",
        "| function | compilation | ms per call | fraction dropped |",
        "|---|---|---|---|",
        *rows,
    ])
