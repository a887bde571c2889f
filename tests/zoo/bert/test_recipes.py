"""The bert-pretrain and bert-classify recipes, in their quick versions."""

import numpy as np
import pytest

import zoo
from tests.conftest import require_dataset
from zoo import recipes, training


def test_bert_classify_trains_saves_and_loads_a_preset(tmp_path):
    require_dataset("semeval2017-4a")
    require_dataset("tweeteval")
    result = training.train(
        "bert-classify", recipes.Options(quick=True, epochs=1, jit=False),
        output=str(tmp_path / "preset"), workdir=str(tmp_path / "work"), verbose=0,
    )
    assert set(result.metrics) == {"test_macro_recall", "validation_macro_recall"}
    assert 0.0 <= result.metrics["test_macro_recall"] <= 1.0
    loaded = zoo.load(result.preset)
    labels = loaded.classify(["I love this!", "worst day ever"])
    assert set(labels) <= {"negative", "neutral", "positive"}
    np.testing.assert_allclose(
        loaded.predict(["a tweet"], verbose=0), result.model.predict(["a tweet"], verbose=0), atol=1e-5
    )


def test_bert_pretrain_builds_data_that_the_model_fits(tmp_path):
    require_dataset("wikitext-2")
    vocabulary = tmp_path / "vocab.txt"
    words = "the of and in to a was is for on as with by he at from".split()
    vocabulary.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    run = recipes.get("bert-pretrain").build(
        recipes.Options(quick=True, extra={"vocabulary": str(vocabulary)})
    )
    run.model.jit_compile = False
    history = run.model.fit(run.train, steps_per_epoch=2, epochs=1, shuffle=False, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    metrics = run.evaluate(run.model)
    assert set(metrics) == {"mlm_accuracy", "nsp_accuracy"}
    assert run.model.tokenizer.vocabulary_size() == 5 + len(words)


def test_step_plan_runs_the_budget_in_whole_epochs_of_at_most_one_pass():
    from zoo.bert.recipes import step_plan

    assert step_plan(400, 1484) == (1, 400)
    assert step_plan(1484, 1484) == (1, 1484)
    epochs, per_epoch = step_plan(3000, 1484)
    assert per_epoch <= 1484 and 3000 <= epochs * per_epoch < 3000 + epochs
    import pytest

    with pytest.raises(ValueError, match="`train_steps`"):
        step_plan(0, 10)


@pytest.mark.parametrize("name", ["bert-classify", "bert-pretrain"])
def test_the_learning_rate_decays_over_the_epochs_asked_for(name):
    # The schedule once spanned the recipe's own epochs: with `--epochs 6` the
    # learning rate was 0 after the first epoch and the quick classifier never
    # left ln(3).
    require_dataset("semeval2017-4a" if name == "bert-classify" else "wikitext-2")
    run = recipes.get(name).build(recipes.Options(quick=True, epochs=3))
    steps = run.epochs * (run.steps_per_epoch or len(run.train))
    schedule = run.model.optimizer._learning_rate
    assert run.epochs == 3
    assert float(schedule(steps - 1)) > 0.0 and float(schedule(steps)) == 0.0
