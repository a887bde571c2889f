"""ViT from scratch on CIFAR-10, the recipe's full schedule (no time budget).

    python -m bench vit_cifar10_full   # about 30 min on an idle 2-core CPU

The recipe `vit-cifar10` with its own number of epochs and a cosine decay
over them, as `python -m zoo train vit-cifar10` runs it: the second point,
after `python -m bench vit_cifar10`'s 15 minutes, of what a CPU budget buys.
The schedule follows steps, not the clock, so the accuracy does not depend on
the machine's load; the wall time does (see the header's load average).
"""

from bench import vit


def run(quick=False):
    result, seconds, epochs, minutes = vit.train_recipe("vit-cifar10", quick=quick)
    return vit.section(
        "ViT from scratch: CIFAR-10 (10,000 test images), full recipe",
        "vit-cifar10", result, seconds, epochs, minutes,
        "78 % after 100 epochs on a GPU (keras.io, published)",
    )
