"""Dates translation: exact-match accuracy of both models, and decoding with
vs without the Transformer's key/value cache.

    python -m bench translation

Trains `translation-dates-transformer` and `translation-dates-rnn` with the
recipes' own code (the same as `python -m zoo train`) under a wall-clock
budget, scores the test split, ships the models as the presets
`zoo/presets/dates-transformer` and `zoo/presets/dates-rnn`, and draws
`docs/images/dates_alignment.png`.
"""

import os
import shutil
import time

import keras
import numpy as np
from keras import ops

from bench import _timing
from bench import common
from zoo import compiling

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATES_MINUTES = 14  # per model
EXAMPLE = "Thursday, March 3rd, 1979"


def train_dates(kind, minutes, quick=False):
    """Train one dates model for at most `minutes`; return (model, facts)."""
    from zoo import recipes
    from zoo.translation import recipes as translation_recipes
    from zoo.translation import training

    keras.utils.set_random_seed(0)
    options = recipes.Options(quick=quick)
    run = translation_recipes.build_dates(kind, options)
    budget = training.TimeBudget(minutes)
    x, y = run.train
    run.model.fit(
        x, y, batch_size=128, epochs=1 if quick else 40, validation_data=run.validation,
        callbacks=[budget, keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)],
        verbose=2,
    )
    started = time.perf_counter()
    metrics = run.evaluate(run.model)
    splits = run.data
    facts = {
        "params": run.model.count_params(),
        "minutes": budget.elapsed_minutes,
        "steps": budget.steps,
        "greedy": metrics["test_exact_match"],
        "eval_seconds": time.perf_counter() - started,
        "data": splits,
    }
    return run.model, facts


def ship(model, kind, facts):
    import zoo

    directory = os.path.join(ROOT, "zoo", "presets", f"dates-{kind}")
    shutil.rmtree(directory, ignore_errors=True)
    zoo.save(
        model, directory,
        metrics={"test_exact_match": facts["greedy"], "test_exact_match_beam4": facts["beam"]},
        command="python -m bench translation", data=facts["data"],
        recipe=f"translation-dates-{kind}",
    )
    return directory


def decoding_speed(quick=False):
    """Seconds to generate 64 tokens for 64 sentences, with and without the cache."""
    from zoo.translation import decoding, tokenizers
    from zoo.translation.transformer import TransformerTranslator

    keras.utils.set_random_seed(0)
    vocabulary = tokenizers.SPECIAL_TOKENS + [f"w{i}" for i in range(1000)]
    tokenizer = tokenizers.WordPieceTokenizer(vocabulary)
    length = 16 if quick else 64
    model = TransformerTranslator(
        tokenizer, tokenizer, source_length=32, target_length=length,
        num_layers=2, num_heads=4, hidden_dim=128, intermediate_dim=512,
    )
    model.build()
    source = np.random.default_rng(0).integers(4, 1000, size=(64, 32)).astype("int32")

    def search(use_cache):
        def run(source_ids):
            state, step = model.start_decoding(source_ids, use_cache=use_cache)

            def never_end(tokens, state, index):  # force all 64 steps
                logits, state, alignment = step(tokens, state, index)
                logits = logits - 1e9 * ops.one_hot(tokenizers.END_ID, logits.shape[-1])
                return logits, state, alignment

            return decoding.greedy_search(never_end, state, 64, length, 32)

        return compiling.compile_function(run, model.variables)

    cached, uncached = search(True), search(False)
    same = bool(np.array_equal(ops.convert_to_numpy(cached(source)[0]),
                               ops.convert_to_numpy(uncached(source)[0])))
    times = _timing.interleaved({"cache": lambda: cached(source)[0].numpy(),
                                 "no cache": lambda: uncached(source)[0].numpy()}, rounds=3, warmup=1)
    return length, _timing.median(times["cache"]), _timing.median(times["no cache"]), same


def run(quick=False):
    from zoo.translation import heatmaps, training
    from zoo.translation.data import load_dates

    minutes = 0.2 if quick else DATES_MINUTES
    rows, models = [], {}
    for kind in ("transformer", "rnn"):
        model, facts = train_dates(kind, minutes, quick=quick)
        test = load_dates(seed=0, **(dict(train_size=200, validation_size=50, test_size=50) if quick else {})).test
        facts["beam"] = training.exact_match(model, test, method="beam", beam_size=4)
        facts["example"] = model.translate([EXAMPLE])[0]
        if not quick:
            ship(model, kind, facts)
        models[kind] = model
        rows.append([
            f"{type(model).__name__}", f"{facts['params']:,}", f"{facts['minutes']:.1f}",
            facts["steps"], f"{100 * facts['greedy']:.2f} %", f"{100 * facts['beam']:.2f} %",
            f"`{facts['example']}`",
        ])
    image = os.path.join(ROOT, "docs", "images", "dates_alignment.png")
    if not quick:
        heatmaps.save_alignment(models["rnn"], EXAMPLE, image)

    length, with_cache, without_cache, same = decoding_speed(quick=quick)
    return "\n".join([
        "## Translation: dates -> ISO 8601",
        "",
        f"Data: `zoo.translation.load_dates(seed=0)`, 40,000 train / 2,000 validation / "
        f"2,000 test pairs (25 formats; test sources never seen in training). Each model "
        f"trains with its recipe (batch 128, Adam, early stopping on validation loss) for "
        f"at most {minutes:g} wall-clock minutes. Goal: >= 99.5 % exact match.",
        "",
        common.table(
            ["model", "params", "train min", "steps", "test exact match (greedy)",
             "test exact match (beam 4)", f'"{EXAMPLE}" ->'],
            rows,
        ),
        "",
        "The models are shipped as the presets `dates-transformer` and `dates-rnn`; "
        "the RNN's alignment for the example is `docs/images/dates_alignment.png`.",
        "",
        "### Decoding with vs without the key/value cache",
        "",
        f"Transformer (2 + 2 blocks, d=128), 64 sentences, greedy, {length} output tokens "
        "forced, one compiled loop each (median of 3 runs):",
        "",
        common.table(
            ["decoder", "seconds", "speed-up"],
            [["self-attention cache, encoder run once", f"{with_cache:.2f}", f"{without_cache / with_cache:.1f}x"],
             ["no cache: decoder re-run on the whole (fixed-size, causally masked) buffer every step", f"{without_cache:.2f}", "1x"]],
        ),
        "",
        f"Identical tokens from both: {same}.",
    ])
