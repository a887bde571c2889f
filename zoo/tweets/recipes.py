"""Recipes for `python -m zoo train`: the tweet-classification ladder.

    python -m zoo train tweets-sentiment-mean      # mean pooling (the baseline)
    python -m zoo train tweets-sentiment           # attention pooling (the preset)
    python -m zoo train tweets-sentiment-encoder   # 1 encoder block + attention pooling
    python -m zoo train tweets-sentiment-bert      # fine-tuned MiniLM (2 epochs: ~40 min on 2 CPU cores)
    python -m zoo train tweets-sentiment-bert-adapted   # MiniLM adapted to tweets by masked LM, then fine-tuned
    python -m zoo train tweets-emotion             # TweetEval emotion, attention pooling

Sentiment trains on SemEval-2017 4A `train.tsv` (TweetEval's train texts are
not available; this is their source pool, see `zoo.tweets.data`), selects the
epoch on TweetEval sentiment val by macro-averaged recall (the official
metric) and reports TweetEval sentiment test. The training tweets are 16 %
negative but the test tweets 32 %, so every class gets the same total weight
in the loss (`balanced_sample_weights`). `--data` replaces `train.tsv` for the
sentiment recipes and the TweetEval `datasets` folder for emotion.

The pooling rungs share every setting but the pooling (and the encoder
block): `COMMON` for the model, `FULL` for training (`settings_for` merges
them). Training batches group tweets of similar length (`LengthBuckets`), so
a batch is padded to its longest tweet, not to `sequence_length`. Settings
were chosen on TweetEval sentiment val only; `Options.extra` overrides them
(e.g. `recipes.Options(extra={"token_dropout": 0.2})`) for such a search.
"""

import functools
import warnings

import keras
import numpy as np

from zoo import recipes
from zoo.text_inputs import InputWarning
from zoo.schedules import warmup_cosine_schedule
from zoo.tweets import data
from zoo.tweets.batching import LengthBuckets
from zoo.tweets.metrics import MacroRecall
from zoo.tweets.model import AttentionPoolingClassifier
from zoo.tweets.tokenizer import TweetTokenizer

# Everything but the pooling (and the encoder) is the same on every rung.
COMMON = {"embedding_dim": 128, "dropout": 0.3, "token_dropout": 0.1, "sequence_length": 64}
VARIANTS = {
    "mean": {"pooling": "mean"},
    "attention": {"pooling": "attention"},
    "encoder": {"pooling": "attention", "num_layers": 1, "num_heads": 4,
                "intermediate_dim": 256, "position": "sinusoidal"},
}
# Training: Adam, a linear warm-up over the first `warmup_epochs` then cosine
# decay to 0 at `epochs`; early stopping on val macro recall after `patience`
# epochs without progress, keeping the best epoch's weights.
FULL = {"vocabulary_size": 8000, "epochs": 10, "patience": 2, "batch_size": 256,
        "learning_rate": 3e-3, "warmup_epochs": 0.5}
# --quick: a few hundred tweets and a tiny model, to check that a recipe runs.
QUICK = {"vocabulary_size": 400, "epochs": 1, "patience": 1, "batch_size": 32,
         "learning_rate": 2e-3, "warmup_epochs": 0.5, "train": 512, "evaluate": 128,
         "embedding_dim": 16}
# Fine-tuning MiniLM: AdamW (weight decay 0.01), a warm-up over the first 0.1
# epoch then cosine decay, batches of 32 tweets; `Options.extra["learning_rate"]`
# overrides the rate.
# `tweets-sentiment-bert-adapted` first continues MiniLM's masked-LM training
# for one pass over the adaptation tweets (`zoo.tweets.adaptation`).
MINILM = {"epochs": 2, "learning_rate": 1e-4, "warmup_epochs": 0.1, "batch_size": 32,
          "sequence_length": 128, "adapt_learning_rate": 1e-4, "adapt_sequence_length": 64}
# What `Options.extra` may override (for tuning on the validation split).
TUNABLE = ("embedding_dim", "dropout", "token_dropout", "sequence_length", "vocabulary_size",
           "epochs", "patience", "batch_size", "learning_rate", "warmup_epochs", "pooling_units")


def settings_for(variant, options):
    """The model and training settings of rung `variant`, `Options.extra` applied last.

    >>> from zoo import recipes
    >>> from zoo.tweets.recipes import settings_for
    >>> model, training = settings_for("attention", recipes.Options(extra={"dropout": 0.5}))
    >>> model["pooling"], model["dropout"], training["epochs"]
    ('attention', 0.5, 10)
    """
    if variant not in VARIANTS:
        raise ValueError(f"`variant` must be one of {tuple(VARIANTS)}; received {variant!r}.")
    unknown = sorted(set(options.extra) - set(TUNABLE))
    if unknown:
        raise ValueError(f"`Options.extra` keys must be among {TUNABLE}; received {unknown}.")
    sizes = QUICK if options.quick else FULL
    training = {key: sizes[key] for key in ("vocabulary_size", "epochs", "patience", "batch_size",
                                             "learning_rate", "warmup_epochs")}
    model = {**COMMON, **VARIANTS[variant]}
    if options.quick:
        model.update(embedding_dim=QUICK["embedding_dim"], intermediate_dim=2 * QUICK["embedding_dim"])
    for key, value in options.extra.items():
        (training if key in training else model)[key] = value
    return model, training


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


def _trimmed(token_ids):
    """Token ids cut after the longest tweet's last real token (at least 1 column)."""
    longest = max(int((token_ids != 0).sum(axis=1).max(initial=0)), 1)
    return token_ids[:, :longest]


def pooling_evaluation(task, options, splits=None):
    """`evaluate(model, limit=None)` of the pooling rungs on `task`'s test and
    val tweets (the first `limit` of each), without training a tokenizer."""
    splits = splits or load_task(task, options)
    val_texts, val_labels, _ = splits["val"]
    test_texts, test_labels, _ = splits["test"]

    def evaluate(trained, limit=None):
        # Raw strings in: the model's own tokenizer runs, as for a loaded preset.
        # Cutting long tweets is part of the model being measured: no warning.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputWarning)
            test = macro_recall_and_accuracy(
                test_labels[:limit], trained.predict(test_texts[:limit], verbose=0))
            val = macro_recall_and_accuracy(
                val_labels[:limit], trained.predict(val_texts[:limit], verbose=0))
        return {**test, "val_macro_recall": val["macro_recall"], "val_accuracy": val["accuracy"]}

    return evaluate


def pooling_run(task, variant, options):
    """A `recipes.Run` for `AttentionPoolingClassifier` rung `variant` on `task`.

    Training batches come from `LengthBuckets` (each padded to its longest
    tweet, rounded up to 8), not from a fixed-length array.
    """
    settings, sizes = settings_for(variant, options)
    splits = load_task(task, options)
    train_texts, train_labels, names = splits["train"]
    tokenizer = _tokenizer(task, options.data, options.quick, sizes["vocabulary_size"],
                           settings["sequence_length"])
    model = AttentionPoolingClassifier(
        tokenizer.vocabulary_size, len(names), label_names=names, tokenizer=tokenizer, **settings
    )
    batch_size = options.batch_size or sizes["batch_size"]
    epochs = options.epochs or sizes["epochs"]
    train = LengthBuckets(
        tokenizer(train_texts), train_labels, balanced_sample_weights(train_labels, len(names)),
        batch_size=batch_size, seed=options.seed,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(warmup_cosine_schedule(
            sizes["learning_rate"], len(train), epochs, sizes["warmup_epochs"])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", MacroRecall(len(names))],
    )
    model.build((None, settings["sequence_length"]))
    val_texts, val_labels, _ = splits["val"]

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
        validation=(_trimmed(tokenizer(val_texts)), val_labels),
        evaluate=pooling_evaluation(task, options, splits),
        epochs=epochs,
        monitor="val_macro_recall",
        patience=sizes["patience"],
        callbacks=[train.epoch_callback()],
        data=description,
        batch_size=batch_size,
    )


@recipes.register(
    "tweets-sentiment",
    description="Attention pooling over WordPiece embeddings, SemEval-2017 -> TweetEval sentiment",
    preset="tweets-sentiment",
    evaluation=lambda options: pooling_evaluation("sentiment", options),
)
def tweets_sentiment(options):
    return pooling_run("sentiment", "attention", options)


@recipes.register(
    "tweets-sentiment-mean",
    description="Baseline for tweets-sentiment: mean pooling, everything else equal",
    evaluation=lambda options: pooling_evaluation("sentiment", options),
)
def tweets_sentiment_mean(options):
    return pooling_run("sentiment", "mean", options)


@recipes.register(
    "tweets-sentiment-encoder",
    description="tweets-sentiment with positions and one transformer encoder block before the pooling",
    evaluation=lambda options: pooling_evaluation("sentiment", options),
)
def tweets_sentiment_encoder(options):
    return pooling_run("sentiment", "encoder", options)


@recipes.register(
    "tweets-emotion",
    description="Attention pooling on TweetEval emotion (anger / joy / optimism / sadness)",
    evaluation=lambda options: pooling_evaluation("emotion", options),
)
def tweets_emotion(options):
    return pooling_run("emotion", "attention", options)


@recipes.register(
    "tweets-emotion-mean",
    description="Baseline for tweets-emotion: mean pooling, everything else equal",
    evaluation=lambda options: pooling_evaluation("emotion", options),
)
def tweets_emotion_mean(options):
    return pooling_run("emotion", "mean", options)


@recipes.register(
    "tweets-sentiment-bert",
    description="Fine-tuned MiniLM (zoo.bert.BertClassifier) on the tweets-sentiment data",
)
def tweets_sentiment_bert(options):
    return minilm_run(options, adapt=False)


@recipes.register(
    "tweets-sentiment-bert-adapted",
    description="tweets-sentiment-bert after masked-LM adaptation of MiniLM to 74,501 tweets",
)
def tweets_sentiment_bert_adapted(options):
    return minilm_run(options, adapt=True)


def minilm_run(options, adapt):
    """A `recipes.Run` fine-tuning MiniLM; with `adapt`, after `adapt_to_tweets`.

    The adaptation runs here, before the training loop's `fit` (the
    fine-tuning); it is not checkpointed, so `--resume` runs it again.
    """
    from zoo.bert import BertClassifier
    from zoo.bert.batching import LengthBuckets as BertLengthBuckets
    from zoo.bert.batching import predict_by_length
    from zoo.bert.recipes import minilm_path  # a clear ImportError without [interop]
    from zoo.bert.tokenizer import encode_texts

    splits = load_task("sentiment", options)
    train_texts, train_labels, names = splits["train"]
    # Mean pooling: the checkpoint is a sentence-transformers model trained with it.
    classifier = BertClassifier.from_hf_checkpoint(
        minilm_path(), num_classes=len(names), label_names=names,
        sequence_length=32 if options.quick else MINILM["sequence_length"], pooling="mean",
    )
    if adapt:
        from zoo.tweets.adaptation import adapt_to_tweets, adaptation_corpus

        corpus = adaptation_corpus(train_texts, seed=options.seed)
        adapt_to_tweets(
            classifier.backbone, classifier.tokenizer,
            corpus[:64] if options.quick else corpus,
            steps=2 if options.quick else None, learning_rate=MINILM["adapt_learning_rate"],
            sequence_length=32 if options.quick else MINILM["adapt_sequence_length"],
            seed=options.seed, verbose=2,
        )
    batch_size = options.batch_size or MINILM["batch_size"]
    # Batches padded to their longest tweet (rounded up to 8), not to 128.
    train = BertLengthBuckets(
        encode_texts(classifier.tokenizer, train_texts), train_labels,
        balanced_sample_weights(train_labels, len(names)), batch_size=batch_size, seed=options.seed,
    )
    epochs = options.epochs or (1 if options.quick else MINILM["epochs"])
    learning_rate = options.extra.get("learning_rate", MINILM["learning_rate"])
    classifier.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_cosine_schedule(learning_rate, len(train), epochs, MINILM["warmup_epochs"]),
            weight_decay=0.01,
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", MacroRecall(len(names))],
    )
    val_texts, val_labels, _ = splits["val"]
    test_texts, test_labels, _ = splits["test"]
    val_inputs = encode_texts(classifier.tokenizer, val_texts)

    def evaluate(trained, limit=None):  # limit: the first tweets of test and of val
        # Forward only, in length-sorted batches of 128, every test tweet.
        test_inputs = encode_texts(trained.tokenizer, test_texts[:limit])
        test = macro_recall_and_accuracy(test_labels[:limit], predict_by_length(trained, test_inputs))
        val = macro_recall_and_accuracy(
            val_labels[:limit], predict_by_length(trained, encode_texts(trained.tokenizer, val_texts[:limit])))
        return {**test, "val_macro_recall": val["macro_recall"]}

    return recipes.Run(
        model=classifier,
        train=train,
        validation=BertLengthBuckets(val_inputs, val_labels, batch_size=batch_size),
        evaluate=evaluate,
        epochs=epochs,
        monitor="val_macro_recall",
        patience=1,
        callbacks=[train.epoch_callback()],
        data="as tweets-sentiment; MiniLM-L6 (all-MiniLM-L6-v2) checkpoint "
        + ("adapted by masked LM on 74,501 tweets, then " if adapt else "")
        + "fine-tuned, mean pooling",
        batch_size=batch_size,
    )
