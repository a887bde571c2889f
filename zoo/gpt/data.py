"""WikiText-2, word level: the text of Merity et al. (2016) as one stream of ids.

As in PyTorch's `word_language_model` example (whose figures
`../shared/ANCHORS.md` quotes): each line is split on whitespace and ends
with `<eos>`; the vocabulary is the training split's words (33,278 with
`<eos>`, which covers validation and test: WikiText already replaced rare
words by `<unk>`). Perplexities are then per word and compare with the
published ones.

>>> from zoo.gpt import data
>>> splits = data.load_wikitext2()                          # doctest: +SKIP
>>> splits.tokenizer.vocabulary_size, len(splits.train)     # doctest: +SKIP
(33278, 2088628)
"""

import dataclasses
import os

import numpy as np

from zoo import data_paths
from zoo.gpt.tokenizer import WordTokenizer

SPLITS = ("train", "valid", "test")


@dataclasses.dataclass
class WikiText:
    """Three id streams `(n,)` int32 and the tokenizer that made them."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    tokenizer: WordTokenizer


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def load_wikitext2(path=None, max_lines=None):
    """Load WikiText-2 from a folder holding `train.txt`, `valid.txt`, `test.txt`.

    Args:
        path: that folder; default the public WikiText-2 files, downloaded
            once and checked (or the `KATTN_DATA` mirror; see `zoo.data_paths`).
        max_lines: keep only the first lines of each split (quick runs).

    Returns:
        A `WikiText` with the three splits as id streams and the tokenizer.

    >>> from zoo.gpt import load_wikitext2
    >>> splits = load_wikitext2(max_lines=2)                 # the public files
    >>> splits.tokenizer.decode(splits.train)                # a blank line, then a title
    '<eos> = Valkyria Chronicles III = <eos>'
    """
    lines = {}
    for split in SPLITS:
        if path is None:
            file = data_paths.fetch("wikitext-2", f"{split}.txt")
        else:
            file = data_paths.resolve(os.path.join(os.fspath(path), f"{split}.txt"))
        lines[split] = read_lines(file)[:max_lines]
    tokenizer = WordTokenizer.from_texts(lines["train"])
    streams = {split: encode_lines(tokenizer, lines[split]) for split in SPLITS}
    return WikiText(tokenizer=tokenizer, **streams)


def encode_lines(tokenizer, lines):
    """One `(n,)` int32 stream: every line's ids followed by `<eos>`.

    >>> from zoo.gpt import WordTokenizer
    >>> from zoo.gpt.data import encode_lines
    >>> tokenizer = WordTokenizer.from_texts(["a b"])
    >>> encode_lines(tokenizer, ["a b", "b"]).tolist()
    [2, 3, 0, 3, 0]
    """
    pieces = [tokenizer.encode(line, add_eos=True) for line in lines]
    return np.concatenate(pieces) if pieces else np.zeros((0,), "int32")


def windows(stream, length, stride=None):
    """Cut a stream into `(inputs, targets)` rows of `length` tokens, targets shifted by one.

    `stride` defaults to `length` (non-overlapping windows, each token
    predicted once). The last partial window is dropped.

    >>> import numpy as np
    >>> from zoo.gpt.data import windows
    >>> x, y = windows(np.arange(7), 3)
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [3, 4, 5]], [[1, 2, 3], [4, 5, 6]])
    """
    stride = stride or length
    starts = np.arange(0, len(stream) - length, stride)
    x = np.stack([stream[s : s + length] for s in starts]).astype("int32")
    y = np.stack([stream[s + 1 : s + length + 1] for s in starts]).astype("int32")
    return x, y
