"""Vision Transformer from scratch on CPU.

    python -m bench vit                                   # digits; writes zoo/presets/vit-tiny-digits
    python -m bench vit --variant fashion_mnist           # Fashion-MNIST, the peer's 25-minute budget
    python -m bench vit --variant fashion_mnist_full      # Fashion-MNIST, the recipe's epochs (~45 min)
    python -m bench vit --variant cifar10                 # CIFAR-10, 15-minute budget
    python -m bench vit --variant cifar10_full            # CIFAR-10, the recipe's epochs (~30 min)
    python -m bench vit --quick                           # tiny models, to check the script runs

Each run trains a dataset with its zoo recipe through `zoo.training.train`,
the code behind `python -m zoo train`, and scores it on the test split the
recipe never trains on. A time budget decays the learning rate with the
wall clock and stops when it is spent; the full recipe decays over its own
epochs, so its accuracy does not depend on the machine's load (the wall
time does: see the header's load average). Each variant writes its own
section, so they can run side by side. Peer figures (a keras.io-style ViT on
this machine kind, idle) are quoted from ../shared/ANCHORS.md, not
re-measured here.
"""

import os
import tempfile
import time

from bench import common

PRESET_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "zoo", "presets", "vit-tiny-digits")

NOTE = (
    "float32; the whole training step XLA-compiled (`zoo.vit.training.compile_classifier`), "
    "augmentation in the tf.data pipeline (the recipe's `augment` setting), prefetch. Wall time includes compilation and "
    "the test evaluation. The load average in the header says whether the 2 cores were shared "
    "(about 1 or less: idle, as for the peer figures). The ViT-B/16 bf16 GPU throughput "
    "comparison with keras_hub needs a GPU and is not part of this benchmark."
)


def train_recipe(recipe, command, minutes=None, quick=False, output=None):
    """Train `recipe` with `zoo.training.train`; (result, seconds, epochs, minutes)."""
    from zoo import recipes
    from zoo import training

    if minutes and quick:
        minutes = 0.5
    options = recipes.Options(quick=quick, extra={"minutes": minutes} if minutes else {})
    started = time.perf_counter()
    result = training.train(
        recipe, options, output=output or tempfile.mkdtemp(), workdir=tempfile.mkdtemp(),
        command=command, verbose=2,
    )
    return result, time.perf_counter() - started, len(result.history.epoch), minutes


def section(title, recipe, result, seconds, epochs, minutes, peer, extra_note=""):
    """The Markdown section for one trained recipe."""
    model = result.model
    row = [
        f"`{recipe}`", f"{model.count_params():,}",
        f"patch {model.patch_size}, {model.num_layers} blocks x {model.hidden_dim}",
        f"{minutes} min" if minutes else "recipe's epochs", epochs, f"{seconds / 60:.1f} min",
        f"**{100 * result.metrics['accuracy']:.1f} %**",
    ]
    header = ["recipe", "params", "model", "budget", "epochs", "wall time", "test accuracy"]
    averaged = result.metrics.get("shift_averaged_accuracy")
    if averaged is not None:  # the recipe's test-time shifts (`augment.predict_with_shifts`)
        row.append(f"**{100 * averaged:.1f} %**")
        header.append("test accuracy, averaged over shifts")
    table = common.table(header + ["peer (ANCHORS.md, idle machine)"], [row + [peer]])
    return f"## {title}\n\n{table}\n\n{NOTE} {extra_note}\n"


DATASETS = {  # dataset: (recipe, test split, peer figure)
    "digits": ("vit-digits", "scikit-learn digits (360 test images)", "98.3 % (136k params, 134 epochs, 2.5 min)"),
    "fashion_mnist": ("vit-fashion-mnist", "Fashion-MNIST (10,000 test images)",
                      "86.9 % after 25 min (206k params, 14.3 epochs, ~577 train images/s)"),
    "cifar10": ("vit-cifar10", "CIFAR-10 (10,000 test images)", "78 % after 100 epochs on a GPU (keras.io, published)"),
}
VARIANTS = {
    "fashion_mnist": dict(dataset="fashion_mnist", minutes=25),
    "fashion_mnist_full": dict(dataset="fashion_mnist"),
    "cifar10": dict(dataset="cifar10", minutes=15),
    "cifar10_full": dict(dataset="cifar10"),
}
DIGITS_NOTE = (
    "Test split: 80/20 stratified, seed 0. \"Averaged over shifts\": the same model's "
    "probabilities averaged over the 9 copies of each test image moved by up to one pixel "
    "(`zoo.vit.augment.predict_with_shifts(model, images, max_shift=1)`); the peer's figure "
    "is single-view. This run writes the shipped preset `zoo/presets/vit-tiny-digits`."
)


def run(quick=False, dataset="digits", minutes=None):
    recipe, test_split, peer = DATASETS[dataset]
    budget = f"{minutes:g}-minute budget" if minutes else "full recipe"
    writes_preset = dataset == "digits" and not quick  # the preset's metadata names the command
    result, seconds, epochs, minutes = train_recipe(
        recipe, "python -m bench vit" + ("" if dataset == "digits" else f" ({recipe}, {budget})"),
        minutes=minutes, quick=quick, output=PRESET_DIR if writes_preset else None,
    )
    return section(
        f"ViT from scratch: {test_split}" + ("" if dataset == "digits" else f", {budget}"),
        recipe, result, seconds, epochs, minutes, peer, DIGITS_NOTE if dataset == "digits" else "",
    )
