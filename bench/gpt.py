"""GPT on word-level WikiText-2: test perplexity against training tokens, and
generation speed (issue #28).

    python -m bench gpt                       # both parts (tens of minutes)
    python -m bench gpt --variant perplexity  # part 1 only; saves the model to runs/gpt-wikitext2
    python -m bench gpt --variant speed       # part 2 only (a few minutes)
    python -m bench gpt --quick               # tiny sizes, checks that it runs

1. Perplexity. The `gpt-wikitext2` recipe's model (`zoo.gpt.recipes`, the
   same code as `python -m zoo train gpt-wikitext2`) trains on a budget of
   training tokens, the budget of the peers in `../shared/ANCHORS.md`
   (PyTorch's `word_language_model`: ≈ 2,200 batches of 20 × 35 ≈ 1.5 M
   tokens, on one core: tied LSTM 234.8, Transformer 305.9). Its learning
   rate schedule spans exactly that budget. The test perplexity (per word,
   `<eos>` included, as the peers count it) is measured at several points
   of the budget: the curve. TensorFlow is held to one thread on one core,
   as the peers were; evaluation time is not counted as training time.
   The trained model is saved as a preset folder, `runs/gpt-wikitext2`
   (`python -m zoo ship runs/gpt-wikitext2` makes it the shipped preset).
2. Generation speed: greedy generation of `new_tokens` tokens from a
   one-token prompt with `GPT.generate` (key/value cache), the same model
   without the cache, and keras_hub's `GPT2CausalLM` (a `GPT2Backbone` of
   the same sizes holding our weights, copied variable by variable, which
   must produce the same tokens). Contestants take turns; medians.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import time

import keras
import numpy as np

from bench import _timing
from bench import common

PEERS = {"PyTorch word_language_model, LSTM (tied)": 234.8,
         "PyTorch word_language_model, Transformer": 305.9}
BUDGET_TOKENS = 1_500_000
CURVE_POINTS = (0.2, 0.4, 0.6, 0.8, 1.0)  # fractions of the budget
PRESET_FOLDER = os.path.join("runs", "gpt-wikitext2")
VARIANTS = {"perplexity": dict(parts=("perplexity",)), "speed": dict(parts=("speed",))}


def _one_core():
    """Pin this process to one core and TensorFlow to one thread, if still possible."""
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        return "one core, one TensorFlow thread"
    except RuntimeError:  # TensorFlow already started its thread pools
        return "one core (TensorFlow's thread pools were already set)"


class _Curve(keras.callbacks.Callback):
    """Test perplexity whenever the tokens seen pass the next point."""

    def __init__(self, points, tokens_per_step, evaluate):
        super().__init__()
        self.points, self.tokens_per_step, self.evaluate = list(points), tokens_per_step, evaluate
        self.rows, self.evaluation_seconds, self.started = [], 0.0, None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        seen = (batch + 1) * self.tokens_per_step
        if self.points and seen >= self.points[0]:
            self.points.pop(0)
            start = time.perf_counter()
            training_minutes = (start - self.started - self.evaluation_seconds) / 60
            value = self.evaluate(self.model)
            self.evaluation_seconds += time.perf_counter() - start
            self.rows.append([f"{seen:,}", f"{value:.1f}", f"{training_minutes:.1f}"])
            print(f"tokens {seen:,}: test perplexity {value:.1f}", flush=True)


def perplexity_curve(quick=False, budget_tokens=BUDGET_TOKENS, points=CURVE_POINTS, sizes=None):
    """Train the recipe's GPT on `budget_tokens`; return (Markdown rows, final perplexity, note)."""
    from zoo.gpt import data
    from zoo.gpt import recipes as gpt_recipes

    cores = "all cores (quick mode)" if quick else _one_core()
    keras.utils.set_random_seed(0)
    splits = data.load_wikitext2(max_lines=gpt_recipes.QUICK_LINES if quick else None)
    length = 16 if quick else gpt_recipes.SEQUENCE_LENGTH
    batch = gpt_recipes.BATCH_SIZE
    budget_tokens = 20 * batch * length if quick else budget_tokens
    steps = budget_tokens // (batch * length)
    x, y = data.windows(splits.train, length)
    order = np.random.default_rng(0).permutation(len(x))
    order = np.concatenate([order] * (1 + steps * batch // len(x)))[: steps * batch]
    sizes = sizes or (gpt_recipes.QUICK_SIZES if quick else gpt_recipes.SIZES)
    model = gpt_recipes.make_model(splits.tokenizer, sizes, length)
    gpt_recipes.compile_model(model, total_steps=steps)
    curve = _Curve(
        [int(f * steps) * batch * length for f in points], batch * length,
        lambda m: gpt_recipes.perplexity(m, splits.test, length),
    )
    started = time.perf_counter()
    model.fit(x[order], y[order], batch_size=batch, epochs=1, shuffle=False, callbacks=[curve],
              verbose=0)
    if not quick:
        import zoo

        minutes = (time.perf_counter() - started - curve.evaluation_seconds) / 60
        zoo.save(model, PRESET_FOLDER, metrics={"test_perplexity": float(curve.rows[-1][1])},
                 command="python -m bench gpt --variant perplexity", recipe="gpt-wikitext2",
                 data=f"WikiText-2 (wikitext-2-v1 tokens), word level: {budget_tokens:,} training "
                      f"tokens in windows of {length} (about {budget_tokens / len(splits.train):.2f} "
                      f"epoch); training took {minutes:.0f} min ({cores})")
    parameters = model.count_params()
    note = (f"{sizes['num_layers']} blocks, width {sizes['hidden_dim']}, {sizes['num_heads']} heads, "
            f"FFN {sizes['intermediate_dim']}, dropout {sizes['dropout']}, {sizes.get('position', 'learned')} "
            f"positions, {parameters:,} parameters "
            f"(tied embeddings), windows of {length}, batch {batch}, AdamW with warm-up and cosine "
            f"decay over {steps} steps; {cores}")
    return curve.rows, float(curve.rows[-1][1]), note


def _peer_path(path):
    """Our variable's path -> the same variable's path in keras_hub's GPT2Backbone."""
    path = path.split("/", 1)[1]  # without the model's name
    path = re.sub(r"^embedding/", "", path)
    path = re.sub(r"^block_(\d+)/", r"transformer_layer_\1/", path)
    return re.sub(r"^final_norm/", "layer_norm/", path)


def _keras_hub_copy(model):
    """keras_hub's GPT2CausalLM with `model`'s weights, copied variable by variable (by name)."""
    import keras_hub

    backbone = keras_hub.models.GPT2Backbone(
        vocabulary_size=model.vocabulary_size, num_layers=model.num_layers,
        num_heads=model.num_heads, hidden_dim=model.hidden_dim,
        intermediate_dim=model.intermediate_dim, dropout=0.0,
        max_sequence_length=model.max_sequence_length,
    )
    theirs = {variable.path: variable for variable in backbone.weights}
    pairs = [(source, theirs[_peer_path(source.path)]) for source in model.weights]
    assert len(pairs) == len(theirs), "every keras_hub variable gets one of ours"
    for source, target in pairs:
        assert tuple(source.shape) == tuple(target.shape), (source.path, target.path)
        target.assign(source)
    causal_lm = keras_hub.models.GPT2CausalLM(backbone, preprocessor=None)
    causal_lm.compile(sampler="greedy")
    return causal_lm


def generation_speed(quick=False, new_tokens=256, rounds=3):
    """Rows of tokens/s for cached, uncached and keras_hub generation."""
    from zoo.gpt import GPT

    if quick:
        sizes = dict(vocabulary_size=100, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32)
        new_tokens, rounds = 16, 2
    else:  # the recipe's sizes, with the WikiText-2 vocabulary
        from zoo.gpt.recipes import SIZES

        sizes = dict(vocabulary_size=33278,
                     **{k: v for k, v in SIZES.items() if k not in ("dropout", "position")})
    keras.utils.set_random_seed(0)
    model = GPT(max_sequence_length=new_tokens + 1, **sizes)  # learned positions, as keras_hub's
    model.build()
    rotary = GPT(max_sequence_length=new_tokens + 1, position="rotary", **sizes)  # as the recipe's
    rotary.build()
    peer = _keras_hub_copy(model)
    prompt = np.array([[7]], "int32")
    padded = np.zeros((1, new_tokens + 1), "int32")
    padded[:, 0] = prompt[:, 0]
    peer_inputs = {"token_ids": padded, "padding_mask": padded * 0 + (np.arange(new_tokens + 1) < 1)}

    contestants = {
        "ours, cache": lambda: model.generate(prompt, new_tokens),
        "keras_hub GPT2CausalLM, cache": lambda: np.asarray(
            peer.generate(peer_inputs, stop_token_ids=None)["token_ids"]),
        "ours, no cache": lambda: model.generate(prompt, new_tokens, use_cache=False),
        "ours rotary, cache": lambda: rotary.generate(prompt, new_tokens),
        "ours rotary, no cache": lambda: rotary.generate(prompt, new_tokens, use_cache=False),
    }
    outputs = {name: fn() for name, fn in contestants.items()}  # compile once, keep the tokens
    same = {name: bool(np.array_equal(  # rotary: other weights, so its own reference
        np.asarray(out), outputs["ours rotary, cache" if "rotary" in name else "ours, cache"]))
        for name, out in outputs.items()}
    times = _timing.interleaved(contestants, rounds, warmup=1)
    rows = [[name, f"{new_tokens / _timing.median(t):,.0f}", f"{_timing.median(t):.2f}",
             "yes" if same[name] else "NO"] for name, t in times.items()]
    ratios = (_timing.speedup(times["keras_hub GPT2CausalLM, cache"], times["ours, cache"]),
              _timing.speedup(times["ours, no cache"], times["ours, cache"]),
              _timing.speedup(times["ours rotary, no cache"], times["ours rotary, cache"]))
    return rows, ratios, sizes, new_tokens, rounds


def perplexity_section(quick=False):
    rows, final, note = perplexity_curve(quick)
    peers = "; ".join(f"{name}: {value}" for name, value in PEERS.items())
    verdict = ("beats both peers" if final < min(PEERS.values())
               else "beats the Transformer peer only" if final < max(PEERS.values())
               else "beats neither peer")
    return [
        "## GPT on word-level WikiText-2: test perplexity against training tokens (issue #28)",
        "",
        f"`gpt-wikitext2` recipe model: {note}. Test perplexity per word over the whole test set, "
        "every token predicted once from at least half a window of context (`zoo.gpt.recipes.perplexity`).",
        "",
        common.table(["training tokens seen", "test perplexity", "training minutes"], rows),
        "",
        f"At the end of the budget: **{final:.1f}** ({verdict}; the peers at ≈ 1.5 M tokens on one "
        f"core, `../shared/ANCHORS.md`: {peers}).",
    ]


BACKENDS = ("tensorflow", "jax", "torch")


def _speed_on(backend, quick):
    """`generation_speed(quick)` in a fresh process on `backend` (Keras picks
    its backend once per process)."""
    script = ("import json; from bench import gpt; "
              f"print(json.dumps(gpt.generation_speed(quick={bool(quick)})))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
        env=dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=root),
    )
    if completed.returncode != 0:
        raise RuntimeError(f"generation speed on {backend} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def speed_section(quick=False):
    backends = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
    if quick:  # the check that it runs: this process's backend only
        backends = [keras.backend.backend()]
    rows, ratios = [], []
    for backend in backends:
        speed_rows, (versus_peer, versus_no_cache, rotary_versus_no_cache), sizes, new_tokens, rounds = (
            _speed_on(backend, quick))
        rows += [[backend, *row] for row in speed_rows]
        ratios.append(f"{backend}: **{versus_peer:.2f}x** keras_hub, cache vs no cache "
                      f"**{versus_no_cache:.1f}x** (rotary: **{rotary_versus_no_cache:.1f}x**)")
    return [
        "## GPT generation speed: key/value cache, and keras_hub's GPT2CausalLM with our weights",
        "",
        f"Greedy, {new_tokens} new tokens from a 1-token prompt, batch 1, vocabulary "
        f"{sizes['vocabulary_size']:,}, {sizes['num_layers']} blocks of width {sizes['hidden_dim']}, "
        "learned positions (as keras_hub's GPT-2) or rotary ones (as the recipe's; other weights, "
        f"so other tokens); on each backend in its own process, median of {rounds} generations taken "
        "in turns "
        "(after one untimed run that compiles).",
        "",
        common.table(["backend", "method", "tokens/s", "seconds per generation",
                      "same tokens as ours (cache)"], rows),
        "",
        "Ours, cached, vs keras_hub cached and vs ours without the cache: " + "; ".join(ratios) + ".",
    ]


def run(quick=False, parts=("perplexity", "speed")):
    sections = {"perplexity": perplexity_section, "speed": speed_section}
    lines = []
    for part in parts:
        lines += sections[part](quick) + [""]
    return "\n".join(lines)
