"""TweetTokenizer: tweet normalisation + a WordPiece vocabulary learned from
the training tweets, giving padded token ids for the model.

It runs on every backend without TensorFlow: the pieces come from
`zoo.wordpiece.WordPiece` (keras_hub's splitting rules in the Rust
`tokenizers` package, the same ids as keras_hub's `WordPieceTokenizer`, faster:
`python -m bench tokenizers`).

The vocabulary is the tokenizer's only learned state. It travels with a saved
model as the asset file `vocabulary.txt` (one token per line, id = line
number), written by `save_assets` and read by `load_assets`.

Example:

>>> from zoo.tweets.tokenizer import TweetTokenizer
>>> tokenizer = TweetTokenizer.train(
...     ["I love it @bob", "I hate it http://x.co"] * 20, vocabulary_size=100,
...     sequence_length=8)
>>> tokenizer(["I love it @alice"]).shape
(1, 8)
>>> tokenizer.tokens(["I love it @alice"])
[['i', 'love', 'it', '@user']]
"""

import collections
import os
import re

import numpy as np

from zoo import wordpiece
from zoo.tweets.data import URL_TOKEN, USER_TOKEN, normalize_tweet

PAD_TOKEN = "[PAD]"  # id 0: the model's mask is `token_ids != 0`
UNKNOWN_TOKEN = "[UNK]"
RESERVED_TOKENS = [PAD_TOKEN, UNKNOWN_TOKEN, USER_TOKEN, URL_TOKEN]
VOCABULARY_FILE = "vocabulary.txt"

# Words as WordPiece splits them: placeholders whole, runs of letters and
# digits, and every other character on its own.
_WORDS = re.compile(re.escape(USER_TOKEN) + "|" + re.escape(URL_TOKEN) + r"|\w+|[^\w\s]")


class TweetTokenizer:
    """Raw tweets -> normalised text -> WordPiece ids, padded to `sequence_length`.

    Args:
        vocabulary: a list of tokens (index = id) starting with `[PAD]`, or
            None until `load_assets` reads it.
        sequence_length: ids per tweet; longer tweets are cut, shorter ones
            padded with 0.
    """

    def __init__(self, vocabulary=None, sequence_length=64):
        self.sequence_length = int(sequence_length)
        self._wordpiece = None
        self.vocabulary = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    @classmethod
    def train(cls, texts, vocabulary_size=8000, sequence_length=64, min_count=2):
        """Learn a WordPiece vocabulary of at most `vocabulary_size` tokens.

        The normalised tweets are split into words (and punctuation marks);
        words seen fewer than `min_count` times are left out, which halves
        the learner's work on tweets (most rare words are typos and names,
        still covered by the sub-word pieces learned from the others). The
        learner is `zoo.wordpiece.learn_vocabulary` (on TensorFlow keras_hub's
        `compute_word_piece_vocabulary`, which stops at a word count threshold:
        on the SemEval pool 7.6k tokens whatever the size asked), so the rest
        of `vocabulary_size` is filled with the most frequent whole words it
        left out. A corpus with fewer distinct words gives fewer tokens than
        asked.
        """
        counts = collections.Counter()
        for text in texts:
            counts.update(_WORDS.findall(normalize_tweet(text)))
        words = [word for word, count in counts.items() if count >= min_count for _ in range(count)]
        if not words:
            raise ValueError(
                f"`texts` must contain words seen at least min_count={min_count} times; "
                f"received {len(texts)} texts with none."
            )
        vocabulary = wordpiece.learn_vocabulary(
            words, vocabulary_size, RESERVED_TOKENS, split=False  # already split into words above
        )
        known = set(vocabulary)
        frequent_words = [word for word, count in counts.most_common()
                          if count >= min_count and word not in known]
        vocabulary += frequent_words[: max(0, vocabulary_size - len(vocabulary))]
        return cls(vocabulary, sequence_length=sequence_length)

    def set_vocabulary(self, vocabulary):
        vocabulary = list(vocabulary)
        if vocabulary[: len(RESERVED_TOKENS)] != RESERVED_TOKENS:
            raise ValueError(
                f"`vocabulary` must start with {RESERVED_TOKENS}; received "
                f"{vocabulary[: len(RESERVED_TOKENS)]}."
            )
        self.vocabulary = vocabulary
        self._wordpiece = wordpiece.WordPiece(
            vocabulary, UNKNOWN_TOKEN, special_tokens=[USER_TOKEN, URL_TOKEN]  # kept whole
        )

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def _check_ready(self):
        if self._wordpiece is None:
            raise ValueError(
                "TweetTokenizer has no vocabulary: create it with "
                "TweetTokenizer.train(texts) or call load_assets(directory)."
            )

    def _token_id_lists(self, texts, cut=True):
        self._check_ready()
        if isinstance(texts, str):
            raise ValueError(
                "`texts` must be a list of strings; received a single string "
                f"{texts[:40]!r} (wrap it in a list)."
            )
        normalised = [normalize_tweet(str(text)) for text in texts]
        if not normalised:
            return []
        return [list(ids)[: self.sequence_length] if cut else list(ids) for ids in self._wordpiece.ids(normalised)]

    def __call__(self, texts):
        """Token ids `(len(texts), sequence_length)` int32, 0 = padding."""
        id_lists = self._token_id_lists(texts)
        token_ids = np.zeros((len(id_lists), self.sequence_length), "int32")
        for row, ids in enumerate(id_lists):
            token_ids[row, : len(ids)] = ids
        return token_ids

    def tokens(self, texts, cut=True):
        """The WordPiece tokens of each tweet (no padding), as strings.

        `cut=False`: all of them, also past `sequence_length`.
        """
        return [[self.vocabulary[i] for i in ids] for ids in self._token_id_lists(texts, cut)]

    def save_assets(self, directory):
        with open(os.path.join(directory, VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.write("".join(token + "\n" for token in self.vocabulary))

    def load_assets(self, directory):
        path = os.path.join(directory, VOCABULARY_FILE)
        if not os.path.exists(path):
            raise FileNotFoundError(f"tokenizer vocabulary not found: {path}")
        with open(path, encoding="utf-8") as f:
            self.set_vocabulary(f.read().splitlines())

    def get_config(self):
        """Settings only; the vocabulary is an asset (`save_assets`)."""
        return {"sequence_length": self.sequence_length}
