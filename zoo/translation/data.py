"""Translation data: the embedded dates corpus and Tatoeba/Anki sentence pairs.

>>> from zoo.translation import data
>>> splits = data.load_dates(train_size=100, validation_size=10, test_size=10)
>>> len(splits.train), len(splits.validation), len(splits.test)
(100, 10, 10)
>>> source, target = splits.test[0]; len(target)
10
"""

import collections

import numpy as np

from zoo import data_paths
from zoo.translation import dates

Splits = collections.namedtuple("Splits", ["train", "validation", "test"])


def load_dates(seed=0, train_size=40_000, validation_size=2_000, test_size=2_000):
    """Human-written dates -> ISO 8601, as `Splits` of `(source, target)` pairs.

    Deterministic for a given `seed`. No source string appears in two splits.
    See `zoo.translation.dates` for the formats and conventions.
    """
    wanted = train_size + validation_size + test_size
    pairs, seen = [], set()
    drawn = 0
    while len(pairs) < wanted:
        batch = dates.generate_dates(wanted, seed=seed + drawn)
        drawn += 1
        for source, target in batch:
            if source not in seen:
                seen.add(source)
                pairs.append((source, target))
    pairs = pairs[:wanted]
    test = pairs[:test_size]
    validation = pairs[test_size : test_size + validation_size]
    train = pairs[test_size + validation_size :]
    return Splits(train, validation, test)


def load_anki(path=None):
    """`(english, other)` pairs from a Tatoeba/Anki file, `English<TAB>other`.

    `path` defaults to the Spanish file `spa.txt` (2018-05-13 export), from
    its public zip or the `KATTN_DATA` mirror (see `zoo.data_paths`); a URL
    of the same format is downloaded once. A third column (the Tatoeba
    attribution in newer files) is ignored. A line with fewer than two
    fields, or an empty one, is a `ValueError` naming the line.

    >>> import tempfile, os
    >>> from zoo.translation.data import load_anki
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.txt")
    >>> _ = open(path, "w").write("Hi.\\tHola.\\nRun!\\t¡Corre!\\n")
    >>> load_anki(path)
    [('Hi.', 'Hola.'), ('Run!', '¡Corre!')]
    """
    path = data_paths.resolve(path, "spa-eng")
    pairs = []
    with open(path, encoding="utf-8") as file:
        for number, line in enumerate(file, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
                raise ValueError(
                    f"{path}, line {number}: expected 'English<TAB>other' "
                    f"(two non-empty tab-separated fields); received {line!r}."
                )
            pairs.append((fields[0].strip(), fields[1].strip()))
    return pairs


def split_pairs(pairs, seed=0, validation_size=2_000, test_size=2_000):
    """Shuffle with `numpy.random.default_rng(seed)`; the last `test_size`
    pairs are the test split, the `validation_size` before them validation.

    This is the split of the project's ANCHORS (seed 0, 2,000 / 2,000).

    >>> from zoo.translation.data import split_pairs
    >>> split_pairs(list(range(10)), validation_size=2, test_size=3).test
    [0, 8, 1]
    """
    order = np.random.default_rng(seed).permutation(len(pairs))
    shuffled = [pairs[i] for i in order]
    test = shuffled[len(shuffled) - test_size :]
    validation = shuffled[len(shuffled) - test_size - validation_size : len(shuffled) - test_size]
    train = shuffled[: len(shuffled) - test_size - validation_size]
    return Splits(train, validation, test)
