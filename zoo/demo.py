"""`python -m zoo demo`: train a small translator with attention, in about two minutes.

The model (`zoo.translation.RNNAttentionTranslator`: a bidirectional GRU
encoder and a GRU decoder with Bahdanau's additive attention) learns to
rewrite human-written dates ("Thursday, March 3rd, 1979", "05/03/79",
"the 1st of June, 1950", ...) as ISO 8601. It trains for a fixed wall-clock
budget, prints its translations of a few test dates, and saves the
attention alignment of one of them as a heatmap PNG: each output character
looks at the part of the input that decides it.

    python -m zoo demo
"""

import os
import time

import keras

from zoo import recipes
from zoo.translation import data, heatmaps, training
from zoo.translation import recipes as translation_recipes

TRAIN_MINUTES = 1.5
MIN_STEPS = 300  # about one epoch, even on a busy machine
EXAMPLES = ["Thursday, March 3rd, 1979", "05/03/79", "the 1st of June, 1950", "2042 Mar 17",
            "17.3.42", "Dec 25, 1999"]
IMAGE = os.path.join("runs", "demo", "dates_alignment.png")


def main():
    """Train for TRAIN_MINUTES, print translations, save an alignment heatmap."""
    started = time.time()
    keras.utils.set_random_seed(0)
    run = translation_recipes.build_dates("rnn", recipes.Options(seed=0))
    model = run.model
    print(f"Task: human-written dates -> ISO 8601. Data: {run.data}.")
    print(f"Model: RNNAttentionTranslator, {model.count_params():,} parameters. "
          f"Training for {TRAIN_MINUTES} minutes (at least {MIN_STEPS} steps)...")
    x, y = run.train
    budget = training.TimeBudget(TRAIN_MINUTES, min_steps=MIN_STEPS)
    model.fit(x, y, batch_size=128, epochs=100, callbacks=[budget], verbose=2)
    test = data.load_dates(seed=0).test[:500]
    accuracy = training.exact_match(model, test)
    print(f"\nExact match on 500 test dates: {accuracy:.1%} "
          f"after {budget.steps} steps, {time.time() - started:.0f} s in all.\n")
    for text, translation in zip(EXAMPLES, model.translate(EXAMPLES)):
        print(f"  {text:>28}  ->  {translation}")
    os.makedirs(os.path.dirname(IMAGE), exist_ok=True)
    heatmaps.save_alignment(model, EXAMPLES[0], IMAGE)
    print(f"\nAlignment heatmap of {EXAMPLES[0]!r} saved to {os.path.abspath(IMAGE)}")
    print("Trained presets: zoo.load('dates-rnn'), zoo.load('dates-transformer').")


if __name__ == "__main__":
    main()
