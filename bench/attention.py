"""Benchmark of the attention core (issue 1/9), on the TensorFlow backend.

    python -m bench attention            # a few minutes on a 2-core CPU
    python -m bench attention --quick    # tiny sizes, checks that it runs

Three measurements, each a ratio of two things timed in the same process:

(a) forward + backward of `kattn.layers.MultiHeadAttention` against
    `keras.layers.MultiHeadAttention` holding the same weights (causal
    self-attention, loss = sum of the output, gradients for the weights and
    the input), each step compiled as `model.fit` compiles on a CPU (a
    `tf.function` without XLA) and again with XLA (`jit_compile=True`);
(b) greedy decoding of 256 tokens with a small decoder-only stack of our
    `MultiHeadAttention`: through the key/value cache against recomputing
    the whole prefix at every step (both steps are `tf.function`s with
    dynamic shapes, called once per token);
(c) time of the explicit attention path / time of the fused one
    (`kattn.ops.scaled_dot_product_attention`, forward + backward, compiled),
    on TensorFlow and, in a subprocess, on JAX: the measurement behind
    `kattn.config`'s "auto" policy.

`python -m bench.attention kernels` prints (c) for the current backend as
JSON; (c) runs it with KERAS_BACKEND=jax.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np

from bench import common  # before Keras: starts TensorFlow quietly (zoo/quiet_start.py)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------
# (a) our MultiHeadAttention vs keras.layers.MultiHeadAttention, fwd + bwd
# ----------------------------------------------------------------------------


def _mha_step(layer, x, jit_compile):
    """A compiled forward + backward step of causal self-attention."""
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile)
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, x, use_causal_mask=True))
        return tape.gradient(loss, [x] + layer.trainable_variables)

    return lambda: [g.numpy() for g in step(x)[:1]]


def interleaved_medians(steps, rounds):
    """Median seconds of each step in `steps` (a dict of callables), timed in
    turn round after round so that a change in machine load hits all alike."""
    from bench._timing import interleaved, median

    return {name: median(t) for name, t in interleaved(steps, rounds).items()}


def mha_throughput(batch, width, heads, lengths, repeats, jit_compile):
    import keras
    import tensorflow as tf

    import kattn

    rows = []
    for length in lengths:
        if length >= 2048:
            batch = 1  # keeps the (B, H, T, T) weights and the run time small on 2 cores
        x = tf.constant(np.random.default_rng(0).normal(size=(batch, length, width)), "float32")
        theirs = keras.layers.MultiHeadAttention(heads, width // heads)
        theirs(x, x)
        steps = {"keras": _mha_step(theirs, x, jit_compile)}
        for path in ("auto", "explicit", "fused"):
            with kattn.config.use_attention_implementation(path):
                ours = kattn.layers.MultiHeadAttention(heads, width // heads)
                ours(x, x)
                ours.set_weights(theirs.get_weights())
                step = _mha_step(ours, x, jit_compile)
                step()  # trace now: the path is chosen while tracing
            steps[path] = step
        timings = interleaved_medians(steps, repeats)
        print(f"(a) T={length}: {timings}", file=sys.stderr, flush=True)
        sequences_per_s = {name: batch / t for name, t in timings.items()}
        rows.append(
            [
                length,
                batch,
                sequences_per_s["keras"],
                sequences_per_s["auto"],
                sequences_per_s["auto"] / sequences_per_s["keras"],
                sequences_per_s["explicit"] / sequences_per_s["keras"],
                sequences_per_s["fused"] / sequences_per_s["keras"],
            ]
        )
    return rows


# ----------------------------------------------------------------------------
# (b) greedy decoding: key/value cache vs recomputing the prefix
# ----------------------------------------------------------------------------


class _TinyDecoder:
    """Decoder-only stack: embeddings, then per block causal MHA + FFN
    (pre-norm, residuals), then logits. Just enough to time decoding."""

    def __init__(self, vocabulary, width, heads, blocks, ffn, max_length):
        import keras

        import kattn

        self.heads, self.head_dim, self.max_length = heads, width // heads, max_length
        self.token_embedding = keras.layers.Embedding(vocabulary, width)
        self.position_embedding = keras.layers.Embedding(max_length, width)
        self.blocks = [
            (
                keras.layers.LayerNormalization(),
                kattn.layers.MultiHeadAttention(heads, width // heads),
                keras.layers.LayerNormalization(),
                keras.layers.Dense(ffn, activation="relu"),
                keras.layers.Dense(width),
            )
            for _ in range(blocks)
        ]
        self.logits = keras.layers.Dense(vocabulary)

    def __call__(self, tokens, start=0, caches=None):
        """tokens (B, T) at positions start..start+T-1 -> logits (B, T, V)."""
        import keras

        positions = keras.ops.arange(keras.ops.shape(tokens)[1]) + start
        x = self.token_embedding(tokens) + self.position_embedding(positions)[None]
        new_caches = []
        for i, (norm1, attention, norm2, hidden, output) in enumerate(self.blocks):
            h = norm1(x)
            if caches is None:
                x = x + attention(h, h, use_causal_mask=True)
            else:
                attended, cache = attention(
                    h, h, use_causal_mask=True, cache=caches[i], cache_update_index=start
                )
                new_caches.append(cache)
                x = x + attended
            x = x + output(hidden(norm2(x)))
        return self.logits(x), new_caches

    def empty_caches(self, batch):
        import keras

        shape = (batch, 2, self.max_length, self.heads, self.head_dim)
        return [keras.ops.zeros(shape) for _ in self.blocks]


def greedy_decoding(batch, width, heads, blocks, ffn, new_tokens):
    """Tokens/s of greedy decoding, each method one compiled loop (no host
    round-trip per token): with the KV cache (one new token per step) and
    without it (the whole fixed-size buffer re-run every step, causally)."""
    import tensorflow as tf

    from bench.decoding import generators

    length = new_tokens + 1
    model = _TinyDecoder(1000, width, heads, blocks, ffn, length)
    prompt = tf.constant(np.random.default_rng(0).integers(1, 1000, size=(batch, 1)), "int32")
    model(prompt)  # build
    decode_with_cache = generators(model, prompt, new_tokens, use_cache=True)
    decode_by_recomputing = generators(model, prompt, new_tokens, use_cache=False)

    # Compile both, then time one full generation each.
    decode_with_cache()
    decode_by_recomputing()
    start = time.perf_counter()
    cached_tokens = decode_with_cache().numpy()
    cached_seconds = time.perf_counter() - start
    start = time.perf_counter()
    recomputed_tokens = decode_by_recomputing().numpy()
    recompute_seconds = time.perf_counter() - start
    same = bool(np.array_equal(cached_tokens, recomputed_tokens))
    print(f"(b) seconds cached {cached_seconds:.2f}, recomputed {recompute_seconds:.2f}, same {same}",
          file=sys.stderr, flush=True)
    generated = batch * new_tokens
    return generated / cached_seconds, generated / recompute_seconds, same


# ----------------------------------------------------------------------------
# (c) explicit vs fused path of scaled_dot_product_attention
# ----------------------------------------------------------------------------


def _kernel_step(backend, path, q):
    """Compiled fwd+bwd of ops.scaled_dot_product_attention on one path."""
    import keras

    import kattn

    def loss(q, k, v):
        with kattn.config.use_attention_implementation(path):
            out = kattn.ops.scaled_dot_product_attention(q, k, v, is_causal=True)
        return keras.ops.sum(out * out)

    if backend == "jax":
        import jax

        step = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
        return lambda: jax.block_until_ready(step(q, q, q))
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def step(q, k, v):
        with tf.GradientTape() as tape:
            tape.watch([q, k, v])
            total = loss(q, k, v)
        return tape.gradient(total, [q, k, v])

    q = tf.constant(q)
    return lambda: [g.numpy() for g in step(q, q, q)[:1]]


def kernel_ratios(batch, heads, head_dim, lengths, repeats):
    """{length: time explicit / time fused} on the current backend."""
    import keras

    backend = keras.backend.backend()
    ratios = {}
    for length in lengths:
        q = np.random.default_rng(0).normal(size=(batch, length, heads, head_dim)).astype("float32")
        t = interleaved_medians(
            {path: _kernel_step(backend, path, q) for path in ("explicit", "fused")}, repeats
        )
        print(f"(c) {backend} T={length}: {t}", file=sys.stderr, flush=True)
        ratios[length] = {"explicit_s": t["explicit"], "fused_s": t["fused"], "ratio": t["explicit"] / t["fused"]}
    return ratios


def _kernel_ratios_on(backend, sizes):
    """Run kernel_ratios in a subprocess with KERAS_BACKEND=backend."""
    environment = dict(os.environ, KERAS_BACKEND=backend)
    completed = subprocess.run(
        [sys.executable, "-m", "bench.attention", "kernels", json.dumps(sizes)],
        cwd=ROOT, env=environment, capture_output=True, text=True, check=True,
    )
    ratios = json.loads(completed.stdout.strip().splitlines()[-1])
    return {int(length): value for length, value in ratios.items()}


# ----------------------------------------------------------------------------


def run(quick=False):
    if quick:
        mha_sizes = dict(batch=2, width=32, heads=4, lengths=[16, 64], repeats=2)
        decode_sizes = dict(batch=2, width=32, heads=4, blocks=1, ffn=64, new_tokens=16)
        kernel_sizes = dict(batch=2, heads=2, head_dim=8, lengths=[16, 64], repeats=2)
    else:
        mha_sizes = dict(batch=4, width=256, heads=8, lengths=[128, 512, 2048], repeats=15)
        decode_sizes = dict(batch=8, width=256, heads=8, blocks=2, ffn=512, new_tokens=256)
        kernel_sizes = dict(batch=4, heads=8, head_dim=64, lengths=[128, 512, 1024], repeats=3)

    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("bench/attention.py measures the TensorFlow backend; unset KERAS_BACKEND.")

    out = ["## Attention core: MultiHeadAttention, KV cache, fused vs explicit"]
    out.append(
        "Absolute figures depend on the machine's load (its load average is in the header); "
        "ratios are taken within one run, with the models timed in turns.\n"
    )

    s = mha_sizes
    out.append(
        f"### (a) Forward + backward, ours vs `keras.layers.MultiHeadAttention`\n\n"
        f"Causal self-attention, batch {s['batch']} (1 at T ≥ 2048), width {s['width']}, {s['heads']} heads × "
        f"{s['width'] // s['heads']}, same weights (`set_weights`), loss = sum of output, "
        f"gradients for weights and input, median of {s['repeats']} interleaved steps. "
        "Ratio > 1: ours is faster. \"auto\" is explicit on a CPU (`kattn.config`).\n"
    )
    for jit_compile, title in [
        (False, "Compiled as `model.fit` compiles on a CPU (`tf.function`, no XLA: Keras's "
                "`jit_compile=\"auto\"` turns XLA off on CPU-only TensorFlow):"),
        (True, "Compiled with XLA (`tf.function(jit_compile=True)`):"),
    ]:
        rows = mha_throughput(**s, jit_compile=jit_compile)
        out.append(title + "\n")
        out.append(
            common.table(
                ["T", "B", "keras seq/s", "ours (auto) seq/s", "ours auto ÷ keras", "ours explicit ÷ keras",
                 "ours fused ÷ keras"],
                rows,
            )
            + "\n"
        )

    s = decode_sizes
    cached, recomputed, same = greedy_decoding(**s)
    out.append(
        f"\n### (b) Greedy decoding of {s['new_tokens']} tokens: KV cache vs recomputing the prefix\n\n"
        f"Decoder-only stack of {s['blocks']} pre-norm blocks (our `MultiHeadAttention`, "
        f"{s['heads']} heads, width {s['width']}, FFN {s['ffn']}), vocabulary 1000, batch "
        f"{s['batch']}, 1-token prompt; each method is one XLA-compiled `tf.while_loop` (no host round-trip per token): the cached loop feeds one token and the cache each step; the uncached loop re-runs the whole fixed-size buffer (prompt + all new tokens) causally each step, as a compiled generator without a cache must.\n"
    )
    out.append(
        common.table(
            ["method", "tokens/s"],
            [["KV cache (`cache`, `cache_update_index`)", cached], ["no cache: re-run the whole buffer each step", recomputed]],
        )
    )
    out.append(
        f"\nSpeed-up of the cache: **{cached / recomputed:.1f}×**; both produced "
        f"{'the same' if same else 'DIFFERENT'} tokens."
    )

    s = kernel_sizes
    tf_ratios = kernel_ratios(**s)
    try:
        jax_ratios = _kernel_ratios_on("jax", s)
    except (subprocess.CalledProcessError, ValueError) as error:  # JAX missing or failing
        jax_ratios = None
        jax_note = f"JAX run failed: {str(error)[:200]}"
    out.append(
        f"\n### (c) Explicit ÷ fused time of `kattn.ops.scaled_dot_product_attention`\n\n"
        f"Batch {s['batch']}, {s['heads']} heads × {s['head_dim']}, causal, forward + backward; "
        f"TF: `tf.function(jit_compile=True)`; JAX: `jax.jit(jax.grad(...))` in a subprocess. "
        f"Below 1: the explicit einsum path is faster.\n"
    )
    rows = [["TensorFlow (XLA)"] + [tf_ratios[t]["ratio"] for t in s["lengths"]]]
    if jax_ratios is not None:
        rows.append(["JAX (jit)"] + [jax_ratios[t]["ratio"] for t in s["lengths"]])
    out.append(common.table(["backend"] + [f"T={t}" for t in s["lengths"]], rows))
    if jax_ratios is None:
        out.append("\n" + jax_note)
    out.append(
        "\nFused milliseconds per step: TF "
        + ", ".join(f"{tf_ratios[t]['fused_s'] * 1e3:.0f}" for t in s["lengths"])
        + (
            "; JAX " + ", ".join(f"{jax_ratios[t]['fused_s'] * 1e3:.0f}" for t in s["lengths"])
            if jax_ratios is not None
            else ""
        )
        + f" (T = {', '.join(map(str, s['lengths']))})."
    )
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "kernels":
        print(json.dumps(kernel_ratios(**json.loads(sys.argv[2]))))
    else:
        sys.exit("usage: python -m bench.attention kernels '<json sizes>'  (or: python -m bench attention)")
