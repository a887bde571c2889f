"""BERT's lower-case WordPiece tokenizer, id-compatible with Hugging Face.

The steps of the original BERT tokenizer, run by tensorflow-text on the
TensorFlow backend and by the Rust `tokenizers` package elsewhere (the same
ids: tests compare the two on tweets and Spanish sentences):

1. clean: tabs, newlines and space separators (Unicode Zs) become spaces;
   other control and format characters (Cc, Cf) and U+FFFD are deleted;
2. lower-case (Unicode rules);
3. strip accents: NFD, then delete the combining marks (Mn);
4. split into words at spaces, and make every punctuation character and
   every CJK ideograph a word of its own;
5. WordPiece (tensorflow-text's `FastWordpieceTokenizer`, the kernel behind
   keras_hub's `WordPieceTokenizer`, or `zoo.wordpiece.WordPiece`): greedy
   longest-match pieces, `##` on continuation pieces, `[UNK]` for a word
   that cannot be covered or is longer than 100 characters.

Why not keras_hub's `WordPieceTokenizer(lowercase=True)` directly: it
lower-cases with NFKC case folding ("ß" -> "ss", "ﬁ" -> "fi", full-width
"Ｈ" -> "h") and splits words at invisible format characters instead of
deleting them, so its ids differ from every published BERT checkpoint's on
such text.

Pairs are packed as `[CLS] a [SEP] b [SEP]` with segment ids 0 / 1, padded
with `[PAD]` and truncated round-robin (the longer segment loses tokens
first), in NumPy.
"""

import os

import keras
import numpy as np

from zoo import wordpiece

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
VOCABULARY_FILE = "vocab.txt"
MAX_CHARS_PER_WORD = 100  # longer words become [UNK], as in BERT

# BERT's punctuation: every non-letter, non-digit ASCII symbol, and Unicode P*.
_PUNCTUATION = r"[!-/:-@\[-`{-~]|\p{P}"
# CJK ideographs, split one by one (the blocks of the original BERT code).
_CJK = (
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}"
    r"\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}"
    r"\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)


def read_vocabulary(path):
    """The tokens of a `vocab.txt` file (one token a line), in id order."""
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").rstrip("\r") for line in f]


def normalize(texts):
    """BERT's basic normalisation of each string of `texts` (a list).

    >>> from zoo.bert.tokenizer import normalize
    >>> normalize(["Héllo,\\tWORLD"])
    ['hello, world']
    """
    if wordpiece.use_tensorflow_text():
        return [text.decode("utf-8") for text in _normalize_tf(list(texts)).numpy().tolist()]
    normalizer = _normalizer()
    return [normalizer.normalize_str(text) for text in texts]


def _normalize_tf(texts):
    """`normalize` in TensorFlow ops, on a string tensor (any shape)."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    texts = tf.strings.regex_replace(texts, r"[\t\n\r\p{Zs}]", " ")
    texts = tf.strings.regex_replace(texts, r"[\p{Cc}\p{Cf}\x{FFFD}]", "")
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf_text.normalize_utf8(texts, "NFD")
    return tf.strings.regex_replace(texts, r"\p{Mn}", "")


def _normalizer():
    """`normalize` as a `tokenizers` normaliser (Rust), the same steps."""
    from tokenizers import Regex, normalizers

    return normalizers.Sequence([
        normalizers.Replace(Regex(r"[\t\n\r\p{Zs}]"), " "),
        normalizers.Replace(Regex(r"[\p{Cc}\p{Cf}\x{FFFD}]"), ""),
        normalizers.Lowercase(),
        normalizers.NFD(),
        normalizers.Replace(Regex(r"\p{Mn}"), ""),
    ])


def _round_robin(length_a, length_b, budget):
    """Tokens kept of two segments sharing `budget`, one token each in turn.

    >>> from zoo.bert.tokenizer import _round_robin
    >>> _round_robin(10, 2, 7), _round_robin(10, 10, 7), _round_robin(1, 2, 7)
    ((5, 2), (4, 3), (1, 2))
    """
    keep_a = min(length_a, max(budget - length_b, (budget + 1) // 2))
    return keep_a, min(length_b, budget - keep_a)


@keras.saving.register_keras_serializable(package="zoo")
class BertTokenizer(keras.layers.Layer):
    """Lower-case WordPiece tokenizer with BERT's special tokens and packing.

    Args:
        vocabulary: a list of tokens (id = position) or the path of a
            `vocab.txt`; must contain `[PAD] [UNK] [CLS] [SEP] [MASK]`.
            None leaves it to be set by `load_vocabulary` (deserialisation).
        sequence_length: length of the packed `token_ids`.

    `encode(texts, pairs=None)` (also `tokenizer(texts)`) gives the model's
    input dict of NumPy arrays: `token_ids`, `segment_ids`, `padding_mask`,
    each `(batch, sequence_length)`; `tokenize(texts)` the WordPiece ids of
    each text as lists. The same on every backend, with or without TensorFlow.

    Example:

    >>> from zoo.bert import BertTokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
    ...          "sat", "##s", "."]
    >>> tokenizer = BertTokenizer(vocab, sequence_length=10)
    >>> batch = tokenizer.encode(["The cats sat."], pairs=["the cat"])
    >>> batch["token_ids"].tolist()
    [[2, 5, 6, 8, 7, 9, 3, 5, 6, 3]]
    >>> tokenizer.tokenize(["Cats!"])
    [[6, 8, 1]]
    """

    def __init__(self, vocabulary=None, sequence_length=128, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.vocabulary = None
        self.built = True  # no weights
        self.set_vocabulary(vocabulary)

    # -- vocabulary ------------------------------------------------------

    def set_vocabulary(self, vocabulary):
        """Use `vocabulary` (a token list or a `vocab.txt` path)."""
        if vocabulary is None:
            return
        if isinstance(vocabulary, (str, os.PathLike)):
            vocabulary = read_vocabulary(vocabulary)
        vocabulary = list(vocabulary)
        missing = [token for token in SPECIAL_TOKENS if token not in vocabulary]
        if missing:
            raise ValueError(
                f"`vocabulary` must contain the special tokens {SPECIAL_TOKENS}; "
                f"missing {missing}."
            )
        self.vocabulary = vocabulary
        self._ids = {token: i for i, token in enumerate(vocabulary)}
        # Plain objects, not Keras layers, so that Keras saving does not
        # store the vocabulary twice.
        if not wordpiece.use_tensorflow_text():
            self._wordpiece = wordpiece.WordPiece(vocabulary, "[UNK]", normalizer=_normalizer())
            return
        import tensorflow as tf
        import tensorflow_text as tf_text

        # tensorflow-text's WordPiece kernel (what keras_hub's
        # WordPieceTokenizer runs).
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocab=vocabulary,
            suffix_indicator="##",
            max_bytes_per_word=4 * MAX_CHARS_PER_WORD,
            token_out_type=tf.int32,
            unknown_token="[UNK]",
            no_pretokenization=True,
        )

    def _require_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError(
                "This BertTokenizer has no vocabulary: pass `vocabulary` or "
                "call `load_vocabulary(directory)`."
            )

    def vocabulary_size(self):
        self._require_vocabulary()
        return len(self.vocabulary)

    def token_to_id(self, token):
        self._require_vocabulary()
        if token not in self._ids:
            raise ValueError(f"`token` {token!r} is not in the vocabulary.")
        return self._ids[token]

    def id_to_token(self, token_id):
        self._require_vocabulary()
        return self.vocabulary[int(token_id)]

    @property
    def pad_id(self):
        return self.token_to_id("[PAD]")

    @property
    def unk_id(self):
        return self.token_to_id("[UNK]")

    @property
    def cls_id(self):
        return self.token_to_id("[CLS]")

    @property
    def sep_id(self):
        return self.token_to_id("[SEP]")

    @property
    def mask_id(self):
        return self.token_to_id("[MASK]")

    @property
    def special_ids(self):
        """Ids of the five special tokens, sorted."""
        return sorted(self.token_to_id(token) for token in SPECIAL_TOKENS)

    # -- tokenizing ------------------------------------------------------

    def split_words(self, texts):
        """Normalised words of each text: a list of lists of strings."""
        if not wordpiece.use_tensorflow_text():
            self._require_vocabulary()
            return self._wordpiece.words(list(texts))
        return [[word.decode("utf-8") for word in words] for words in self._split_words_tf(list(texts)).to_list()]

    def _split_words_tf(self, texts):
        import tensorflow_text as tf_text

        return tf_text.regex_split(
            _normalize_tf(texts),
            delim_regex_pattern=f" |{_PUNCTUATION}|{_CJK}",
            keep_delim_regex_pattern=f"{_PUNCTUATION}|{_CJK}",
        )  # (batch, words)

    def tokenize(self, texts):
        """WordPiece ids of each text, no special tokens: a list of lists of ints.

        `texts` is a string or a list of strings.
        """
        self._require_vocabulary()
        texts = [texts] if isinstance(texts, str) else [str(text) for text in texts]
        if not wordpiece.use_tensorflow_text():
            return self._wordpiece.ids(texts)
        import tensorflow as tf

        words = self._split_words_tf(texts)  # (batch, words)
        too_long = tf.strings.length(words, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        words = tf.where(too_long, "[UNK]", words)
        pieces = self._wordpiece.tokenize(words)  # (batch, words, pieces)
        return pieces.merge_dims(-2, -1).to_list()  # (batch, pieces)

    def encode(self, texts, pairs=None):
        """Pack texts (and optional second segments) into model inputs.

        Returns a dict of NumPy arrays `(batch, sequence_length)`:
        `token_ids` (`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, then
        `[PAD]`, int32), `segment_ids` (0 for the first text, 1 for the pair)
        and `padding_mask` (True on real tokens). Too long inputs are
        truncated, the longer segment first. A single string gives
        `(sequence_length,)`.
        """
        single = isinstance(texts, str)
        if single:
            texts = [texts]
            pairs = None if pairs is None else [pairs]
        first = self.tokenize(texts)
        second = self.tokenize(pairs) if pairs is not None else None
        if second is not None and len(second) != len(first):
            raise ValueError(
                f"`pairs` must hold one text per text; received {len(second)} pairs for {len(first)} texts."
            )
        token_ids = np.full((len(first), self.sequence_length), self.pad_id, "int32")
        segment_ids = np.zeros((len(first), self.sequence_length), "int32")
        for row, a in enumerate(first):
            if second is None:
                ids = [self.cls_id, *a[: self.sequence_length - 2], self.sep_id]
                b_length = 0
            else:
                b = second[row]
                keep_a, b_length = _round_robin(len(a), len(b), self.sequence_length - 3)
                ids = [self.cls_id, *a[:keep_a], self.sep_id, *b[:b_length], self.sep_id]
                segment_ids[row, len(ids) - b_length - 1 : len(ids)] = 1
            token_ids[row, : len(ids)] = ids
        batch = {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": token_ids != self.pad_id,
        }
        if single:
            batch = {key: value[0] for key, value in batch.items()}
        return batch

    def __call__(self, texts, pairs=None):
        # Strings are not Keras tensors: skip Layer.__call__'s conversions.
        return self.encode(texts, pairs)

    def detokenize(self, token_ids):
        """Token ids (one sequence or a batch) back to space-joined strings.

        `[PAD]` is dropped; `##` pieces are glued to the previous piece.
        """
        token_ids = np.asarray(keras.ops.convert_to_numpy(token_ids))
        if token_ids.ndim == 1:
            return self._detokenize_one(token_ids)
        return [self._detokenize_one(row) for row in token_ids]

    def _detokenize_one(self, row):
        words = []
        for token_id in row:
            if int(token_id) == self.pad_id:
                continue
            token = self.id_to_token(token_id)
            if token.startswith("##") and words:
                words[-1] += token[2:]
            else:
                words.append(token)
        return " ".join(words)

    # -- building a vocabulary -------------------------------------------

    @classmethod
    def from_corpus(cls, texts, vocabulary_size, sequence_length=128):
        """Learn a WordPiece vocabulary from `texts` (an iterable of strings).

        Uses `zoo.wordpiece.learn_vocabulary` on the normalised texts; the
        five special tokens come first (ids 0-4). The result may be smaller
        than `vocabulary_size` on a small corpus.

        >>> from zoo.bert import BertTokenizer
        >>> tokenizer = BertTokenizer.from_corpus(["the cat sat"] * 5, 50)
        >>> tokenizer.vocabulary[:5]
        ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
        """
        vocabulary = wordpiece.learn_vocabulary(normalize(list(texts)), vocabulary_size, SPECIAL_TOKENS)
        return cls(vocabulary, sequence_length=sequence_length)

    # -- saving ----------------------------------------------------------
    # Models holding a tokenizer call these from their Keras `save_assets` /
    # `load_assets` hooks. The tokenizer does not define the hooks itself:
    # Keras would then store the vocabulary twice in a `.keras` file.

    def save_vocabulary(self, directory):
        """Write the vocabulary to `directory/vocab.txt`."""
        self._require_vocabulary()
        with open(os.path.join(directory, VOCABULARY_FILE), "w", encoding="utf-8") as f:
            f.write("".join(token + "\n" for token in self.vocabulary))

    def load_vocabulary(self, directory):
        """Read the vocabulary from `directory/vocab.txt`."""
        self.set_vocabulary(os.path.join(directory, VOCABULARY_FILE))

    def get_config(self):
        config = super().get_config()
        # The vocabulary travels as an asset file (save_vocabulary).
        config.update({"sequence_length": self.sequence_length})
        return config


def encode_texts(tokenizer, texts, chunk=4096):
    """`tokenizer.encode(texts)` as numpy arrays `(N, sequence_length)`, in chunks."""
    texts = list(texts)
    parts = [tokenizer.encode(texts[i : i + chunk]) for i in range(0, len(texts), chunk)]
    return {key: np.concatenate([np.asarray(part[key]) for part in parts]) for key in parts[0]}
