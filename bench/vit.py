"""Vision Transformer from scratch on CPU: digits, Fashion-MNIST, CIFAR-10.

    python -m bench vit          # ~60 min on an idle 2-core CPU
    python -m bench vit --quick  # minutes: tiny models, to check the script

Each dataset is trained with its zoo recipe through `zoo.training.train`,
the code behind `python -m zoo train`, and scored on its test split:

- digits (`vit-digits`, fixed epochs): the run that writes the shipped preset
  `zoo/presets/vit-tiny-digits`;
- Fashion-MNIST (`vit-fashion-mnist`) with a 25-minute wall-clock budget,
  the peer's budget in ../shared/ANCHORS.md (learning rate decays with time);
- CIFAR-10 (`vit-cifar10`) with a 15-minute budget.

Peer figures (keras.io-style ViT on this machine kind, idle) are quoted from
ANCHORS.md, not re-measured here.
"""

import os
import tempfile
import time

from bench import common

PRESET_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "zoo", "presets", "vit-tiny-digits")

# (recipe, budget in minutes or None for the recipe's epochs, peer figure)
RUNS = [
    ("vit-digits", None, "98.3 % (136k params, 134 epochs, 2.5 min)"),
    ("vit-fashion-mnist", 25, "86.9 % after 25 min (206k params, 14.3 epochs)"),
    ("vit-cifar10", 15, "78 % after 100 GPU epochs (keras.io, published)"),
]


def train_one(recipe, minutes, quick):
    from zoo import recipes
    from zoo import training

    if minutes and quick:
        minutes = 0.5
    extra = {"minutes": minutes} if minutes else {}
    options = recipes.Options(quick=quick, extra=extra)
    output = PRESET_DIR if recipe == "vit-digits" and not quick else tempfile.mkdtemp()
    started = time.perf_counter()
    result = training.train(
        recipe, options, output=output, workdir=tempfile.mkdtemp(),
        command=f"python -m bench vit  (recipe {recipe}" + (f", {minutes}-minute budget)" if minutes else ")"),
        verbose=2,
    )
    seconds = time.perf_counter() - started
    epochs = len(result.history.epoch)
    return result, seconds, epochs, minutes


def run(quick=False):
    rows = []
    for recipe, minutes, peer in RUNS:
        result, seconds, epochs, minutes = train_one(recipe, minutes, quick)
        model = result.model
        budget = f"{minutes} min" if minutes else "recipe epochs"
        rows.append([
            recipe, f"{model.count_params():,}", f"patch {model.patch_size}, "
            f"{model.num_layers} x {model.hidden_dim}", budget, epochs,
            f"{seconds / 60:.1f} min", f"{100 * result.metrics['accuracy']:.1f} %", peer,
        ])
        print(rows[-1], flush=True)
    table = common.table(
        ["recipe", "params", "model", "budget", "epochs", "wall time (incl. compile, eval)",
         "test accuracy", "peer (ANCHORS.md)"],
        rows,
    )
    return (
        "## Vision Transformer from scratch (CPU)\n\n"
        "Each row is `zoo.training.train(recipe)` (what `python -m zoo train RECIPE` runs), "
        "float32, XLA, scored on the test split (digits: 360 images of the 80/20 stratified "
        "split, seed 0; Fashion-MNIST and CIFAR-10: 10,000). Budgets are wall-clock and include "
        "XLA compilation. The machine was shared with other engineers' jobs during the run "
        "(see the load average above), so the budgets bought fewer epochs than on an idle "
        "machine; the peer figures were measured on an idle one. No GPU was available.\n\n"
        + table + "\n"
    )
