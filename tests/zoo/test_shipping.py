"""python -m zoo ship and evaluate --limit, on a classifier trained for one quick epoch."""

import json
import os

import numpy as np
import pytest

import zoo
from zoo import cli, presets, recipes, shipping, training


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """What `python -m zoo train classifier --quick --output RUN` leaves behind."""
    root = tmp_path_factory.mktemp("ship")
    result = training.train(
        "classifier", recipes.Options(quick=True, epochs=1), output=str(root / "run" / "tiny-colours"),
        workdir=str(root / "work"), command="python -m zoo train classifier --quick", verbose=0,
    )
    return result.preset


@pytest.fixture(scope="module")
def shipped(run_folder, tmp_path_factory):
    presets_dir = str(tmp_path_factory.mktemp("presets"))
    metadata = shipping.ship(run_folder, presets_dir=presets_dir, limit=50, verbose=False)
    return os.path.join(presets_dir, "tiny-colours"), metadata


def read_metadata(folder):
    with open(os.path.join(folder, presets.METADATA_FILE)) as f:
        return json.load(f)


def test_train_records_the_training_time(run_folder):
    time = read_metadata(run_folder)["training_time"]
    assert time.split(" ")[1] == "min" and float(time.split(" ")[0]) >= 0.0
    assert "tensorflow backend" in time or "jax backend" in time or "torch backend" in time


def test_ship_writes_float16_weights_and_keeps_the_run_record(run_folder, shipped):
    folder, metadata = shipped
    run = read_metadata(run_folder)
    assert read_metadata(folder) == metadata
    assert metadata["weights_dtype"] == "float16" and run["weights_dtype"] == "float32"
    for kept in ("command", "data", "date", "versions", "metrics", "recipe", "training_time"):
        assert metadata[kept] == run[kept], kept
    hashed = sum(os.path.getsize(os.path.join(folder, path)) for path in metadata["files"])
    assert metadata["size_bytes"] == hashed < shipping.folder_bytes(folder) < hashed + 20_000
    assert sorted(os.listdir(os.path.dirname(folder))) == ["tiny-colours"]  # no scratch left


def test_ship_measures_float16_and_float32_on_the_full_test_set(run_folder, shipped):
    folder, metadata = shipped
    evaluate = training.evaluator("classifier")
    check = metadata["stored_as_float16"]
    assert check["float32"] == evaluate(zoo.load(run_folder))
    assert check["float16"] == evaluate(zoo.load(folder))
    assert set(check["float16"]) == {"accuracy"}


def test_recorded_slice_is_what_evaluate_limit_prints(shipped, capsys):
    folder, metadata = shipped
    assert metadata["slice"]["limit"] == 50
    assert metadata["slice"]["command"] == "python -m zoo evaluate tiny-colours --limit 50"
    assert cli.main(["evaluate", folder, "--limit", "50"]) == 0
    printed = dict(line.split(": ") for line in capsys.readouterr().out.strip().splitlines())
    assert float(printed["accuracy"]) == pytest.approx(metadata["slice"]["metrics"]["accuracy"], abs=1e-6)
    # 50 sentences: accuracy is a multiple of 1/50
    assert metadata["slice"]["metrics"]["accuracy"] * 50 == pytest.approx(
        round(metadata["slice"]["metrics"]["accuracy"] * 50))


def test_limit_scores_exactly_the_first_examples(shipped):
    """The slice is the first N of the recipe's test split, independently recomputed."""
    from zoo.classifier import data

    folder, metadata = shipped
    model = zoo.load(folder)
    texts, labels = data.first_colour_task(1000, seed=2)  # the recipe's test split (seed + 2)
    predicted = np.argmax(model.predict(model.tokenize(texts[:50]), verbose=0), axis=-1)
    assert float(np.mean(predicted == labels[:50])) == metadata["slice"]["metrics"]["accuracy"]


def test_card_states_storage_slice_and_training_time(shipped):
    folder, metadata = shipped
    with open(os.path.join(folder, presets.CARD_FILE)) as f:
        card = f.read()
    assert "## Stored as float16 vs float32" in card
    assert "| accuracy |" in card.split("## Stored as float16 vs float32")[1]
    assert "`python -m zoo evaluate tiny-colours --limit 50` (the first 50 examples" in card
    assert f"- Training time: {metadata['training_time']}" in card
    assert "## Input" in card and "`classify(texts)`" in card


def test_ship_refuses_a_float16_source(shipped, tmp_path):
    with pytest.raises(ValueError, match="already stores float16 weights"):
        shipping.ship(shipped[0], presets_dir=str(tmp_path), verbose=False)


def test_ship_refuses_a_preset_over_the_size_limit_and_writes_nothing(run_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(shipping, "MAX_PRESET_BYTES", 10_000)
    with pytest.raises(ValueError, match=r"takes 0\.\d+ MB with float16 weights; .* at most 0 MB"):
        shipping.ship(run_folder, "too-big", presets_dir=str(tmp_path), verbose=False)
    assert os.listdir(tmp_path) == []


def test_ship_command_line_with_name_and_training_time(run_folder, tmp_path, capsys):
    argv = ["ship", run_folder, "--name", "colours", "--limit", "20", "--presets-dir", str(tmp_path),
            "--training-time", "3 s on 1 CPU core"]
    assert cli.main(argv) == 0
    assert "Shipped" in capsys.readouterr().out
    metadata = read_metadata(str(tmp_path / "colours"))
    assert metadata["name"] == "colours" and metadata["training_time"] == "3 s on 1 CPU core"
    assert metadata["slice"]["limit"] == 20


def test_ship_replaces_an_earlier_version_but_not_another_folder(run_folder, tmp_path):
    shipping.ship(run_folder, "colours", presets_dir=str(tmp_path), limit=10, verbose=False)
    shipping.ship(run_folder, "colours", presets_dir=str(tmp_path), limit=20, verbose=False)
    assert read_metadata(str(tmp_path / "colours"))["slice"]["limit"] == 20
    os.makedirs(tmp_path / "notes")
    with pytest.raises(ValueError, match="exists and is not a preset folder"):
        shipping.ship(run_folder, "notes", presets_dir=str(tmp_path), limit=10, verbose=False)


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_evaluate_refuses_a_limit_that_is_not_a_positive_integer(limit, capsys):
    assert cli.main(["evaluate", "classifier-first-colour", "--limit", limit]) == 2
    assert "expected a positive integer" in capsys.readouterr().err


def test_check_sizes_measures_every_preset_and_refuses_past_the_limits(shipped, monkeypatch):
    presets_dir = os.path.dirname(shipped[0])
    assert shipping.check_sizes(presets_dir) == {"tiny-colours": shipping.folder_bytes(shipped[0])}
    monkeypatch.setattr(shipping, "MAX_SHIPPED_BYTES", 1000)
    with pytest.raises(ValueError, match=r"take 0\.\d MB together"):
        shipping.check_sizes(presets_dir)
    monkeypatch.setattr(shipping, "MAX_PRESET_BYTES", 1000)
    with pytest.raises(ValueError, match="presets over 0 MB: {'tiny-colours'"):
        shipping.check_sizes(presets_dir)


def test_training_evaluate_refuses_a_bad_limit():
    run = recipes.Run(model=None, train=None, evaluate=lambda model, limit=None: {"n": limit})
    assert training.evaluate(run, None, limit=3) == {"n": 3}
    for limit in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="`limit` must be a positive integer or None"):
            training.evaluate(run, None, limit=limit)
