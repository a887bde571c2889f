"""gpt-wikitext2: a quick training run through the CLI, evaluation and generate."""

import math
import os
import subprocess
import sys

import numpy as np

import zoo
from tests.conftest import require_shared_data
from zoo import recipes
from zoo.gpt import GPT
from zoo.gpt.recipes import perplexity

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def run_zoo(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


def test_perplexity_is_exp_of_the_mean_cross_entropy():
    model = GPT(12, 1, 2, 8, 16, max_sequence_length=5)
    stream = np.random.default_rng(0).integers(0, 12, 23)
    x = np.stack([stream[i : i + 5] for i in (0, 5, 10, 15)])
    y = np.stack([stream[i + 1 : i + 6] for i in (0, 5, 10, 15)])
    logits = np.asarray(model(x), "float64")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = math.exp(-np.take_along_axis(log_probs, y[..., None], -1).mean())
    assert math.isclose(perplexity(model, stream, sequence_length=5, batch_size=3, stride=5),
                        expected, rel_tol=1e-4)


def test_overlapping_windows_predict_every_token_once_with_context():
    model = GPT(12, 1, 2, 8, 16, max_sequence_length=6)
    stream = np.random.default_rng(1).integers(0, 12, 17)
    # Windows of 6 tokens, 2 apart, start at 0, 2, 4, 6, 8, 10 (the last one
    # reads tokens 10..15 and predicts 11..16). The first window predicts
    # tokens 1..6, each later one only its last 2 predictions.
    log_probs = {}
    for start in range(0, 11, 2):
        logits = np.asarray(model(stream[None, start : start + 6]), "float64")[0]
        logits = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        first = 0 if start == 0 else 4
        for i in range(first, 6):
            target = start + i + 1
            assert target not in log_probs  # predicted once
            log_probs[target] = logits[i, stream[target]]
    assert sorted(log_probs) == list(range(1, 17))
    expected = math.exp(-np.mean(list(log_probs.values())))
    assert math.isclose(perplexity(model, stream, sequence_length=6, batch_size=4, stride=2),
                        expected, rel_tol=1e-4)


def test_the_recipe_is_registered():
    assert recipes.get("gpt-wikitext2").preset == "gpt-wikitext2"


def test_quick_train_then_generate_from_the_command_line(tmp_path):
    require_shared_data("wikitext-2/train.txt")
    trained = run_zoo("train", "gpt-wikitext2", "--quick", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "Test metrics: test_perplexity = " in trained.stdout
    figure = float(trained.stdout.split("test_perplexity = ")[1].split()[0])
    preset = tmp_path / "runs" / "gpt-wikitext2"
    model = zoo.load(str(preset))
    assert 1 < figure < model.vocabulary_size  # better than uniform after one epoch

    generated = run_zoo("generate", str(preset), "the game", "--max-new-tokens", "6",
                        "--sampler", "greedy", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr[-3000:]
    line = generated.stdout.strip().splitlines()[-1]
    assert line == model.generate(["the game"], max_new_tokens=6)[0]

    not_a_language_model = run_zoo("generate", "dates-rnn", "x", cwd=tmp_path)
    assert not_a_language_model.returncode == 2
    assert "has no generate()" in not_a_language_model.stderr
