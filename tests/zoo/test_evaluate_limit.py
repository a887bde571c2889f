"""`limit` in each recipe family's evaluation: the first N test examples, recomputed by hand.

The shipped presets' slice checks (tests/zoo/test_shipped_presets.py) cover
dates, ViT digits, tweets and the classifier with trained weights; here the
families whose presets are trained elsewhere (Tatoeba translation, the GPT,
Fashion-MNIST / CIFAR ViTs share vit-digits' code) get the same check on an
untrained quick model, and the recipes with an `evaluation` hook (no
tokenizer training) must agree with their `Run.evaluate`.
"""

import math
import warnings

import numpy as np
import pytest

from tests.conftest import require_dataset
from zoo import recipes, training
from zoo.text_inputs import InputWarning


def test_vit_limit_scores_the_first_test_images():
    from zoo.vit import data

    run = recipes.get("vit-digits").build(recipes.Options(quick=True))
    (_, _), (x_test, y_test), _ = data.load("digits")
    metrics = training.evaluate(run, run.model, limit=10)
    assert training.evaluator("vit-digits", recipes.Options(quick=True))(run.model, limit=10) == metrics
    predicted = np.argmax(run.model.predict(x_test[:10], verbose=0), axis=-1)
    assert metrics["accuracy"] == float(np.mean(predicted == y_test[:10]))


def test_gpt_limit_is_the_first_test_tokens():
    require_dataset("wikitext-2")
    from zoo.gpt import data
    from zoo.gpt.recipes import QUICK_LINES

    run = recipes.get("gpt-wikitext2").build(recipes.Options(quick=True))
    test = data.load_wikitext2(max_lines=QUICK_LINES).test
    model = run.model
    limited = training.evaluate(run, model, limit=40)["test_perplexity"]
    # 40 tokens: windows of 16 inputs 8 apart, at 0, 8 and 16; the first
    # scores its 16 predictions (tokens 1..16), the others their last 8
    # (17..24, 25..32); the rest is dropped.
    x = np.stack([test[0:16], test[8:24], test[16:32]])
    y = np.stack([test[1:17], test[9:25], test[17:33]])
    logits = np.asarray(model(x, training=False), "float64")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, y[..., None], -1)[..., 0]  # (3, 16)
    expected = math.exp(-np.concatenate([picked[0], picked[1, 8:], picked[2, 8:]]).mean())
    assert limited == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="at least sequence_length \\+ 1 = 17 tokens; received 10"):
        training.evaluate(run, model, limit=10)


def test_anki_evaluation_hook_agrees_with_the_run_and_scores_the_first_pairs():
    require_dataset("spa-eng")
    import sacrebleu

    from zoo.translation.recipes import anki_splits

    options = recipes.Options(quick=True)
    recipe = recipes.get("translation-anki-transformer")
    run = recipe.build(options)
    hook = training.evaluator("translation-anki-transformer", options)
    first = anki_splits(options).test[:5]
    predictions = run.model.translate([source for source, _ in first])
    expected = sacrebleu.corpus_bleu(predictions, [[target for _, target in first]]).score
    assert hook(run.model, limit=5) == training.evaluate(run, run.model, limit=5)
    assert hook(run.model, limit=5)["test_bleu_cased"] == pytest.approx(expected)


def test_tweets_evaluation_hook_agrees_with_the_run_and_scores_the_first_tweets():
    require_dataset("semeval2017-4a")
    require_dataset("tweeteval")
    from sklearn.metrics import recall_score

    from zoo.tweets.recipes import load_task

    options = recipes.Options(quick=True)
    run = recipes.get("tweets-sentiment").build(options)
    hook = training.evaluator("tweets-sentiment", options)
    assert hook(run.model, limit=30) == training.evaluate(run, run.model, limit=30)
    texts, labels, _ = load_task("sentiment", options)["test"]
    with warnings.catch_warnings():  # long tweets are cut, as in the evaluation
        warnings.simplefilter("ignore", InputWarning)
        predicted = np.argmax(run.model.predict(texts[:30], verbose=0), axis=-1)
    assert hook(run.model, limit=30)["macro_recall"] == pytest.approx(
        recall_score(labels[:30], predicted, average="macro"))


def test_dates_limit_scores_the_first_pairs():
    from zoo.translation import data

    run = recipes.get("translation-dates-rnn").build(recipes.Options(quick=True))
    first = data.load_dates(seed=0, train_size=200, validation_size=50, test_size=50).test[:7]
    predictions = run.model.translate([source for source, _ in first])
    expected = float(np.mean([p == target for p, (_, target) in zip(predictions, first)]))
    assert training.evaluate(run, run.model, limit=7) == {"test_exact_match": expected}
