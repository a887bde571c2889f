"""Data for the generic classifier: an embedded generated task, or a TSV file.

The embedded task, "first colour": each sentence is filler words with two
different colour words somewhere in it; the label is the colour that comes
first. Knowing *which* colours occur is not enough (a bag of words gets 50 %),
the model must find them and compare their positions, which is what
attention with position information can do.

>>> from zoo.classifier import data
>>> texts, labels = data.first_colour_task(2, seed=1)
>>> len(texts), labels.shape
(2, (2,))
"""

import collections

import numpy as np

from zoo import data_paths

FILLER_WORDS = (
    "the", "a", "cat", "dog", "saw", "ran", "big", "small", "then", "and",
    "sat", "on", "old", "house", "car", "near",
)
COLOURS = ("red", "green", "blue", "yellow")


def first_colour_task(num_examples, length=12, seed=0):
    """Generated sentences and the index (into `COLOURS`) of the first colour.

    Returns:
        `(texts, labels)`: a list of `num_examples` strings of `length` words,
        and an int32 array `(num_examples,)`.
    """
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(num_examples):
        words = [str(w) for w in rng.choice(FILLER_WORDS, size=length)]
        first, second = rng.choice(len(COLOURS), size=2, replace=False)
        early, late = sorted(rng.choice(length, size=2, replace=False))
        words[early], words[late] = COLOURS[first], COLOURS[second]
        texts.append(" ".join(words))
        labels.append(first)
    return texts, np.array(labels, dtype="int32")


def load_tsv(path):
    """Read `label<TAB>text` lines (e.g. semeval2017-4a/train.tsv).

    Returns:
        `(texts, labels, label_names)`: labels are int32 indices into the
        sorted distinct label strings `label_names`.
    """
    path = data_paths.resolve(path)
    texts, raw_labels = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line:
                continue
            if "\t" not in line:
                raise ValueError(
                    f"{path}, line {number}: expected `label<TAB>text`; received {line[:60]!r}."
                )
            label, text = line.split("\t", 1)
            raw_labels.append(label)
            texts.append(text)
    label_names = sorted(set(raw_labels))
    index = {name: i for i, name in enumerate(label_names)}
    return texts, np.array([index[n] for n in raw_labels], dtype="int32"), label_names


def build_vocabulary(texts, max_size):
    """The `max_size` most frequent lower-cased words (ties: first seen)."""
    counts = collections.Counter(word for text in texts for word in text.lower().split())
    return [word for word, _ in counts.most_common(max_size)]
