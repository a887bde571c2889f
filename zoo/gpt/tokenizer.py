"""A word-level tokenizer: whitespace-separated words, one id per word."""

import numpy as np

EOS = "<eos>"
UNK = "<unk>"


class WordTokenizer:
    """Maps words to ids and back, as PyTorch's `word_language_model` does.

    Text is split on whitespace; every line ends with `<eos>`; a word not in
    the vocabulary becomes `<unk>` (WikiText's own unknown-word token).

    Args:
        vocabulary: the list of words; a word's id is its index. Must hold
            `<eos>` and `<unk>`.

    >>> from zoo.gpt import WordTokenizer
    >>> tokenizer = WordTokenizer.from_texts(["the cat sat", "the dog"])
    >>> tokenizer.encode("the cat ran").tolist()
    [2, 3, 1]
    >>> tokenizer.decode([2, 4, 0])
    'the sat <eos>'
    """

    def __init__(self, vocabulary):
        vocabulary = list(vocabulary)
        for required in (EOS, UNK):
            if required not in vocabulary:
                raise ValueError(
                    f"`vocabulary` must contain {required!r}; received {len(vocabulary)} "
                    "words without it."
                )
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("`vocabulary` must not repeat a word.")
        self.vocabulary = vocabulary
        self._ids = {word: index for index, word in enumerate(vocabulary)}
        self.eos_id = self._ids[EOS]
        self.unk_id = self._ids[UNK]

    @classmethod
    def from_texts(cls, lines):
        """A vocabulary of `<eos>`, `<unk>`, then every word in order of first use."""
        vocabulary = {EOS: None, UNK: None}
        for line in lines:
            vocabulary.update(dict.fromkeys(line.split()))
        return cls(vocabulary)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def encode(self, text, add_eos=False):
        """The ids of the words of `text`, `(n,)` int32 (`<eos>` appended if asked)."""
        words = text.split() + ([EOS] if add_eos else [])
        return np.array([self._ids.get(word, self.unk_id) for word in words], "int32")

    def decode(self, ids):
        """The words of `ids`, joined by spaces."""
        return " ".join(self.vocabulary[int(i)] for i in ids)

    def get_config(self):
        return {"vocabulary": self.vocabulary}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
