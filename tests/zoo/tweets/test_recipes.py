"""The tweets recipes train end to end (--quick sizes) and save a usable preset."""

import numpy as np
import pytest

import zoo
from tests.conftest import require_dataset
from zoo import recipes, training


def test_quick_sentiment_recipe_trains_evaluates_and_saves_a_preset(tmp_path):
    require_dataset("semeval2017-4a")
    require_dataset("tweeteval")
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
                 "tweets-sentiment-bert", "tweets-sentiment-bert-adapted", "tweets-emotion",
                 "tweets-emotion-mean"):
        assert name in names
    assert recipes.get("tweets-sentiment").preset == "tweets-sentiment"


def test_rungs_differ_only_where_the_ladder_says():
    from zoo.tweets.recipes import settings_for

    options = recipes.Options()
    mean, mean_training = settings_for("mean", options)
    attention, attention_training = settings_for("attention", options)
    encoder, _ = settings_for("encoder", options)
    assert {k: v for k, v in mean.items() if k != "pooling"} == {
        k: v for k, v in attention.items() if k != "pooling"}
    assert (mean["pooling"], attention["pooling"]) == ("mean", "attention")
    assert mean_training == attention_training
    assert encoder["num_layers"] == 1 and encoder["position"] == "sinusoidal"


def test_extra_options_override_settings_and_unknown_ones_are_refused():
    from zoo.tweets.recipes import settings_for

    model, training = settings_for("attention", recipes.Options(extra={"token_dropout": 0.2, "epochs": 3}))
    assert model["token_dropout"] == 0.2 and training["epochs"] == 3
    with pytest.raises(ValueError, match=r"`Options.extra` keys must be among .*received \['colour'\]"):
        settings_for("attention", recipes.Options(extra={"colour": 1}))
    with pytest.raises(ValueError, match="`variant` must be one of"):
        settings_for("max", recipes.Options())


def test_learning_rate_warms_up_linearly_then_decays_to_zero():
    from zoo.schedules import warmup_cosine_schedule

    schedule = warmup_cosine_schedule(1e-3, steps_per_epoch=100, epochs=4, warmup_epochs=0.5)
    rates = [float(schedule(step)) for step in (0, 25, 50, 225, 400)]
    np.testing.assert_allclose(rates, [0.0, 5e-4, 1e-3, 5e-4, 0.0], atol=1e-9)
