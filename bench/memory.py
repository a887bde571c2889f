"""Peak memory of attention forward + backward vs sequence length (issue #10).

    python -m bench memory            # a few minutes; needs about 8 GB free at T=8192
    python -m bench memory --quick    # small lengths, checks that it runs

`kattn.ops.scaled_dot_product_attention` (causal, batch 1, 4 heads of 64,
loss = sum of squares, gradients for q, k and v), compiled as `model.fit`
compiles on this CPU (`tf.function`, no XLA), on each path:

- "fused": `keras.ops.dot_product_attention`;
- "explicit": matmul -> masked softmax -> matmul.

Each (path, length) runs in its own Python process, so one run's memory
cannot hide in another's: the process warms up on a 16-token input, then
runs the step at the length while a thread samples its resident memory
every millisecond, and reports how far that rose above the memory held just
before the step. One `(B, H, T, T)` float32 tensor is given beside it, since
both paths on TensorFlow materialise the scores (there is no flash kernel on
CPU).

    python -m bench.memory measure PATH LENGTH   # one measurement, as JSON
"""

import json
import os
import subprocess
import sys
import threading
import time

from bench import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH, HEADS, HEAD_DIM = 1, 4, 64


def _resident_mb():
    with open("/proc/self/statm") as f:  # Linux: pages
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_resident_mb_during(run):
    """The highest resident memory seen (sampled every millisecond) while `run()` runs."""
    peak, done = [_resident_mb()], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _resident_mb())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    return peak[0]


def measure(path, length):
    """Peak-memory rise (MB) of one fwd+bwd step at `length` on `path`."""
    import numpy as np
    import tensorflow as tf

    import kattn

    @tf.function
    def step(q, k, v):
        with tf.GradientTape() as tape:
            tape.watch([q, k, v])
            with kattn.config.use_attention_implementation(path):
                out = kattn.ops.scaled_dot_product_attention(q, k, v, is_causal=True)
            loss = tf.reduce_sum(out * out)
        return tape.gradient(loss, [q, k, v])

    def inputs(t):
        rng = np.random.default_rng(0)
        return [tf.constant(rng.normal(size=(BATCH, t, HEADS, HEAD_DIM)), tf.float32) for _ in range(3)]

    [g.numpy() for g in step(*inputs(16))]  # load kernels, allocator warm-up
    q, k, v = inputs(length)
    baseline = _resident_mb()
    peak = _peak_resident_mb_during(lambda: [g.numpy() for g in step(q, k, v)])
    return {"path": path, "length": length, "rise_mb": peak - baseline, "baseline_mb": baseline}


def _measure_in_subprocess(path, length):
    completed = subprocess.run(
        [sys.executable, "-m", "bench.memory", "measure", path, str(length)],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True,
    )
    if completed.returncode != 0:
        return None, completed.stderr.strip().splitlines()[-1:] or [f"exit {completed.returncode}"]
    return json.loads(completed.stdout.strip().splitlines()[-1]), None


def run(quick=False):
    lengths = [64, 256] if quick else [128, 512, 2048, 8192]
    rows, failures = [], []
    for length in lengths:
        row = [length, f"{BATCH * HEADS * length * length * 4 / 2**20:,.0f}"]
        for path in ("fused", "explicit"):
            result, error = _measure_in_subprocess(path, length)
            if result is None:
                row.append("failed")
                failures.append(f"{path} at T={length}: {error[0][:200]}")
            else:
                row.append(f"{result['rise_mb']:,.0f}")
        print(row, flush=True)
        rows.append(row)
    out = [
        "## Peak memory of attention forward + backward vs length (issue #10)",
        "",
        f"`kattn.ops.scaled_dot_product_attention`, causal, batch {BATCH}, {HEADS} heads × {HEAD_DIM}, "
        "float32, `tf.function` (no XLA) on TensorFlow; rise of the process's resident memory "
        "(sampled every millisecond) during the step over what it held just before, each cell in a "
        "fresh process.",
        "",
        common.table(["T", "one (B, H, T, T) float32 tensor, MB", "fused: peak rise, MB",
                      "explicit: peak rise, MB"], rows),
    ]
    if failures:
        out += ["", "Failed runs: " + "; ".join(failures)]
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "measure":
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]))))
    else:
        sys.exit("usage: python -m bench.memory measure PATH LENGTH  (or: python -m bench memory)")
