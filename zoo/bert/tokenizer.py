"""BERT's lower-case WordPiece tokenizer, id-compatible with Hugging Face.

The steps of the original BERT tokenizer, written with TensorFlow string ops
so that they run inside `tf.data` on any Keras backend:

1. clean: tabs, newlines and space separators (Unicode Zs) become spaces;
   other control and format characters (Cc, Cf) and U+FFFD are deleted;
2. lower-case (`tf.strings.lower` with Unicode rules);
3. strip accents: NFD, then delete the combining marks (Mn);
4. split into words at spaces, and make every punctuation character and
   every CJK ideograph a word of its own;
5. WordPiece (tensorflow-text's `FastWordpieceTokenizer`, the kernel behind
   keras_hub's `WordPieceTokenizer`): greedy longest-match pieces, `##` on
   continuation pieces, `[UNK]` for a word that cannot be covered or is
   longer than 100 characters.

Why not keras_hub's `WordPieceTokenizer(lowercase=True)` directly: it
lower-cases with NFKC case folding ("ß" -> "ss", "ﬁ" -> "fi", full-width
"Ｈ" -> "h") and splits words at invisible format characters instead of
deleting them, so its ids differ from every published BERT checkpoint's on
such text.

Pairs are packed as `[CLS] a [SEP] b [SEP]` with segment ids 0 / 1, padded
with `[PAD]` and truncated round-robin (the longer segment loses tokens
first) by keras_hub's `MultiSegmentPacker`.

This module uses TensorFlow; it belongs to the zoo's data side and is never
imported by `kattn`.
"""

import os

import keras
import numpy as np

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
    """BERT's basic normalisation of a string tensor (any shape).

    >>> from zoo.bert.tokenizer import normalize
    >>> normalize(["Héllo,\\tWORLD"]).numpy().tolist()
    [b'hello, world']
    """
    import tensorflow as tf
    import tensorflow_text as tf_text

    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    texts = tf.strings.regex_replace(texts, r"[\t\n\r\p{Zs}]", " ")
    texts = tf.strings.regex_replace(texts, r"[\p{Cc}\p{Cf}\x{FFFD}]", "")
    texts = tf.strings.lower(texts, encoding="utf-8")
    texts = tf_text.normalize_utf8(texts, "NFD")
    return tf.strings.regex_replace(texts, r"\p{Mn}", "")


@keras.saving.register_keras_serializable(package="zoo")
class BertTokenizer(keras.layers.Layer):
    """Lower-case WordPiece tokenizer with BERT's special tokens and packing.

    Args:
        vocabulary: a list of tokens (id = position) or the path of a
            `vocab.txt`; must contain `[PAD] [UNK] [CLS] [SEP] [MASK]`.
            None leaves it to be set by `load_vocabulary` (deserialisation).
        sequence_length: length of the packed `token_ids`.

    `encode(texts, pairs=None)` (also `tokenizer(texts)`) gives the model's
    input dict: `token_ids`, `segment_ids`, `padding_mask`, each
    `(batch, sequence_length)`. It is made of TensorFlow string ops and can be
    mapped over a `tf.data.Dataset` on any Keras backend.

    Example:

    >>> from zoo.bert import BertTokenizer
    >>> vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat",
    ...          "sat", "##s", "."]
    >>> tokenizer = BertTokenizer(vocab, sequence_length=10)
    >>> batch = tokenizer.encode(["The cats sat."], pairs=["the cat"])
    >>> batch["token_ids"].numpy().tolist()
    [[2, 5, 6, 8, 7, 9, 3, 5, 6, 3]]
    >>> tokenizer.tokenize(["Cats!"]).to_list()
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
        import tensorflow as tf
        import tensorflow_text as tf_text

        self.vocabulary = vocabulary
        self._ids = {token: i for i, token in enumerate(vocabulary)}
        # tensorflow-text's WordPiece kernel (what keras_hub's
        # WordPieceTokenizer runs). Kept as a plain tf.Module, not a Keras
        # layer, so that Keras saving does not store the vocabulary twice.
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
        """Normalised words of each text: a `tf.RaggedTensor` of strings."""
        import tensorflow_text as tf_text

        return tf_text.regex_split(
            normalize(texts),
            delim_regex_pattern=f" |{_PUNCTUATION}|{_CJK}",
            keep_delim_regex_pattern=f"{_PUNCTUATION}|{_CJK}",
        )  # (batch, words)

    def tokenize(self, texts):
        """WordPiece ids of each text, no special tokens: a `tf.RaggedTensor`.

        `texts` is a string or a list / tensor of strings.
        """
        import tensorflow as tf

        self._require_vocabulary()
        words = self.split_words(texts)  # (batch, words)
        too_long = tf.strings.length(words, unit="UTF8_CHAR") > MAX_CHARS_PER_WORD
        words = tf.where(too_long, "[UNK]", words)
        pieces = self._wordpiece.tokenize(words)  # (batch, words, pieces)
        return pieces.merge_dims(-2, -1)  # (batch, pieces)

    def encode(self, texts, pairs=None):
        """Pack texts (and optional second segments) into model inputs.

        Returns a dict of int32 tensors `(batch, sequence_length)`:
        `token_ids` (`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, then
        `[PAD]`), `segment_ids` (0 for the first text, 1 for the pair) and
        `padding_mask` (True on real tokens). Too long inputs are truncated,
        the longer segment first. A single string gives `(sequence_length,)`.
        """
        import keras_hub
        import tensorflow as tf

        single = isinstance(texts, str) or (
            tf.is_tensor(texts) and texts.shape.rank == 0
        )
        if single:
            texts = [texts]
            pairs = None if pairs is None else [pairs]
        segments = [self.tokenize(texts)]
        if pairs is not None:
            segments.append(self.tokenize(pairs))
        packer = keras_hub.layers.MultiSegmentPacker(
            sequence_length=self.sequence_length,
            start_value=self.cls_id,
            end_value=self.sep_id,
            pad_value=self.pad_id,
            truncate="round_robin",
        )
        token_ids, segment_ids = packer(tuple(segments))
        batch = {
            "token_ids": token_ids,
            "segment_ids": segment_ids,
            "padding_mask": tf.not_equal(token_ids, self.pad_id),
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

        Uses `keras_hub.tokenizers.compute_word_piece_vocabulary` on the
        normalised texts; the five special tokens come first (ids 0-4). The
        result may be smaller than `vocabulary_size` on a small corpus.

        >>> from zoo.bert import BertTokenizer
        >>> tokenizer = BertTokenizer.from_corpus(["the cat sat"] * 5, 50)
        >>> tokenizer.vocabulary[:5]
        ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
        """
        import keras_hub
        import tensorflow as tf

        texts = tf.data.Dataset.from_tensor_slices(list(texts)).batch(1024)
        texts = texts.map(normalize)
        # The texts are normalised already; keras_hub only splits them.
        vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
            texts,
            vocabulary_size,
            lowercase=False,
            strip_accents=False,
            split=True,
            split_on_cjk=True,
            reserved_tokens=list(SPECIAL_TOKENS),
        )
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
