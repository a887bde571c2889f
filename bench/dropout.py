"""Dropout masks on a CPU: `kattn.dropout` vs `keras.random.dropout`.

    python -m bench dropout            # about a minute
    python -m bench dropout --quick    # a small tensor, checks that it runs

Why the transformer blocks draw their dropout masks with `kattn.dropout`: it
times one dropout of a (16, 64, 1024) float32 tensor (a translation
Transformer's FFN activations at batch 16) with each function, called in a
`tf.function` as `fit` calls it, without and with XLA (`jit_compile=True`,
as inside kattn's compiled blocks); kattn's also with its own compilation
turned off. The function returns the dropped tensor;
the fraction of zeros is printed as a sanity check (rate 0.1: about 0.1).
"""

import keras
import numpy as np

from bench import _timing


def run(quick=False):
    import tensorflow as tf

    import kattn
    from kattn.dropout import dropout

    shape = (2, 8, 16) if quick else (16, 64, 1024)
    rounds = 3 if quick else 20
    x = tf.ones(shape)
    functions = {
        "keras": lambda x, seed: keras.random.dropout(x, 0.1, seed=seed),
        "kattn": lambda x, seed: dropout(x, 0.1, seed),
    }
    # (function, how it is compiled, jit_compile of the enclosing tf.function,
    # kattn.config.set_block_compilation while tracing)
    variants = [
        ("keras", "no XLA", False, "auto"),
        ("keras", "inside XLA", True, "auto"),
        ("kattn", "no XLA around it: compiles itself (the default)", False, "auto"),
        ("kattn", "no XLA, self-compilation off: plain kernels", False, "off"),
        ("kattn", "inside XLA", True, "auto"),
    ]
    steps, dropped = {}, {}
    for name, compilation, jit, mode in variants:
        seed = keras.random.SeedGenerator(1)
        compiled = tf.function(lambda x, function=functions[name], seed=seed: function(x, seed), jit_compile=jit)
        kattn.config.set_block_compilation(mode)
        try:
            dropped[(name, compilation)] = float(np.mean(compiled(x).numpy() == 0))  # traces it
        finally:
            kattn.config.set_block_compilation("auto")
        steps[(name, compilation)] = lambda compiled=compiled: compiled(x)
    times = _timing.interleaved(steps, rounds)
    labels = {"keras": "keras.random.dropout", "kattn": "kattn.dropout.dropout"}
    rows = [
        f"| `{labels[name]}` | {compilation} | {_timing.median(times[key]) * 1e3:.2f} | {dropped[key]:.4f} |"
        for key in steps for name, compilation in [key]
    ]
    return "\n".join([
        "## Dropout masks on a CPU: `kattn.dropout` vs `keras.random.dropout`",
        "",
        f"One dropout (rate 0.1) of a {shape} float32 tensor inside a `tf.function`, median of "
        f"{rounds} calls taken in turns. `keras.random.dropout` uses TensorFlow's Philox generator; "
        "`kattn.dropout` hashes each element's index with the seed (see its docstring). Inside XLA "
        "(`jit_compile=True`, as inside kattn's compiled blocks) the hash is fast where Philox is "
        "not, which is why the blocks keep dropout inside their XLA compilation. Traced without XLA "
        "around it (a block too large to compile whole), kattn's dropout compiles itself "
        "(`kattn.compiled_call`); the plain-kernel row shows it with that turned off "
        "(`kattn.config.set_block_compilation(\"off\")`).",
        "",
        "| function | compilation | ms per call | fraction dropped |",
        "|---|---|---|---|",
        *rows,
    ])
