"""WordPiece on every backend: splitting text into vocabulary pieces, and
learning a vocabulary, with or without TensorFlow.

Two ways to tokenize give the same ids (tests compare them on every TweetEval
test tweet and on Tatoeba Spanish sentences):

- keras_hub's `WordPieceTokenizer` (pure Python outside `tf.data`), and
- `WordPiece` here, the same rules run by the Rust `tokenizers` package:
  words split at whitespace and at control / format characters (dropped),
  every punctuation mark and CJK ideograph a word of its own, then greedy
  longest-match pieces with `##` on continuation pieces and `[UNK]` for a
  word that cannot be covered or is longer than 100 characters.

`python -m bench tokenizers` measures both: `WordPiece` is the fast one, so
the zoo tokenizes with it on every backend.

Learning a vocabulary: on TensorFlow (with tensorflow-text), keras_hub's
`compute_word_piece_vocabulary`, as the shipped presets were made; without
TensorFlow, the `tokenizers` package's WordPiece trainer. The two learners
choose slightly different pieces; both put the reserved tokens first.

Example:

>>> from zoo.wordpiece import WordPiece
>>> pieces = WordPiece(["[UNK]", "the", "cat", "##s", "sat", "."])
>>> pieces.ids(["The cats sat."])         # "The" is not in the vocabulary
[[0, 2, 3, 4, 5]]
"""

import importlib.util

import keras

# keras_hub's splitting rules, in the regex syntax of `tokenizers` (Oniguruma).
_SPACES = r"[ \t\n\r\f]|\p{Cc}|\p{Cf}"  # separators, dropped
_PUNCTUATION = r"[!-/:-@\[-`{-~]|\p{P}"  # ASCII symbols and Unicode P*, kept as words
_CJK = (
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
    r"\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)
MAX_CHARS_PER_WORD = 100


def use_tensorflow_text():
    """True where the zoo's text pipelines run on TensorFlow.

    That is the TensorFlow backend with tensorflow-text installed; on JAX or
    torch, or without tensorflow-text, they run in NumPy and Python.
    """
    return keras.backend.backend() == "tensorflow" and importlib.util.find_spec("tensorflow_text") is not None


def _pre_tokenizer():
    from tokenizers import Regex, pre_tokenizers

    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_SPACES), "removed"),
        pre_tokenizers.Split(Regex(f"{_PUNCTUATION}|{_CJK}"), "isolated"),
    ])


class WordPiece:
    """Text -> WordPiece ids, with keras_hub's splitting rules (see the module).

    Args:
        vocabulary: the tokens, id = position; continuation pieces start
            with `##`.
        unknown_token: the token of words that cannot be covered.
        special_tokens: tokens kept whole wherever they occur in a text
            (e.g. "@user"); they must be in the vocabulary.
        normalizer: a `tokenizers.normalizers` object run on each text
            first (BERT's lower-casing and accent stripping); None: the text
            is used as given.
    """

    def __init__(self, vocabulary, unknown_token="[UNK]", special_tokens=(), normalizer=None):
        from tokenizers import Tokenizer, models

        vocabulary = list(vocabulary)
        index = {token: i for i, token in enumerate(vocabulary)}
        missing = [t for t in (unknown_token, *special_tokens) if t not in index]
        if missing:
            raise ValueError(f"`vocabulary` must contain {missing}; received {len(vocabulary)} tokens without them.")
        self._tokenizer = Tokenizer(models.WordPiece(
            index, unk_token=unknown_token, max_input_chars_per_word=MAX_CHARS_PER_WORD
        ))
        self._tokenizer.pre_tokenizer = _pre_tokenizer()
        if normalizer is not None:
            self._tokenizer.normalizer = normalizer
        if special_tokens:
            self._tokenizer.add_special_tokens(list(special_tokens))

    def ids(self, texts):
        """The ids of each text: a list of lists of ints (no padding)."""
        encodings = self._tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        return [encoding.ids for encoding in encodings]

    def words(self, texts):
        """The words of each text (normalised, split), before WordPiece."""
        normalizer = self._tokenizer.normalizer
        pre_tokenizer = self._tokenizer.pre_tokenizer
        return [
            [word for word, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text) if normalizer else text)]
            for text in texts
        ]


def learn_vocabulary(texts, vocabulary_size, reserved_tokens, split=True):
    """A WordPiece vocabulary of at most `vocabulary_size` tokens from `texts`.

    Args:
        texts: strings, used as given (normalise them first).
        vocabulary_size: most tokens, the reserved ones included.
        reserved_tokens: tokens placed first, in this order.
        split: split the texts into words with `WordPiece`'s rules; False
            when every text is one word already.

    On TensorFlow: keras_hub's `compute_word_piece_vocabulary` (a `tf.data`
    pipeline); elsewhere the `tokenizers` package's trainer.

    >>> from zoo.wordpiece import learn_vocabulary
    >>> vocabulary = learn_vocabulary(["the cat sat"] * 5, 30, ["[PAD]", "[UNK]"])
    >>> vocabulary[:2], "cat" in vocabulary
    (['[PAD]', '[UNK]'], True)
    """
    texts = list(texts)
    reserved_tokens = list(reserved_tokens)
    if use_tensorflow_text():
        import keras_hub
        import tensorflow as tf

        return keras_hub.tokenizers.compute_word_piece_vocabulary(
            tf.data.Dataset.from_tensor_slices(texts).batch(4096),
            vocabulary_size,
            lowercase=False,
            strip_accents=False,
            split=split,
            reserved_tokens=reserved_tokens,
        )
    from tokenizers import Tokenizer, models, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    if split:  # else each text is one word
        tokenizer.pre_tokenizer = _pre_tokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocabulary_size, special_tokens=reserved_tokens, continuing_subword_prefix="##",
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    learned = tokenizer.get_vocab()  # token -> id, the reserved tokens first
    return sorted(learned, key=learned.get)[:vocabulary_size]
