"""Where a training step's time goes: kattn vs keras_hub, by kind of op (issue #10).

    python -m bench step_profile            # about 5 minutes on 2 idle cores
    python -m bench step_profile --quick    # tiny sizes, checks that it runs

For each row of `bench.training_steps` (same models, same batch), a few
training steps of ours and of the keras_hub peer run under TensorFlow's
profiler. The time the TensorFlow executor's threads spent in each op is
summed by kind of op, per step: the dense matmuls (projections, FFN,
heads), the batched matmuls and einsums (attention, and keras_hub's
`EinsumDense` projections), XLA computations (our compiled blocks; the
dropouts of our blocks too wide to compile whole; the zoo models' optimizer
updates), and everything else (LayerNorm, softmax, bias, activations,
keras_hub's optimizer updates, copies), with its largest op types named. Thread time, not wall time: the
two executor threads run ops side by side, so a column can add up to more
than the step's wall time. It shows which share of a step an attention
implementation can change at all.
"""

import collections
import glob
import os
import tempfile

from bench import common
from bench import training_steps

STEPS = 5
DENSE = ("MatMul", "_MklMatMul", "_FusedMatMul", "_MklFusedMatMul", "_MklNativeFusedMatMul")
BATCHED = ("BatchMatMulV2", "_MklBatchMatMulV2", "BatchMatMulV3", "Einsum", "_MklEinsum")
# An XLA computation shows up as its launch op or, on the executor's thread,
# as the runtime's own events around the compiled code.
XLA = ("XlaLaunch", "XlaLaunchV2", "_XlaRun", "_XlaCompile", "XlaRun", "Start",
       "ExecuteAsyncOnStream", "BlockUntilReady", "Execute")
KINDS = ("dense matmuls", "batched matmuls / einsums", "XLA computations", "everything else")


def _op_seconds(step, directory):
    """Executor-thread seconds per op type over `STEPS` profiled steps."""
    import tensorflow as tf
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    tf.profiler.experimental.start(directory)
    for _ in range(STEPS):
        step()
    tf.profiler.experimental.stop()
    space = xplane_pb2.XSpace()
    with open(glob.glob(os.path.join(directory, "**", "*.xplane.pb"), recursive=True)[0], "rb") as f:
        space.ParseFromString(f.read())
    seconds = collections.Counter()
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue  # the executor's threads; "python" holds the enclosing calls
            end_of_enclosing = -1  # count outermost events only: XLA's are nested
            for event in sorted(line.events, key=lambda e: e.offset_ps):
                op_type = names.get(event.metadata_id, "?").split(":")[-1]
                if op_type == "Process":
                    continue  # encloses a whole executor run
                if event.offset_ps < end_of_enclosing:
                    continue
                end_of_enclosing = event.offset_ps + event.duration_ps
                seconds[op_type] += event.duration_ps * 1e-12
    return seconds


def _kind(op_type):
    if op_type in DENSE:
        return "dense matmuls"
    if op_type in BATCHED:
        return "batched matmuls / einsums"
    if op_type in XLA or op_type.startswith("__inference"):
        return "XLA computations"
    return "everything else"


def _profile(step):
    for _ in range(2):
        step()  # trace and warm up outside the profile
    with tempfile.TemporaryDirectory() as directory:
        seconds = _op_seconds(step, directory)
    by_kind = collections.Counter()
    for op_type, value in seconds.items():
        by_kind[_kind(op_type)] += value / STEPS
    others = collections.Counter({op: value / STEPS for op, value in seconds.items()
                                  if _kind(op) == "everything else"})
    return by_kind, others


def _whole_step_wall_time(step):
    """A step that Keras compiles whole with XLA (`zoo.vit.ViT.compile`) runs
    as one computation called from the Python thread, outside the executor
    threads that `_op_seconds` reads: report its median wall time instead."""
    import time

    import numpy as np

    for _ in range(2):
        step()
    seconds = []
    for _ in range(STEPS):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return collections.Counter({"XLA computations": float(np.median(seconds))})


def run(quick=False):
    rows = []
    for name, make in training_steps.ROWS.items():
        steps, facts = make(quick)
        if facts["models"][0].jit_compile is True:
            ours, ours_others = _whole_step_wall_time(steps["ours"]), collections.Counter()
        else:
            ours, ours_others = _profile(steps["ours"])
        peer, peer_others = _profile(steps["peer"])
        for kind in KINDS:
            rows.append([name if kind == KINDS[0] else "", kind,
                         f"{1e3 * ours[kind]:.0f}", f"{1e3 * peer[kind]:.0f}"])
        rows.append(["", "**total thread time**", f"**{1e3 * sum(ours.values()):.0f}**",
                     f"**{1e3 * sum(peer.values()):.0f}**"])
        top = lambda others: ", ".join(f"{op} {1e3 * v:.0f}" for op, v in others.most_common(4))
        rows.append(["", "largest of everything else", top(ours_others), top(peer_others)])
        print(rows[-6:], flush=True)
    return "\n".join([
        "## Where a training step's time goes: kattn vs keras_hub (issue #10)",
        "",
        f"The models and batches of `python -m bench training_steps`, {STEPS} steps of each under "
        "TensorFlow's profiler; milliseconds per step that the executor's threads spent in each kind "
        "of op (thread time: two threads run ops side by side, so a total can exceed the wall time "
        "of the step). kattn's ViT compiles its whole step with XLA (`zoo.vit.ViT.compile`): it runs "
        "as one computation outside the executor's threads, so its row shows the step's median wall "
        "time instead, under XLA.",
        "",
        common.table(["model", "ops", "kattn ms/step", "keras_hub ms/step"], rows),
    ])
