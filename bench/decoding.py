"""Greedy decoding speed with a key/value cache: kattn vs keras_hub (issue #10).

    python -m bench decoding            # a few minutes on 2 idle cores
    python -m bench decoding --quick    # tiny sizes, checks that it runs

A decoder-only stack (token + learned position embeddings, post-norm
decoder blocks without cross-attention, logits) generates `new_tokens`
tokens greedily from a one-token prompt, four ways:

- ours, cached: `kattn.layers.TransformerDecoderBlock` with
  `self_attention_cache` / `self_attention_cache_update_index`;
- keras_hub, cached: `keras_hub.layers.TransformerDecoder` with its cache
  (the same `(B, 2, max_length, heads, head_dim)` layout), weights copied
  from ours by sub-layer name, so both must produce the same tokens;
- keras_hub, cached, a second copy: the noise floor;
- ours without a cache: the whole fixed-size buffer re-run every step.

Each generation is one XLA-compiled `tf.while_loop` (no host round-trip per
token). The four take turns, one generation each, for several rounds;
tokens/s come from the median times.
"""

import keras
import numpy as np

from bench import _timing
from bench import common


class _Decoder:
    """Embeddings -> decoder blocks -> logits, with kattn or keras_hub blocks."""

    def __init__(self, kind, vocabulary, width, heads, blocks, ffn, max_length):
        import keras_hub

        import kattn

        self.kind, self.heads, self.head_dim, self.max_length = kind, heads, width // heads, max_length
        self.token_embedding = keras.layers.Embedding(vocabulary, width, name="token_embedding")
        self.position_embedding = keras.layers.Embedding(max_length, width, name="position_embedding")
        if kind == "kattn":
            self.blocks = [kattn.layers.TransformerDecoderBlock(heads, ffn, cross_attention=False)
                           for _ in range(blocks)]
        else:
            self.blocks = [keras_hub.layers.TransformerDecoder(ffn, heads) for _ in range(blocks)]
        self.logits = keras.layers.Dense(vocabulary, name="logits")

    def __call__(self, tokens, start=0, caches=None):
        """tokens (B, T) at positions start..start+T-1 -> logits (B, T, V), caches."""
        positions = keras.ops.arange(keras.ops.shape(tokens)[1]) + start
        x = self.token_embedding(tokens) + self.position_embedding(positions)[None]  # (B, T, D)
        new_caches = []
        for i, block in enumerate(self.blocks):
            if caches is None:
                x = block(x)  # causal by default in both libraries
                continue
            if self.kind == "kattn":
                x, cache = block(x, use_causal_mask=True, self_attention_cache=caches[i],
                                 self_attention_cache_update_index=start)
            else:
                x, cache = block(x, self_attention_cache=caches[i], self_attention_cache_update_index=start)
            new_caches.append(cache)
        return self.logits(x), new_caches

    def layers(self):
        return [self.token_embedding, self.position_embedding, *self.blocks, self.logits]

    def empty_caches(self, batch):
        shape = (batch, 2, self.max_length, self.heads, self.head_dim)
        return [keras.ops.zeros(shape) for _ in self.blocks]


def copy_weights(source, target):
    """Copy every weight layer by layer; inside a block by the path below the
    block's name (kattn's and keras_hub's sub-layers share names)."""
    for source_layer, target_layer in zip(source.layers(), target.layers()):
        by_path = {v.path.split("/", 1)[-1]: v for v in target_layer.weights}
        for variable in source_layer.weights:
            by_path[variable.path.split("/", 1)[-1]].assign(variable)


def generators(model, prompt, new_tokens, use_cache):
    """A compiled function that returns the `new_tokens` greedy tokens (B, new_tokens)."""
    import tensorflow as tf

    batch = prompt.shape[0]

    def next_token(logits):  # (B, V) -> (B, 1)
        return tf.argmax(logits, axis=-1, output_type=tf.int32)[:, None]

    def empty_buffer():
        return tf.concat([prompt, tf.zeros((batch, new_tokens), tf.int32)], axis=1)  # (B, 1 + new)

    @tf.function(jit_compile=True)
    def with_cache():
        def step(index, token, caches, buffer):
            logits, caches = model(token, index, caches)  # one token in, (B, 1, V) out
            token = next_token(logits[:, -1])
            return index + 1, token, caches, keras.ops.slice_update(buffer, [0, index + 1], token)

        state = (tf.constant(0), prompt, model.empty_caches(batch), empty_buffer())
        *_, buffer = tf.while_loop(lambda index, *_: index < new_tokens, step, state)
        return buffer[:, 1:]

    @tf.function(jit_compile=True)
    def by_recomputing():
        def step(index, buffer):
            logits, _ = model(buffer)  # the whole (B, 1 + new) buffer, causal
            token = next_token(tf.gather(logits, index, axis=1))
            return index + 1, keras.ops.slice_update(buffer, [0, index + 1], token)

        _, buffer = tf.while_loop(lambda index, _: index < new_tokens, step, (tf.constant(0), empty_buffer()))
        return buffer[:, 1:]

    return with_cache if use_cache else by_recomputing


def run(quick=False):
    import tensorflow as tf

    if quick:
        size = dict(vocabulary=50, width=16, heads=2, blocks=1, ffn=32)
        batch, new_tokens, rounds = 2, 8, 2
    else:
        size = dict(vocabulary=1000, width=256, heads=8, blocks=2, ffn=512)
        batch, new_tokens, rounds = 8, 256, 5
    keras.utils.set_random_seed(0)
    prompt = tf.constant(np.random.default_rng(0).integers(1, size["vocabulary"], size=(batch, 1)), "int32")
    models = {kind: _Decoder(kind.split(" ")[0], max_length=new_tokens + 1, **size)
              for kind in ("kattn", "keras_hub", "keras_hub copy")}
    for model in models.values():
        model(prompt)  # build
    copy_weights(models["kattn"], models["keras_hub"])
    copy_weights(models["kattn"], models["keras_hub copy"])

    generate = {
        "ours, cache": generators(models["kattn"], prompt, new_tokens, use_cache=True),
        "keras_hub, cache": generators(models["keras_hub"], prompt, new_tokens, use_cache=True),
        "keras_hub copy, cache": generators(models["keras_hub copy"], prompt, new_tokens, use_cache=True),
        "ours, no cache": generators(models["kattn"], prompt, new_tokens, use_cache=False),
    }
    tokens = {name: fn().numpy() for name, fn in generate.items()}  # compile, and keep the outputs
    same = {name: bool(np.array_equal(t, tokens["ours, cache"])) for name, t in tokens.items()}
    times = _timing.interleaved({name: (lambda fn=fn: fn().numpy()) for name, fn in generate.items()}, rounds,
                                warmup=1)
    generated = batch * new_tokens
    rows = [
        [name, f"{generated / _timing.median(t):,.0f}", f"{_timing.median(t):.3f}",
         "yes" if same[name] else "NO"]
        for name, t in times.items()
    ]
    print(rows, flush=True)
    versus_peer = _timing.speedup(times["keras_hub, cache"], times["ours, cache"])
    noise = _timing.speedup(times["keras_hub copy, cache"], times["keras_hub, cache"])
    versus_no_cache = _timing.speedup(times["ours, no cache"], times["ours, cache"])
    return "\n".join([
        "## Greedy decoding with a key/value cache: kattn vs keras_hub (issue #10)",
        "",
        f"Decoder-only stack of {size['blocks']} post-norm blocks without cross-attention, width "
        f"{size['width']}, {size['heads']} heads, FFN {size['ffn']}, vocabulary {size['vocabulary']}, "
        f"batch {batch}, {new_tokens} new tokens from a 1-token prompt; each generation is one "
        "XLA-compiled `tf.while_loop`; keras_hub's blocks hold our weights (copied by name). "
        f"Median of {rounds} generations taken in turns.",
        "",
        common.table(["method", "tokens/s", "seconds per generation", "same tokens as ours (cache)"], rows),
        "",
        f"Cached decoding, kattn vs keras_hub: **{versus_peer:.2f}x** (noise: keras_hub vs its copy "
        f"{noise:.2f}x; goal at least 1.0x). Cache vs no cache in kattn: **{versus_no_cache:.1f}x**.",
    ])
