"""ViT from scratch on Fashion-MNIST with the peer's 25-minute CPU budget.

    python -m bench vit_fashion_mnist

The recipe `vit-fashion-mnist` decays its learning rate with wall-clock time
and stops when 25 minutes are spent (see `bench/vit.py`).
"""

from bench import vit


def run(quick=False):
    result, seconds, epochs, minutes = vit.train_recipe("vit-fashion-mnist", minutes=25, quick=quick)
    return vit.section(
        "ViT from scratch: Fashion-MNIST (10,000 test images), 25-minute budget",
        "vit-fashion-mnist", result, seconds, epochs, minutes,
        "86.9 % after 25 min (206k params, 14.3 epochs, ~577 train images/s)",
    )
