"""Training-step throughput of a 4-block encoder: kattn vs keras_hub.

Three models are built from the same initial weights: a stack of
`kattn.layers.TransformerEncoderBlock` and two identical stacks of
`keras_hub.layers.TransformerEncoder` (the second one measures the noise
floor: two identical models timed in the same run). Each is compiled the way
`model.fit` compiles it (Adam, MSE, Keras' default `jit_compile="auto"`, which
is no XLA on a CPU-only TensorFlow machine) and trained with `train_on_batch`
on the same batch. The models take turns, one step each, for several rounds
(`bench._timing.interleaved`), so a change in machine load hits all of them
alike; the ratios are of median step times.

    python -m bench encoder            # d_model 256/512 x length 128/512
    python -m bench encoder --quick    # tiny sizes, to check the script runs
"""

import keras
import numpy as np

from bench import _timing
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
    hub_b.set_weights(hub_a.get_weights())
    copy_weights_by_name(hub_a, ours)
    for model in (ours, hub_a, hub_b):
        model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mse")
    return {"kattn": ours, "keras_hub": hub_a, "keras_hub (2nd copy)": hub_b}


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
        times = _timing.interleaved({name: (lambda m=m: m.train_on_batch(x, y)) for name, m in models.items()}, rounds)
        ours, hub, hub2 = times["kattn"], times["keras_hub"], times["keras_hub (2nd copy)"]
        rows.append([
            width, length, batch, width // HEAD_DIM,
            f"{batch / _timing.median(ours):.2f}", f"{batch / _timing.median(hub):.2f}",
            f"{_timing.speedup(hub, ours):.2f}x", f"{_timing.speedup(hub2, hub):.2f}x",
        ])
        print(rows[-1], flush=True)
    header = [
        "d_model", "length", "batch", "heads", "kattn seq/s", "keras_hub seq/s",
        "speed-up kattn vs keras_hub", "noise: keras_hub copy vs keras_hub",
    ]
    return "\n".join([
        "## Encoder training step: kattn vs keras_hub",
        "",
        f"{NUM_BLOCKS} post-norm blocks (FFN 4 x d_model, heads of {HEAD_DIM}, ReLU, no masks), "
        "forward + backward + Adam update, compiled as `model.fit` compiles "
        "(`jit_compile=\"auto\"`: no XLA with TensorFlow on a CPU-only machine). Same initial "
        "weights and data (the second keras_hub stack is a copy of the first). Median of "
        f"{rounds} steps taken in turns. A speed-up above 1 means kattn is faster; \"noise\" "
        "compares two identical keras_hub stacks: a speed-up inside that spread is no speed-up.",
        "",
        common.table(header, rows),
    ])
