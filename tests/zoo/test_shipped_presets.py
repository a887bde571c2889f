"""Every preset in zoo/presets: its card's slice figure reproduces, and the size limits hold.

`python -m zoo ship` recorded, for each preset, the metrics of
`python -m zoo evaluate NAME --limit N` (the first N test examples, or tokens
for a language model) measured with the weights as shipped. Running that
command again must give the same figures: a change to the weights, the
loading, the model code or the evaluation fails here.
"""

import os

import pytest

import zoo
from zoo import cli, presets, shipping

from tests.conftest import require_dataset

SHIPPED = sorted(zoo.list())

# The datasets each recipe's evaluation reads (besides generated or bundled data).
DATASETS = {
    "classifier": [],
    "translation-dates-rnn": [],
    "translation-dates-transformer": [],
    "vit-digits": [],  # scikit-learn's bundled copy
    "tweets-sentiment": ["semeval2017-4a", "tweeteval"],
    "translation-anki-transformer": ["spa-eng"],
    "translation-anki-rnn": ["spa-eng"],
    "vit-fashion-mnist": ["fashion-mnist"],
    "vit-cifar10": ["cifar10"],
    "gpt-wikitext2": ["wikitext-2"],
}


def metadata_of(name):
    return presets.verify(presets.resolve(name))


def test_presets_are_shipped():
    assert {"dates-rnn", "dates-transformer", "tweets-sentiment", "vit-tiny-digits",
            "classifier-first-colour"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_evaluate_with_limit_reproduces_the_recorded_slice(name, capsys):
    metadata = metadata_of(name)
    recipe = metadata["recipe"]
    assert recipe in DATASETS, f"add the datasets that {recipe!r} evaluates on to DATASETS"
    for dataset in DATASETS[recipe]:
        require_dataset(dataset)
    recorded = metadata["slice"]
    assert recorded["command"] == f"python -m zoo evaluate {name} --limit {recorded['limit']}"

    assert cli.main(["evaluate", name, "--limit", str(recorded["limit"])]) == 0
    printed = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    assert set(printed) == set(recorded["metrics"])
    for metric, value in recorded["metrics"].items():
        assert float(printed[metric]) == pytest.approx(value, rel=1e-4, abs=1e-5), metric


@pytest.mark.parametrize("name", SHIPPED)
def test_preset_is_stored_as_float16_with_both_measurements_on_its_card(name):
    metadata = metadata_of(name)
    assert metadata["weights_dtype"] == "float16"
    check = metadata["stored_as_float16"]
    assert set(check["float16"]) == set(check["float32"]) and check["float16"]
    with open(os.path.join(presets.resolve(name), presets.CARD_FILE), encoding="utf-8") as f:
        card = f.read()
    for section in ("## Input", "## Metrics", "## Stored as float16 vs float32", "## Slice check",
                    "- Data: ", "- Trained with: ", "- Training time: "):
        assert section in card, section
    assert metadata["slice"]["command"] in card


def test_each_preset_and_all_together_fit_the_size_limits():
    sizes = {name: shipping.folder_bytes(presets.resolve(name)) for name in SHIPPED}
    assert shipping.check_sizes() == sizes
    assert max(sizes.values()) <= 15_000_000
    assert sum(sizes.values()) <= 60_000_000
    # nothing else in zoo/presets (a scratch folder of an interrupted ship, say)
    assert sorted(os.listdir(presets.SHIPPED_DIR)) == SHIPPED
