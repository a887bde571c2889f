"""Which patches the class token looks at: attention rollout maps of a ViT.

    python -m zoo.vit.attention_map                 # the shipped digits preset
    python -m zoo.vit.attention_map --output docs/images/vit_attention.png

The class token's row of the rollout (`kattn.viz.attention_rollout`, Abnar &
Zuidema 2020) says how much the final class token draws on each input patch
through every layer; laid out on the patch grid and upsampled to the image it
is a relevance map.

Example:

>>> import numpy as np
>>> from zoo.vit import ViT
>>> from zoo.vit.attention_map import class_token_relevance
>>> model = ViT(8, 2, 2, 2, 16, 32, num_classes=10, channels=1)
>>> class_token_relevance(model, np.zeros((3, 8, 8, 1))).shape   # (B, rows, cols)
(3, 4, 4)
"""

import argparse

import numpy as np

from kattn import viz


def class_token_relevance(model, images):
    """`(B, rows, cols)` rollout relevance of each patch for the class token.

    Each map sums to the class token's share that comes from the patches
    (the rest stays on the class token itself).
    """
    scores = model.features(images, return_attention_scores=True)["attention_scores"]
    rollout = viz.attention_rollout(scores)  # (B, 1 + N, 1 + N)
    rows, cols = model.grid_size
    return rollout[:, 0, 1:].reshape(-1, rows, cols)  # (B, rows, cols)


def save_figure(model, images, labels, path, class_names=None):
    """A 2-row figure: the images, then their class-token relevance maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    relevance = class_token_relevance(model, images)
    predicted = np.argmax(model.predict(images, verbose=0), axis=-1)
    names = class_names or model.class_names or [str(i) for i in range(model.num_classes)]
    count = len(images)
    figure, axes = plt.subplots(2, count, figsize=(1.6 * count, 3.6))
    for i in range(count):
        image = np.asarray(images[i], "float32")
        axes[0, i].imshow(image[..., 0] if image.shape[-1] == 1 else image.astype("uint8"),
                          cmap="gray_r" if image.shape[-1] == 1 else None)
        axes[0, i].set_title(f"{names[labels[i]]} -> {names[predicted[i]]}", fontsize=8)
        height, width = model.image_size
        axes[1, i].imshow(relevance[i], cmap="viridis", extent=(0, width, height, 0))
        for ax in axes[:, i]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("image", fontsize=8)
    axes[1, 0].set_ylabel("class token\nrollout", fontsize=8)
    figure.suptitle("Which patches the ViT's class token attends to (attention rollout)", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m zoo.vit.attention_map", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="vit-tiny-digits")
    parser.add_argument("--output", default="docs/images/vit_attention.png")
    parser.add_argument("--count", type=int, default=8, help="test images to show")
    args = parser.parse_args(argv)

    import zoo
    from zoo.vit import data

    model = zoo.load(args.preset)
    _, (x_test, y_test) = data.load_digits()
    first_of_each = [int(np.flatnonzero(y_test == label)[0]) for label in range(args.count)]
    print(save_figure(model, x_test[first_of_each], y_test[first_of_each], args.output))


if __name__ == "__main__":
    main()
