"""The tweets recipes train end to end (--quick sizes) and save a usable preset."""

import numpy as np

import zoo
from tests.conftest import require_shared_data
from zoo import recipes, training


def test_quick_sentiment_recipe_trains_evaluates_and_saves_a_preset(tmp_path):
    require_shared_data("semeval2017-4a/train.tsv")
    result = training.train(
        "tweets-sentiment", recipes.Options(quick=True, epochs=1),
        output=str(tmp_path / "preset"), workdir=str(tmp_path / "work"), verbose=0,
    )
    assert set(result.metrics) >= {"macro_recall", "accuracy", "val_macro_recall"}
    assert 0.0 <= result.metrics["macro_recall"] <= 1.0
    loaded = zoo.load(str(tmp_path / "preset"))
    texts = ["what a great day", "@user this is the worst http://t.co/x"]
    np.testing.assert_allclose(loaded.predict(texts, verbose=0), result.model.predict(texts, verbose=0), atol=1e-6)
    assert set(loaded.classify(texts)) <= {"negative", "neutral", "positive"}


def test_every_tweets_recipe_is_registered():
    names = recipes.names()
    for name in ("tweets-sentiment", "tweets-sentiment-mean", "tweets-sentiment-encoder",
                 "tweets-sentiment-bert", "tweets-emotion", "tweets-emotion-mean"):
        assert name in names
    assert recipes.get("tweets-sentiment").preset == "tweets-sentiment"
