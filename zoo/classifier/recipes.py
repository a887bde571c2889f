"""Recipe `classifier`: train `EncoderClassifier` on the embedded task or a TSV file.

    python -m zoo train classifier                       # "first colour", < 1 min on CPU
    python -m zoo train classifier --data labels.tsv     # your `label<TAB>text` file

`Options.extra["dropout"]` sets the encoder's dropout rate (default 0).
"""

import keras
import numpy as np

from zoo import recipes
from zoo.classifier import data
from zoo.classifier.model import EncoderClassifier

FULL = {"train": 4000, "validation": 500, "test": 1000, "embedding_dim": 32, "epochs": 12}
QUICK = {"train": 256, "validation": 64, "test": 64, "embedding_dim": 16, "epochs": 1}


@recipes.register(
    "classifier",
    description="Encoder + attention pooling text classifier; default data: the generated first-colour task",
    preset="classifier-first-colour",
)
def train_classifier(options):
    sizes = QUICK if options.quick else FULL
    if options.data:
        texts, labels, label_names = data.load_tsv(options.data)
        order = np.random.default_rng(options.seed).permutation(len(texts))
        if options.quick:
            order = order[: sizes["train"] + sizes["validation"] + sizes["test"]]
        texts, labels = [texts[i] for i in order], labels[order]
        held_out = max(1, len(texts) // 10)
        splits = {
            "test": (texts[:held_out], labels[:held_out]),
            "validation": (texts[held_out : 2 * held_out], labels[held_out : 2 * held_out]),
            "train": (texts[2 * held_out :], labels[2 * held_out :]),
        }
        vocabulary = data.build_vocabulary(splits["train"][0], max_size=5000)
        sequence_length = 48
        description = f"{options.data} (80/10/10 split, seed {options.seed})"
    else:
        splits = {
            name: data.first_colour_task(sizes[name], seed=options.seed + offset)
            for offset, name in enumerate(("train", "validation", "test"))
        }
        label_names = list(data.COLOURS)
        vocabulary = list(data.FILLER_WORDS + data.COLOURS)
        sequence_length = 12
        description = (
            f"generated first-colour task: {sizes['train']} train / "
            f"{sizes['validation']} validation / {sizes['test']} test sentences, seed {options.seed}"
        )

    model = EncoderClassifier(
        vocabulary,
        label_names,
        sequence_length=sequence_length,
        embedding_dim=sizes["embedding_dim"],
        num_layers=1,
        num_heads=2,
        intermediate_dim=2 * sizes["embedding_dim"],
        dropout=float(options.extra.get("dropout", 0.0)),
    )
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    def as_arrays(split):
        texts, labels = splits[split]
        return model.tokenize(texts), labels

    test_x, test_y = as_arrays("test")

    def evaluate(trained, limit=None):
        predicted = np.argmax(trained.predict(test_x[:limit], verbose=0), axis=-1)
        return {"accuracy": float(np.mean(predicted == test_y[:limit]))}

    return recipes.Run(
        model=model,
        train=as_arrays("train"),
        validation=as_arrays("validation"),
        evaluate=evaluate,
        epochs=sizes["epochs"],
        patience=None,
        data=description,
        batch_size=32,
    )
