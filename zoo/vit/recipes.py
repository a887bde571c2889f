"""Recipes `vit-digits`, `vit-fashion-mnist`, `vit-cifar10` for `python -m zoo train`.

    python -m zoo train vit-digits --output zoo/presets/vit-tiny-digits   # 600 epochs x 22 steps, ~12 min on 2 CPU cores
    python -m zoo train vit-fashion-mnist          # 50 epochs, about 45 min on 2 CPU cores
    python -m zoo train vit-cifar10

Each trains a small ViT from scratch on CPU-friendly settings (table
`SETTINGS`): AdamW with warmup and cosine decay, label smoothing, the
augmentation that suits the images. Test accuracy is measured on the
dataset's test split, which is never used during training; where a row
has `test_time` settings (digits), `shift_averaged_accuracy` scores the
probabilities averaged over shifted copies of each test image
(`augment.predict_with_shifts`) beside the single-view `accuracy`. With
`Options(extra={"minutes": 25})` (the benchmark's setting) the cosine decay
follows wall-clock time and training stops when the budget is spent.

Example, one quick epoch:

>>> from zoo import recipes
>>> import zoo.vit.recipes
>>> run = recipes.get("vit-digits").build(recipes.Options(quick=True))
>>> run.model.image_size
(8, 8)
"""

import numpy as np

from zoo import recipes
from zoo.vit import augment
from zoo.vit import data
from zoo.vit import training
from zoo.vit.model import ViT

# One row per dataset: model size, optimisation and augmentation.
SETTINGS = {
    "digits": dict(
        patch_size=2, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, dropout=0.0,
        batch_size=64, epochs=600, learning_rate=2e-3, weight_decay=0.05, warmup_epochs=5,
        augment=dict(max_shift=1), test_time=dict(max_shift=1), pixel_range=(0, 16),
        description="scikit-learn digits 8x8 (pixels 0..16), 80/20 stratified split (seed 0): 1,437 train / 360 test",
    ),
    "fashion-mnist": dict(
        patch_size=4, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, dropout=0.0,
        batch_size=128, epochs=50, learning_rate=2e-3, weight_decay=0.05, warmup_epochs=0.3,
        augment=dict(max_shift=2, flip=True), test_time=None, pixel_range=(0, 255),
        description="Fashion-MNIST 28x28 (keras.datasets' files or the KATTN_DATA mirror): 60,000 train / 10,000 test",
    ),
    "cifar10": dict(
        patch_size=4, num_layers=4, num_heads=4, hidden_dim=64, mlp_dim=128, dropout=0.0,
        batch_size=128, epochs=30, learning_rate=2e-3, weight_decay=0.05, warmup_epochs=0.3,
        augment=dict(flip=True), test_time=None, pixel_range=(0, 255),
        description="CIFAR-10 32x32 (cifar-10-python.tar.gz, or the KATTN_DATA mirror's JPEG q75 copy; shuffled seed 0): 50,000 train / 10,000 test",
    ),
}

QUICK = dict(num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32, batch_size=32,
             epochs=1, warmup_epochs=1, train=256, test=64)


def vit_evaluation(dataset, options, test=None):
    """`evaluate(model, limit=None)`: accuracy on the first `limit` test images
    (and averaged over shifted copies where `SETTINGS` asks for it).

    `test` is `(x_test, y_test)`; default the dataset's test split, without
    building a model or a training pipeline (`python -m zoo evaluate`).
    """
    settings = SETTINGS[dataset]
    if test is None:
        _, test, _ = data.load(dataset, options.data)
        if options.quick:
            test = tuple(array[: QUICK["test"]] for array in test)
    x_test, y_test = test

    def evaluate(trained, limit=None):
        images, labels = x_test[:limit], y_test[:limit]
        probabilities = trained.predict(images, batch_size=256, verbose=0)
        metrics = {"accuracy": float(np.mean(np.argmax(probabilities, axis=-1) == labels))}
        if settings["test_time"]:
            averaged = augment.predict_with_shifts(trained, images, **settings["test_time"])
            metrics["shift_averaged_accuracy"] = float(np.mean(np.argmax(averaged, axis=-1) == labels))
        return metrics

    return evaluate


def build_run(dataset, options):
    """A `recipes.Run` training a ViT on `dataset` (a key of `SETTINGS`)."""
    settings = dict(SETTINGS[dataset])
    if options.quick:
        settings.update(QUICK)
    (x_train, y_train), (x_test, y_test), class_names = data.load(dataset, options.data)
    if options.quick:
        x_train, y_train = x_train[: settings["train"]], y_train[: settings["train"]]
        x_test, y_test = x_test[: settings["test"]], y_test[: settings["test"]]
    num_classes = len(class_names)
    pixels = x_train.reshape(-1, x_train.shape[-1]).astype("float64")  # (N*H*W, C)

    model = ViT(
        image_size=x_train.shape[1:3],
        patch_size=settings["patch_size"],
        num_layers=settings["num_layers"],
        num_heads=settings["num_heads"],
        hidden_dim=settings["hidden_dim"],
        mlp_dim=settings["mlp_dim"],
        num_classes=num_classes,
        dropout=settings["dropout"],
        channels=x_train.shape[-1],
        pixel_mean=pixels.mean(axis=0).tolist(),
        pixel_std=pixels.std(axis=0).tolist(),
        class_names=class_names,
        pixel_range=settings["pixel_range"],
    )
    training.compile_classifier(
        model, learning_rate=settings["learning_rate"], weight_decay=settings["weight_decay"]
    )

    batch_size = options.batch_size or settings["batch_size"]
    augmenter = augment.image_augmenter(x_train.shape[1], seed=options.seed, **settings["augment"])
    train = data.make_dataset(
        x_train, y_train, batch_size, num_classes=num_classes, shuffle=True,
        augment=augmenter, seed=options.seed,
    )
    steps_per_epoch = len(x_train) // batch_size  # the short last batch is dropped
    warmup_steps = max(1, int(settings["warmup_epochs"] * steps_per_epoch))
    minutes = options.extra.get("minutes")
    if minutes:
        epochs = options.epochs or 100_000  # the time budget stops training
        schedule = training.WarmupCosine(
            settings["learning_rate"], warmup_steps, seconds=60.0 * minutes
        )
    else:
        epochs = options.epochs or settings["epochs"]
        schedule = training.WarmupCosine(
            settings["learning_rate"], warmup_steps, total_steps=epochs * steps_per_epoch
        )

    return recipes.Run(
        model=model,
        train=train,
        validation=None,  # the test split is only for the final evaluation
        evaluate=vit_evaluation(dataset, options, (x_test, y_test)),
        epochs=epochs,
        patience=None,
        callbacks=[schedule],
        data=settings["description"],
        minutes=minutes,
    )


@recipes.register(
    "vit-digits",
    description="ViT (patch 2, 4 x 64) on the scikit-learn 8x8 digits",
    preset="vit-tiny-digits",
    evaluation=lambda options: vit_evaluation("digits", options),
)
def vit_digits(options):
    return build_run("digits", options)


@recipes.register(
    "vit-fashion-mnist",
    description="ViT (patch 4, 4 x 64) on Fashion-MNIST 28x28",
    preset="vit-fashion-mnist",
    evaluation=lambda options: vit_evaluation("fashion-mnist", options),
)
def vit_fashion_mnist(options):
    return build_run("fashion-mnist", options)


@recipes.register(
    "vit-cifar10",
    description="ViT (patch 4, 4 x 64) on CIFAR-10 32x32 from scratch",
    preset="vit-cifar10",
    evaluation=lambda options: vit_evaluation("cifar10", options),
)
def vit_cifar10(options):
    return build_run("cifar10", options)
