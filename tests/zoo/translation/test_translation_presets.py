"""The shipped dates presets load by name and translate test dates."""

import pytest

import zoo
from zoo import recipes
from zoo.translation import data

EXAMPLE = "Thursday, March 3rd, 1979"


@pytest.mark.parametrize("name", ["dates-transformer", "dates-rnn"])
def test_shipped_dates_presets_translate_test_dates(name):
    model = zoo.load(name)
    assert model.translate([EXAMPLE]) == ["1979-03-03"]
    test = data.load_dates(seed=0).test[:200]  # never seen in training
    predictions = model.translate([source for source, _ in test])
    right = sum(p == target for p, (_, target) in zip(predictions, test))
    assert right / len(test) >= 0.99
    assert model.translate([EXAMPLE], method="beam", beam_size=4) == ["1979-03-03"]


def test_translation_recipes_are_registered():
    names = recipes.names()
    for name in ("translation-dates-rnn", "translation-dates-transformer",
                 "translation-anki-transformer", "translation-anki-rnn"):
        assert name in names
    assert recipes.get("translation-dates-transformer").preset == "dates-transformer"
