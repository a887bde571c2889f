"""`python -m zoo demo`: train a small translator with attention, in about two minutes.

The model (`zoo.translation.RNNAttentionTranslator`: a bidirectional GRU
encoder and a GRU decoder with Bahdanau's additive attention) learns to
rewrite human-written dates ("Thursday, March 3rd, 1979", "05/03/79",
"the 1st of June, 1950", ...) as ISO 8601. It trains for a fixed wall-clock
budget, prints its translations of a few test dates, and saves the
attention alignment of one of them as a heatmap PNG: each output character
looks at the part of the input that decides it.

    python -m zoo demo
    python -m zoo demo --quick     # 6 seconds of training: the same steps, to check that all runs
"""

import os
import time

import keras

from zoo import recipes
from zoo.translation import data, heatmaps, training
from zoo.translation import recipes as translation_recipes

TRAIN_MINUTES = 1.5
MIN_STEPS = 300  # about one epoch, even on a busy machine
QUICK_MINUTES = 0.1
QUICK_MIN_STEPS = 20
BATCH_SIZE = 128
EXAMPLES = ["Thursday, March 3rd, 1979", "05/03/79", "the 1st of June, 1950", "2042 Mar 17",
            "17.3.42", "Dec 25, 1999"]
IMAGE = os.path.join("runs", "demo", "dates_alignment.png")


def main(quick=False):
    """Train for TRAIN_MINUTES (QUICK_MINUTES), print translations, save an alignment heatmap."""
    started = time.time()
    minutes, min_steps = (QUICK_MINUTES, QUICK_MIN_STEPS) if quick else (TRAIN_MINUTES, MIN_STEPS)
    keras.utils.set_random_seed(0)
    run = translation_recipes.build_dates("rnn", recipes.Options(seed=0))
    model = run.model
    x, y = run.train
    steps_per_epoch = -(-len(y) // BATCH_SIZE)
    print(f"Task: human-written dates -> ISO 8601. Data: {run.data}.")
    print(f"Model: RNNAttentionTranslator, {model.count_params():,} parameters. "
          f"Training for {minutes * 60:.0f} seconds of wall-clock time (at least {min_steps} steps "
          f"of {BATCH_SIZE} dates; one pass over the data is {steps_per_epoch} steps)...")
    budget = training.TimeBudget(minutes, min_steps=min_steps, report_seconds=15)
    # The budget stops training; the epoch count is only an upper bound, so
    # Keras' "Epoch 1/N" lines are left out (verbose=0) and the budget reports.
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=1000, callbacks=[budget], verbose=0)
    test_size = 100 if quick else 500
    test = data.load_dates(seed=0).test[:test_size]
    accuracy = training.exact_match(model, test)
    print(f"\nExact match on {test_size} test dates: {accuracy:.1%} after {budget.steps} steps "
          f"({budget.steps / steps_per_epoch:.1f} passes over the data), {time.time() - started:.0f} s in all.\n")
    if quick:
        print("(--quick trains too briefly to learn dates: it checks that every step runs.)\n")
    for text, translation in zip(EXAMPLES, model.translate(EXAMPLES)):
        print(f"  {text:>28}  ->  {translation}")
    os.makedirs(os.path.dirname(IMAGE), exist_ok=True)
    heatmaps.save_alignment(model, EXAMPLES[0], IMAGE)
    print(f"\nAlignment heatmap of {EXAMPLES[0]!r} saved to {os.path.abspath(IMAGE)}")
    print("Trained presets: zoo.load('dates-rnn'), zoo.load('dates-transformer').")


if __name__ == "__main__":
    main()
