"""Vision Transformer from scratch on CPU, part 1: digits (and the shipped preset).

    python -m bench vit                 # digits; writes zoo/presets/vit-tiny-digits
    python -m bench vit_fashion_mnist   # Fashion-MNIST, 25-minute budget
    python -m bench vit_cifar10         # CIFAR-10, 15-minute budget
    python -m bench vit --quick         # tiny models, to check the script runs

Each benchmark trains a dataset with its zoo recipe through
`zoo.training.train`, the code behind `python -m zoo train`, and scores it
on the test split the recipe never trains on. The three are separate
modules so that they can run side by side and each writes its own section.
Peer figures (a keras.io-style ViT on this machine kind, idle) are quoted
from ../shared/ANCHORS.md, not re-measured here.
"""

import os
import tempfile
import time

from bench import common

PRESET_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          "zoo", "presets", "vit-tiny-digits")

NOTE = (
    "float32; the encoder blocks XLA-compiled (`kattn.config.set_block_compilation`), "
    "augmentation in the tf.data pipeline (the recipe's `augment` setting), prefetch. Wall time includes compilation and "
    "the test evaluation. The load average in the header says whether the 2 cores were shared "
    "(about 1 or less: idle, as for the peer figures). The ViT-B/16 bf16 GPU throughput "
    "comparison with keras_hub needs a GPU and is not part of this benchmark."
)


def train_recipe(recipe, minutes=None, quick=False, output=None):
    """Train `recipe` with `zoo.training.train`; (result, seconds, epochs, minutes)."""
    from zoo import recipes
    from zoo import training

    if minutes and quick:
        minutes = 0.5
    options = recipes.Options(quick=quick, extra={"minutes": minutes} if minutes else {})
    command = "python -m bench " + recipe.replace("vit-", "vit_").replace("vit_digits", "vit")
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


def run(quick=False):
    output = tempfile.mkdtemp() if quick else PRESET_DIR
    result, seconds, epochs, minutes = train_recipe("vit-digits", quick=quick, output=output)
    return section(
        "ViT from scratch: scikit-learn digits (360 test images)", "vit-digits", result,
        seconds, epochs, minutes, "98.3 % (136k params, 134 epochs, 2.5 min)",
        "Test split: 80/20 stratified, seed 0. \"Averaged over shifts\": the same model's "
        "probabilities averaged over the 9 copies of each test image moved by up to one pixel "
        "(`zoo.vit.augment.predict_with_shifts(model, images, max_shift=1)`); the peer's figure "
        "is single-view. This run writes the shipped preset `zoo/presets/vit-tiny-digits`.",
    )
