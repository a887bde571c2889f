"""ViT from scratch on CIFAR-10 with a 15-minute CPU budget.

    python -m bench vit_cifar10

CIFAR-10 shuffled: the official python batches, or under `KATTN_DATA` the
mirror's JPEG copy (quality 75; the committed figures used it). The published
figure (keras.io ViT, 78 % after 100 epochs) took a GPU; here the budget
buys a few epochs (see `bench/vit.py`).
"""

from bench import vit


def run(quick=False):
    result, seconds, epochs, minutes = vit.train_recipe("vit-cifar10", minutes=15, quick=quick)
    return vit.section(
        "ViT from scratch: CIFAR-10 (10,000 test images), 15-minute budget",
        "vit-cifar10", result, seconds, epochs, minutes,
        "78 % after 100 epochs on a GPU (keras.io, published)",
    )
