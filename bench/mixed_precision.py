"""Training steps in float32 and in mixed_bfloat16: kattn vs keras_hub.

Two models, each built once under each Keras dtype policy: the stacks of
`python -m bench encoder` (4 post-norm blocks, width 256, 128 tokens,
batch 8, Adam, same initial weights) and the BERT-small masked-LM row of
`python -m bench training_steps` (our `BertPretrainer` against
`keras_hub.models.BertMaskedLM`, width 512, batch 8, AdamW). On a CPU with
AVX-512 BF16 instructions oneDNN's bfloat16 matmuls run about twice as fast
as its float32 ones, and XLA's CPU matmuls do not use them, so under mixed
precision kattn's blocks run plain instead of XLA-compiled
(`kattn.compiled_call`, `only_float32`). The last row traces our bfloat16
stack with that rule lifted, to show what it avoids. The models take turns,
one step each; each time is the fastest of the rounds (the median beside it).

    python -m bench mixed_precision           # about 4 minutes on 2 idle cores
    python -m bench mixed_precision --quick   # tiny sizes, to check it runs
"""

import keras
import numpy as np

from bench import _timing
from bench import common
from bench import encoder
from bench import training_steps

POLICIES = ("float32", "mixed_bfloat16")
BERT_ROUNDS = 10  # BERT-small steps per model


def _stacks(length, width, policy):
    """kattn and keras_hub stacks (same weights) under `policy`."""
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        models = encoder.build_models(length, width)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return models["kattn"], models["keras_hub"], models["kattn, blocks not compiled"]


def _compile_blocks_in_any_dtype(model):
    """Lift the float32-only rule for `model`'s blocks (before its first trace)."""
    for layer in model.layers:
        compiled_block = getattr(layer, "_compiled_block", None)
        if compiled_block is not None:
            compiled_block.only_float32 = False


def run(quick=False):
    width, length, batch, rounds = (64, 32, 4, 3) if quick else (256, 128, 8, 30)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, length, width)).astype("float32")
    y = rng.normal(size=(batch, length, width)).astype("float32")
    stacks = {policy: _stacks(length, width, policy) for policy in POLICIES}
    models = {}
    for policy, (ours, hub, _) in stacks.items():
        models[f"kattn, {policy}"] = ours
        models[f"keras_hub, {policy}"] = hub
    forced = stacks["mixed_bfloat16"][2]
    _compile_blocks_in_any_dtype(forced)
    models["kattn, mixed_bfloat16, blocks XLA-compiled anyway"] = forced
    seconds = encoder.time_steps(models, x, y, rounds)
    hub_float32 = seconds["keras_hub, float32"][0]
    rows = []
    for name, (fastest, median) in seconds.items():
        policy = "mixed_bfloat16" if "bfloat16" in name else "float32"
        peer = seconds[f"keras_hub, {policy}"][0]
        rows.append([name, f"{fastest * 1e3:.1f}", f"{median * 1e3:.1f}", f"{batch / fastest:.1f}",
                     f"{peer / fastest:.2f}x", f"{hub_float32 / fastest:.2f}x"])
        print(rows[-1], flush=True)
    header = ["model", "fastest ms/step", "median ms/step", "seq/s",
              "speed-up vs keras_hub, same policy", "speed-up vs keras_hub float32"]
    bert_rows = bert_small(quick)
    return "\n".join([
        "## Training steps in float32 and mixed_bfloat16: kattn vs keras_hub",
        "",
        f"{encoder.NUM_BLOCKS} post-norm blocks, d_model {width}, heads of {encoder.HEAD_DIM}, "
        f"FFN {4 * width}, {length} tokens, batch {batch}, Adam, compiled as `model.fit` compiles "
        "(no XLA around the step on a CPU); each stack built under the Keras dtype policy named, "
        "from the same initial weights. Fastest of "
        f"{rounds} steps taken in turns (median beside it). Under `mixed_bfloat16` kattn's blocks "
        "run plain (`kattn.compiled_call`: XLA's CPU matmuls do not use bfloat16 instructions); "
        "the last row compiles them anyway.",
        "",
        common.table(header, rows),
        "",
        "BERT-small masked LM (`python -m bench training_steps`' row: 4 layers, width 512, 8 heads, "
        "FFN 2048, 128 tokens, batch 8; ours also trains the next-sentence head), median of "
        f"{2 if quick else BERT_ROUNDS} steps taken in turns:",
        "",
        common.table(["model", "median ms/step", "speed-up vs keras_hub, same policy",
                      "speed-up vs keras_hub float32"], bert_rows),
    ])



def bert_small(quick):
    """Rows for the BERT-small masked-LM step under each policy."""
    steps = {}
    for policy in POLICIES:
        keras.mixed_precision.set_global_policy(policy)
        try:
            row_steps, _ = training_steps.bert_row(quick)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        steps[f"kattn, {policy}"] = row_steps["ours"]
        steps[f"keras_hub, {policy}"] = row_steps["peer"]
    times = _timing.interleaved(steps, 2 if quick else BERT_ROUNDS)
    rows = []
    for name, seconds in times.items():
        policy = "mixed_bfloat16" if "bfloat16" in name else "float32"
        rows.append([name, f"{_timing.median(seconds) * 1e3:.0f}",
                     f"{_timing.speedup(times[f'keras_hub, {policy}'], seconds):.2f}x",
                     f"{_timing.speedup(times['keras_hub, float32'], seconds):.2f}x"])
        print(rows[-1], flush=True)
    return rows
