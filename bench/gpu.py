"""The GPU benchmark: BERT-base and ViT-B/16 training steps against keras_hub,
and one zoo recipe end to end. JAX, mixed_bfloat16, no TensorFlow needed.

    make gpu-data                  # here, once: copies CIFAR-10 (18 MB) to .gpu-data/
    KERAS_BACKEND=jax python3 -m bench gpu          # on the GPU machine
    KERAS_BACKEND=jax python3 -m bench.gpu --tiny   # tiny sizes on a CPU (the test suite runs it)

On a GPU machine with only this checkout and the wheels of `../shared/gpu`
(its README.md: copy them to `.whl/`), carry `.whl` and `.gpu-data` and run

    S=$(mktemp -d) && python3 -m pip install -q --no-index --no-deps --no-compile \
        --target $S .whl/*.whl && export PYTHONPATH=$S:$PWD KERAS_BACKEND=jax \
      && python3 -m bench gpu && cp bench/results/gpu.md $OUT/

`python3 -m bench gpu` stores the section in bench/results/gpu.md and
rebuilds BENCHMARKS.md; `python3 -m bench.gpu` only prints it. Without a
GPU, `python -m bench gpu` runs the tiny sizes and says so; on another
backend it runs itself in a JAX subprocess. The full sizes are planned to fit
in 8 minutes on one H100 (3 of them training (c)); no GPU has run them yet.

(a) BERT-base masked-LM training step (12 layers, width 768, 12 heads, FFN
    3,072, vocabulary 30,522, T=512, 15 % of positions predicted): our
    `zoo.bert.BertPretrainer` with the fused (flash) and the explicit attention
    path (`kattn.config.set_attention_implementation`) vs
    `keras_hub.models.BertMaskedLM` of the same size;
(b) ViT-B/16 at 224x224 (197 tokens, 1,000 classes): `zoo.vit.vit_base` vs
    `keras_hub.models.ViTImageClassifier`;
(c) `python -m zoo train vit-cifar10` for 3 minutes of training, then its
    test accuracy on the 10,000 test images (tiny mode: `classifier --quick
    --epochs 1`).

Every contestant runs the same step: `stateless_call` forward, `jax.grad`,
AdamW's `stateless_apply`, compiled once ahead of time with XLA; the batches
are random token ids / pixels made here (step time does not depend on the
values). Dropout is 0 in both libraries, so both may use the fused kernel.
Model FLOPs per training step (forward + backward = 3x forward, matmuls only):

    6 * N * T * B                       N = L * (4 d^2 + 2 d F), the blocks' kernels
  + 12 * L * T^2 * d * B                attention scores and weighted sums
  + 6 * P * (d^2 + d V) * B             BERT's masked-LM head on P positions
  + 6 * d * C * B                       ViT's classifier (C classes)

MFU = model FLOPs per second / the device's dense bf16 peak. Step memory is
XLA's plan for the compiled step (arguments + temporaries + outputs -
donated buffers): weights, AdamW state, batch and activations.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import keras
import numpy as np

FULL = dict(
    bert=dict(num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072,
              vocabulary=30522, length=512, batch=32),
    vit=dict(image=224, patch=16, num_layers=12, num_heads=12, hidden_dim=768, mlp_dim=3072,
             classes=1000, batch=128),
    steps=20, warmup=3, recipe="vit-cifar10", minutes=3.0,
)
TINY = dict(
    bert=dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32,
              vocabulary=64, length=16, batch=2),
    vit=dict(image=16, patch=8, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32,
             classes=10, batch=2),
    # The quickest recipe (seconds); vit-digits would also need TensorFlow
    # until the ViT's NumPy data path lands (issue #27).
    steps=2, warmup=1, recipe="classifier", minutes=None,
)
# Dense bf16 peak FLOP/s, by a substring of jax's `device_kind`.
PEAK_BF16_FLOPS = {"H100 PCIe": 756e12, "H100 NVL": 835e12, "H100": 989e12, "H200": 989e12,
                   "A100": 312e12, "L4": 121e12}
RNG = np.random.default_rng(0)
MIB = 2.0**20


def peak_flops(device_kind):
    for name, flops in PEAK_BF16_FLOPS.items():
        if name in device_kind:
            return flops
    return None


# ----------------------------------------------------------------------------
# One compiled training step, the same for every model
# ----------------------------------------------------------------------------


def compile_step(model, loss_fn, batch):
    """`model`'s AdamW training step compiled for `batch` = (x, y, sample_weight)."""
    import jax

    optimizer = keras.optimizers.AdamW(1e-4, weight_decay=0.01)
    optimizer.build(model.trainable_variables)

    def loss_of(trainable, non_trainable, x, y, w):
        outputs, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        return loss_fn(y, outputs, w), non_trainable

    def step(trainable, non_trainable, optimizer_state, x, y, w):
        (loss, non_trainable), grads = jax.value_and_grad(loss_of, has_aux=True)(
            trainable, non_trainable, x, y, w)
        trainable, optimizer_state = optimizer.stateless_apply(optimizer_state, grads, trainable)
        return loss, trainable, non_trainable, optimizer_state

    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    batch = jax.device_put(batch)
    compiled = jax.jit(step, donate_argnums=(0, 1, 2)).lower(*state, *batch).compile()
    return compiled, state, batch


def measure(model, loss_fn, batch, sizes, flops_per_step, rows_per_step):
    """Step time, throughput, FLOP/s, memory plan and whether a fused kernel ran."""
    import jax

    start = time.perf_counter()
    compiled, state, batch = compile_step(model, loss_fn, batch)
    compile_seconds = time.perf_counter() - start
    times, losses = [], []
    for i in range(sizes["warmup"] + sizes["steps"]):
        start = time.perf_counter()
        loss, *state = compiled(*state, *batch)
        losses.append(float(loss))  # waits for the step
        if i >= sizes["warmup"]:
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    plan = compiled.memory_analysis()
    memory = None
    if plan is not None:
        memory = (plan.argument_size_in_bytes + plan.temp_size_in_bytes
                  + plan.output_size_in_bytes - plan.alias_size_in_bytes)
    device = jax.devices()[0]
    peak = peak_flops(device.device_kind) if device.platform == "gpu" else None
    return dict(
        seconds=seconds, rows_per_second=rows_per_step / seconds,
        flops=flops_per_step / seconds, mfu=None if peak is None else flops_per_step / seconds / peak,
        memory=memory, fused_kernel="fmha" in compiled.as_text().lower(),
        compile_seconds=compile_seconds, first_loss=losses[0], last_loss=losses[-1],
    )


# ----------------------------------------------------------------------------
# (a) BERT-base masked LM, (b) ViT-B/16
# ----------------------------------------------------------------------------


def bert_flops(s, predictions):
    L, d, F, T, V, B = (s["num_layers"], s["hidden_dim"], s["intermediate_dim"], s["length"],
                        s["vocabulary"], s["batch"])
    blocks = L * (4 * d * d + 2 * d * F)
    return B * (6 * blocks * T + 12 * L * T * T * d + 6 * predictions * (d * d + d * V))


def vit_flops(s):
    L, d, F, B = s["num_layers"], s["hidden_dim"], s["mlp_dim"], s["batch"]
    T = (s["image"] // s["patch"]) ** 2 + 1
    patch_inputs = s["patch"] ** 2 * 3
    blocks = L * (4 * d * d + 2 * d * F) + patch_inputs * d * (T - 1) / T  # + the patch projection
    return B * (6 * blocks * T + 12 * L * T * T * d + 6 * d * s["classes"])


def bert_rows(sizes):
    import keras_hub

    import kattn
    from zoo.bert import BertBackbone, BertPretrainer

    s = sizes["bert"]
    size = {k: s[k] for k in ("num_layers", "num_heads", "hidden_dim", "intermediate_dim")}
    T, B, V = s["length"], s["batch"], s["vocabulary"]
    P = max(1, T * 15 // 100)
    x = {
        "token_ids": RNG.integers(5, V, (B, T)).astype("int32"),
        "segment_ids": np.repeat([[0] * (T // 2) + [1] * (T - T // 2)], B, 0).astype("int32"),
        "padding_mask": np.ones((B, T), "int32"),
        "mask_positions": np.sort(RNG.permuted(np.tile(np.arange(1, T), (B, 1)), axis=1)[:, :P], 1).astype("int32"),
    }
    batch = (x, RNG.integers(5, V, (B, P)).astype("int32"), np.ones((B, P), "float32"))
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    flops = bert_flops(s, P)
    rows = []
    for implementation in ("fused", "explicit"):
        keras.utils.set_random_seed(0)
        ours = BertPretrainer(BertBackbone(V, **size, max_sequence_length=T, dropout=0.0, gelu_approximate=True))
        with kattn.config.use_attention_implementation(implementation):  # read while tracing
            result = measure(ours, lambda y, out, w: cross_entropy(y, out["mlm"], w), batch, sizes, flops, B)
        rows.append(("ours (`zoo.bert.BertPretrainer`)", implementation, result))
        del ours
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=V, max_sequence_length=T, dropout=0.0, **size)
    peer = keras_hub.models.BertMaskedLM(backbone, preprocessor=None)
    rows.append(("`keras_hub.models.BertMaskedLM`", "keras default", measure(peer, cross_entropy, batch, sizes, flops, B)))
    return rows, P


def vit_rows(sizes):
    import keras_hub

    from zoo.vit import ViT

    s = sizes["vit"]
    size = {k: s[k] for k in ("num_layers", "num_heads", "hidden_dim", "mlp_dim")}
    B = s["batch"]
    batch = (RNG.random((B, s["image"], s["image"], 3)).astype("float32"),
             RNG.integers(0, s["classes"], (B,)).astype("int32"), np.ones((B,), "float32"))
    flops = vit_flops(s)
    keras.utils.set_random_seed(0)
    ours = ViT(s["image"], s["patch"], num_classes=s["classes"], **size)  # softmax probabilities
    probabilities = keras.losses.SparseCategoricalCrossentropy()
    rows = [("ours (`zoo.vit.ViT`)", "auto", measure(ours, probabilities, batch, sizes, flops, B))]
    del ours
    backbone = keras_hub.models.ViTBackbone(image_shape=(s["image"], s["image"], 3), patch_size=s["patch"], **size)
    peer = keras_hub.models.ViTImageClassifier(backbone, s["classes"], preprocessor=None)  # logits
    logits = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    rows.append(("`keras_hub.models.ViTImageClassifier`", "keras default", measure(peer, logits, batch, sizes, flops, B)))
    return rows


# ----------------------------------------------------------------------------
# (c) a recipe end to end
# ----------------------------------------------------------------------------


def recipe_run(sizes, data=None):
    """Train `sizes["recipe"]` with the zoo's loop, evaluate it, save a preset."""
    from zoo import recipes, training

    if sizes["minutes"]:
        options = recipes.Options(data=data, mixed_precision="bfloat16", extra={"minutes": sizes["minutes"]})
    else:
        options = recipes.Options(quick=True, epochs=1, mixed_precision="bfloat16")
    folder = tempfile.mkdtemp()
    start = time.perf_counter()
    result = training.train(sizes["recipe"], options, output=os.path.join(folder, "preset"),
                            workdir=os.path.join(folder, "work"), verbose=0)
    return dict(seconds=time.perf_counter() - start, metrics=result.metrics,
                epochs=len(result.history.history.get("loss", [])))


# ----------------------------------------------------------------------------
# The Markdown section
# ----------------------------------------------------------------------------


def _table(rows, unit):
    lines = [
        f"| model | attention | fused kernel in the step | ms / step | {unit} / s | TFLOP/s | MFU | step memory (MiB) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, attention, r in rows:
        mfu = "n/a" if r["mfu"] is None else f"{100 * r['mfu']:.1f} %"
        memory = "n/a" if r["memory"] is None else f"{r['memory'] / MIB:,.1f}"
        lines.append(
            f"| {name} | {attention} | {'yes' if r['fused_kernel'] else 'no'} | {1000 * r['seconds']:.1f} "
            f"| {r['rows_per_second']:,.1f} | {r['flops'] / 1e12:.3g} | {mfu} | {memory} |"
        )
    return "\n".join(lines)


def section(tiny, bert, predictions, vit, recipe, sizes):
    import jax

    device = jax.devices()[0]
    peak = peak_flops(device.device_kind) if device.platform == "gpu" else None
    b, v = sizes["bert"], sizes["vit"]
    mode = ("**Tiny mode on a CPU** (`--tiny`, or no GPU at hand): the sizes below are not BERT-base "
            "or ViT-B/16, and the figures only show that the script runs." if tiny or device.platform != "gpu"
            else "Full sizes.")
    ours_bert = next(r for n, a, r in bert if a == "fused")
    peer_bert = bert[-1][2]
    lines = [
        "## GPU: BERT-base and ViT-B/16 training steps vs keras_hub, and a recipe end to end",
        "",
        f"{mode} Device: {device.device_kind} ({device.platform}"
        + (f", dense bf16 peak {peak / 1e12:.0f} TFLOP/s" if peak else ", no bf16 peak known: MFU n/a")
        + f"), JAX {jax.__version__}. mixed_bfloat16, AdamW, dropout 0, one XLA-compiled step "
        f"(forward, gradient, update) per model; median of {sizes['steps']} steps after "
        f"{sizes['warmup']} warm-up. Model FLOPs per step: 6·N·T·B + 12·L·T²·d·B (+ 6·P·(d² + d·V)·B "
        "for BERT's masked-LM head, + 6·d·C·B for ViT's classifier), N = L·(4d² + 2dF); MFU = model "
        "FLOP/s ÷ peak. Step memory: XLA's plan of the compiled step (weights, AdamW state, batch, "
        "activations).",
        "",
        f"### (a) BERT masked LM: {b['num_layers']} layers, width {b['hidden_dim']}, {b['num_heads']} heads, "
        f"FFN {b['intermediate_dim']}, vocabulary {b['vocabulary']}, T={b['length']}, batch {b['batch']}, "
        f"{predictions} masked positions per sequence",
        "",
        _table(bert, "sequences"),
        "",
        f"Ours (fused) ÷ keras_hub: {ours_bert['rows_per_second'] / peer_bert['rows_per_second']:.2f}x "
        f"the sequences per second; explicit ÷ fused: "
        f"{bert[1][2]['rows_per_second'] / ours_bert['rows_per_second']:.2f}x.",
        "",
        f"### (b) ViT: {v['num_layers']} blocks, width {v['hidden_dim']}, {v['num_heads']} heads, "
        f"MLP {v['mlp_dim']}, {v['image']}x{v['image']} images, patch {v['patch']} "
        f"({(v['image'] // v['patch']) ** 2 + 1} tokens), {v['classes']} classes, batch {v['batch']}",
        "",
        _table(vit, "images"),
        "",
        f"Ours ÷ keras_hub: {vit[0][2]['rows_per_second'] / vit[1][2]['rows_per_second']:.2f}x the images per second.",
        "",
        f"### (c) `python -m zoo train {sizes['recipe']} --mixed-precision bfloat16"
        + ("`, " + f"{sizes['minutes']:g} minutes of training" if sizes["minutes"] else " --quick --epochs 1`"),
        "",
        f"Test metrics: {', '.join(f'{k} {v:.4f}' for k, v in recipe['metrics'].items())} after {recipe['epochs']} "
        f"epochs; {recipe['seconds']:.0f} s from start to saved preset (data loading and evaluation included).",
    ]
    return "\n".join(lines)


def run(quick=False, data=None):
    """The section for BENCHMARKS.md; tiny sizes when `quick` or without a GPU."""
    import jax

    if keras.backend.backend() != "jax":  # e.g. `python -m bench all` on TensorFlow
        command = [sys.executable, "-m", "bench.gpu"] + (["--tiny"] if quick else []) + (["--data", data] if data else [])
        done = subprocess.run(command, env=dict(os.environ, KERAS_BACKEND="jax"), capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
        return done.stdout
    tiny = quick or jax.devices()[0].platform != "gpu"
    sizes = TINY if tiny else FULL
    if data is None and os.path.exists(os.path.join(".gpu-data", "cifar10_jpeg.npz")):
        data = os.path.join(".gpu-data", "cifar10_jpeg.npz")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        bert, predictions = bert_rows(sizes)
        vit = vit_rows(sizes)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    recipe = recipe_run(sizes, data)
    return section(tiny, bert, predictions, vit, recipe, sizes)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (a CPU, the test suite)")
    parser.add_argument("--data", help="CIFAR-10 for (c); default .gpu-data/cifar10_jpeg.npz, else the zoo's")
    args = parser.parse_args(argv)
    print(run(quick=args.tiny, data=args.data))


if __name__ == "__main__":
    main()
