"""Tokenizers for the translators: characters (dates) and WordPiece (Anki).

Both share the same special tokens at the same ids, so the models never need
to know which one they were given:

    0 "[PAD]"   1 "[UNK]"   2 "[START]"   3 "[END]"

and the same methods: `encode(texts, length, start=False, end=False)` gives a
padded int32 NumPy array; `decode(ids)` gives strings (stopping at "[END]");
`tokens(ids)` gives the token strings (labels for attention heatmaps).
Their vocabularies are plain lists kept in `get_config()`, so they travel
with a saved model.

>>> from zoo.translation.tokenizers import CharacterTokenizer
>>> tokenizer = CharacterTokenizer.from_texts(["1979-05-03"])
>>> ids = tokenizer.encode(["1979-05-03"], length=12, start=True, end=True)
>>> ids.shape
(1, 12)
>>> tokenizer.decode(ids[:, 1:])
['1979-05-03']
"""

import unicodedata

import numpy as np

from zoo import wordpiece

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[START]", "[END]"]
PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3


class _Tokenizer:
    """What both tokenizers share: ids <-> padded arrays and strings."""

    def __init__(self, vocabulary):
        vocabulary = list(vocabulary)
        if vocabulary[: len(SPECIAL_TOKENS)] != SPECIAL_TOKENS:
            raise ValueError(
                f"`vocabulary` must start with {SPECIAL_TOKENS}; received "
                f"{vocabulary[:len(SPECIAL_TOKENS)]}."
            )
        self.vocabulary = vocabulary
        self.index = {token: i for i, token in enumerate(vocabulary)}

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def split(self, text):
        """The token ids of one text (no special tokens)."""
        raise NotImplementedError

    def join(self, tokens):
        """One text from its tokens (no special tokens)."""
        raise NotImplementedError

    def encode(self, texts, length, start=False, end=False):
        """`(len(texts), length)` int32 ids, padded with 0, cut at `length`."""
        ids = np.zeros((len(texts), length), "int32")  # (N, length)
        for row, pieces in enumerate(self.split_batch(texts)):
            pieces = ([START_ID] if start else []) + list(pieces) + ([END_ID] if end else [])
            pieces = pieces[:length]
            ids[row, : len(pieces)] = pieces
        return ids

    def split_batch(self, texts):
        return [self.split(text) for text in texts]

    def unknown(self, texts):
        """For each text, the pieces of it that are not in the vocabulary (read as "[UNK]")."""
        raise NotImplementedError

    def tokens(self, ids):
        """Token strings of one id sequence, up to (excluding) "[END]"."""
        tokens = []
        for i in np.asarray(ids).tolist():
            if i == END_ID:
                break
            if i not in (PAD_ID, START_ID):
                tokens.append(self.vocabulary[i])
        return tokens

    def decode(self, ids):
        """Strings from a `(N, T)` array of ids, each read up to "[END]"."""
        return [self.join(self.tokens(row)) for row in np.asarray(ids)]

    def get_config(self):
        return {"vocabulary": self.vocabulary}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class CharacterTokenizer(_Tokenizer):
    """One token per character; characters not in the vocabulary become "[UNK]".

    Texts are first put in Unicode's NFKC form, so full-width digits and
    letters ("１９７９") read as the ASCII ones ("1979") and a character and
    its compatibility variants share one token.

    >>> from zoo.translation.tokenizers import CharacterTokenizer
    >>> tokenizer = CharacterTokenizer.from_texts(["ab"])
    >>> tokenizer.vocabulary_size, tokenizer.split("abc"), tokenizer.split("ａｂ")
    (6, [4, 5, 1], [4, 5])
    """

    unit = "characters"

    @classmethod
    def from_texts(cls, texts):
        characters = sorted(set("".join(unicodedata.normalize("NFKC", text) for text in texts)))
        return cls(SPECIAL_TOKENS + characters)

    def split(self, text):
        return [self.index.get(character, UNK_ID) for character in unicodedata.normalize("NFKC", text)]

    def unknown(self, texts):
        return [[c for c in unicodedata.normalize("NFKC", text) if c not in self.index] for text in texts]

    def join(self, tokens):
        return "".join(tokens)


class WordPieceTokenizer(_Tokenizer):
    """Cased WordPiece with English detokenization.

    Words are split on spaces and punctuation, then into pieces from the
    vocabulary ("##" marks a piece that continues a word). `join` glues
    pieces back and puts spaces where English writes them: "I don ' t know
    , Tom ." becomes "I don't know, Tom." (see `join_english_words`).

    Build the vocabulary from training text with `from_texts`, which calls
    `zoo.wordpiece.learn_vocabulary` (no lower-casing: the output keeps its
    capitals). The pieces come from `zoo.wordpiece.WordPiece`, the same ids
    as keras_hub's `WordPieceTokenizer(lowercase=False, strip_accents=False)`,
    on every backend.

    >>> from zoo.translation.tokenizers import SPECIAL_TOKENS, WordPieceTokenizer
    >>> tokenizer = WordPieceTokenizer(SPECIAL_TOKENS + ["I", "don", "'", "t", "know", "."])
    >>> ids = tokenizer.encode(["I don't know."], length=8)
    >>> tokenizer.decode(ids)
    ["I don't know."]
    """

    unit = "word pieces"

    def __init__(self, vocabulary):
        super().__init__(vocabulary)
        self._wordpiece = None

    @classmethod
    def from_texts(cls, texts, vocabulary_size):
        return cls(wordpiece.learn_vocabulary(texts, vocabulary_size, SPECIAL_TOKENS))

    def split(self, text):
        return self.split_batch([text])[0]

    def split_batch(self, texts):
        if self._wordpiece is None:
            self._wordpiece = wordpiece.WordPiece(self.vocabulary, "[UNK]")
        return self._wordpiece.ids(texts)

    def unknown(self, texts):
        words = [text.split() for text in texts]
        flat = [word for row in words for word in row]
        pieces = iter(self.split_batch(flat))
        return [[word for word in row if UNK_ID in next(pieces)] for row in words]

    def join(self, tokens):
        words = []
        for token in tokens:
            if token.startswith("##") and words:
                words[-1] += token[2:]
            else:
                words.append(token)
        return join_english_words(words)


NO_SPACE_BEFORE = set(".,!?;:%)]}")
NO_SPACE_AFTER = set("([{$¿¡")
JOINS_NUMBERS = set(".,:")  # 3.5, 1,000, 10:30
CONTRACTIONS = {"s", "t", "m", "d", "re", "ve", "ll"}  # Tom's, don't, I'm, I'd, ...


def _is_word(token):
    return token[:1].isalnum()


def join_english_words(words):
    """Join word and punctuation tokens the way English is written.

    >>> from zoo.translation.tokenizers import join_english_words
    >>> join_english_words(["Tom", "'", "s", "car", "isn", "'", "t", "here", "."])
    "Tom's car isn't here."
    >>> join_english_words(["He", "said", ",", '"', "It", "'", "s", "3", ".", "5", '"', "."])
    'He said, "It\\'s 3.5".'
    """
    text = ""
    glue_next = True  # no space before the first word
    quote_open = False
    for i, word in enumerate(words):
        previous = words[i - 1] if i > 0 else ""
        following = words[i + 1] if i + 1 < len(words) else ""
        glue_both = (
            (word in ("'", "-") and _is_word(previous) and _is_word(following))
            or (word in JOINS_NUMBERS and previous.isdigit() and following.isdigit())
        )
        plural_possessive = (
            word == "'" and previous.endswith("s") and following.lower() not in CONTRACTIONS
        )
        if word == '"':
            glue_before, glue_after = quote_open, not quote_open
            quote_open = not quote_open
        elif plural_possessive:  # the students' books
            glue_before, glue_after = True, False
        elif glue_both:
            glue_before, glue_after = True, True
        else:
            glue_before = word in NO_SPACE_BEFORE
            glue_after = word in NO_SPACE_AFTER
        text += word if (glue_next or glue_before) else " " + word
        glue_next = glue_after
    return text
