"""Training-step throughput of a 4-block encoder: kattn vs keras_hub.

Five models are built from the same initial weights: three stacks of
`kattn.layers.TransformerEncoderBlock` and two identical stacks of
`keras_hub.layers.TransformerEncoder` (the second one measures the noise
floor: two identical models timed in the same run). Each is compiled the way
`model.fit` compiles it (Adam, MSE, Keras' default `jit_compile="auto"`, which
is no XLA on a CPU-only TensorFlow machine) and trained with `train_on_batch`
on the same batch. Our blocks then compile themselves with XLA (the default,
`kattn.config.set_block_compilation("auto")`); the second kattn stack is
traced with that turned off, to show what the grouped attention arithmetic
alone gives, and the third with the attention core on whole `(B, H, T, T)`
tensors instead of one (sequence, head) piece at a time
(`kattn.ops.MIN_SCORES_TO_CUT`), to show what the pieces give. The models
take turns, one step each, for several rounds, so a change in machine load
hits all of them alike; each model's time is its fastest step (and the
median is reported beside it).

    python -m bench encoder            # d_model 256/512 x length 128/512
    python -m bench encoder --quick    # tiny sizes, to check the script runs
"""

import time

import keras
import numpy as np

from bench import common

NUM_BLOCKS = 4
HEAD_DIM = 64


def encoder_stack(make_block, length, width, name):
    inputs = keras.Input((length, width))
    x = inputs
    for _ in range(NUM_BLOCKS):
        x = make_block()(x)
    return keras.Model(inputs, x, name=name)


def copy_weights_by_name(source, target):
    """Copy keras_hub block weights into our blocks (same sub-layer names)."""
    for source_block, target_block in zip(source.layers[1:], target.layers[1:]):
        by_path = {v.path.split("/", 1)[1]: v for v in target_block.weights}
        for variable in source_block.weights:
            by_path[variable.path.split("/", 1)[1]].assign(variable)


def build_models(length, width):
    import keras_hub

    import kattn

    heads, intermediate = width // HEAD_DIM, 4 * width
    hub_a = encoder_stack(lambda: keras_hub.layers.TransformerEncoder(intermediate, heads), length, width, "hub_a")
    hub_b = encoder_stack(lambda: keras_hub.layers.TransformerEncoder(intermediate, heads), length, width, "hub_b")
    ours = encoder_stack(lambda: kattn.layers.TransformerEncoderBlock(heads, intermediate), length, width, "ours")
    plain = encoder_stack(lambda: kattn.layers.TransformerEncoderBlock(heads, intermediate), length, width, "plain")
    whole = encoder_stack(lambda: kattn.layers.TransformerEncoderBlock(heads, intermediate), length, width, "whole")
    hub_b.set_weights(hub_a.get_weights())
    for model in (ours, plain, whole):
        copy_weights_by_name(hub_a, model)
    for model in (ours, plain, whole, hub_a, hub_b):
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
    return {"kattn": ours, "keras_hub": hub_a, "keras_hub (2nd copy)": hub_b,
            "kattn, blocks not compiled": plain, "kattn, attention on whole tensors": whole}


def trace_without_block_compilation(model, x, y):
    """Trace `model`'s train step with plain (not XLA-compiled) blocks; later
    steps reuse that trace."""
    import kattn

    kattn.config.set_block_compilation("off")
    try:
        model.train_on_batch(x, y)
    finally:
        kattn.config.set_block_compilation("auto")


def trace_with_whole_attention_tensors(model, x, y):
    """Trace `model`'s train step with the attention core on whole `(B, H, T, T)`
    tensors, never cut into pieces (`kattn.ops.MIN_SCORES_TO_CUT`)."""
    from kattn import ops

    threshold = ops.MIN_SCORES_TO_CUT
    ops.MIN_SCORES_TO_CUT = float("inf")
    try:
        model.train_on_batch(x, y)
    finally:
        ops.MIN_SCORES_TO_CUT = threshold


def time_steps(models, x, y, rounds):
    """Seconds per training step of each model: the fastest of `rounds` steps.

    The models take turns, one step each per round. On a shared machine a
    step can only be slowed down by other work, never sped up, so the
    fastest step is the best estimate of the model's own cost (the median
    is reported too, to show how much the load moved).
    """
    for model in models.values():
        for _ in range(2):  # trace the train function, warm the caches
            model.train_on_batch(x, y)
    times = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            start = time.perf_counter()
            model.train_on_batch(x, y)
            times[name].append(time.perf_counter() - start)
    return {name: (min(t), float(np.median(t))) for name, t in times.items()}


def run(quick=False):
    if quick:
        configs = [(64, 32, 4)]  # (width, length, batch)
        rounds = 3
    else:
        configs = [(256, 128, 8), (256, 512, 2), (512, 128, 4), (512, 512, 1)]
        rounds = 30
    rng = np.random.default_rng(0)
    rows = []
    for width, length, batch in configs:
        keras.utils.set_random_seed(0)
        models = build_models(length, width)
        x = rng.normal(size=(batch, length, width)).astype("float32")
        y = rng.normal(size=(batch, length, width)).astype("float32")
        trace_without_block_compilation(models["kattn, blocks not compiled"], x, y)
        trace_with_whole_attention_tensors(models["kattn, attention on whole tensors"], x, y)
        seconds = time_steps(models, x, y, rounds)
        (ours, ours_median), (hub, hub_median), (hub2, hub2_median), (plain, _), (whole, _) = seconds.values()
        rows.append([
            width, length, batch, width // HEAD_DIM,
            f"{batch / ours:.2f}", f"{batch / hub:.2f}",
            f"{hub / ours:.2f}x", f"{hub2 / hub:.2f}x",
            f"{hub_median / ours_median:.2f}x", f"{hub2_median / hub_median:.2f}x",
            f"{hub / plain:.2f}x", f"{hub / whole:.2f}x",
        ])
        print(rows[-1], flush=True)
    header = [
        "d_model", "length", "batch", "heads",
        "kattn seq/s", "keras_hub seq/s", "speed-up kattn vs keras_hub",
        "noise: keras_hub vs its copy", "speed-up (medians)", "noise (medians)",
        "speed-up, kattn blocks not compiled", "speed-up, kattn attention on whole tensors",
    ]
    return "\n".join([
        "## Encoder training step: kattn vs keras_hub",
        "",
        f"{NUM_BLOCKS} post-norm blocks (FFN 4 x d_model, heads of {HEAD_DIM}, ReLU, no masks), "
        "forward + backward + Adam update, compiled as `model.fit` compiles "
        "(`jit_compile=\"auto\"`: no XLA with TensorFlow on a CPU-only machine); inside that "
        "step kattn's blocks compile themselves with XLA (`kattn.config.set_block_compilation`), "
        "and the next-to-last column times our blocks with that turned off. The last column "
        "times our blocks with the attention core on whole `(B, H, T, T)` tensors: by default, "
        "in a TensorFlow graph, 256 or more tokens run one (sequence, head) piece at a time "
        "(`kattn.ops.heads_first_attention`). "
        "Same initial weights and data (the "
        "second keras_hub stack is a copy of the first). Each model's time is its fastest of "
        f"{rounds} steps taken in turns; the medians are shown too. A speed-up above 1 means "
        "kattn is faster; \"noise\" compares two identical keras_hub stacks: a speed-up "
        "inside that spread is no speed-up.",
        "",
        common.table(header, rows),
    ])
