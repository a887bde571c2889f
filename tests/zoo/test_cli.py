"""python -m zoo: list, train, evaluate, classify, and one-line errors."""

import os
import subprocess
import sys

import keras
import pytest

import zoo
from zoo import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_zoo(*args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "zoo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_list_and_a_quick_train_exit_0(tmp_path):
    listed = run_zoo("list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert "classifier" in listed.stdout and "Shipped presets" in listed.stdout

    trained = run_zoo("train", "classifier", "--quick", "--epochs", "1", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "Test metrics: accuracy = " in trained.stdout
    assert "8/8" in trained.stdout  # the Keras progress bar: 256 examples / batch 32
    preset = tmp_path / "runs" / "classifier"
    zoo.load(str(preset))  # the default output, hashes verified
    metadata = (preset / "metadata.json").read_text()
    assert "python -m zoo train classifier --quick --epochs 1" in metadata
    assert not (tmp_path / "runs" / "classifier-training" / "checkpoint").exists()
    if keras.backend.backend() == "tensorflow":  # TensorBoard logs: a TensorFlow callback
        assert any((tmp_path / "runs" / "classifier-training" / "logs").iterdir())


def test_bad_model_name_is_one_line_without_traceback(tmp_path):
    done = run_zoo("train", "no-such-model", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("zoo: error: unknown model 'no-such-model'")
    assert "classifier" in last_line  # names what exists


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "classifier", "--data", "/no/such/file.tsv"], "--data: no such file or folder: /no/such/file.tsv"),
        (["train", "no-such-model"], "unknown model 'no-such-model'"),
        (["evaluate", "/no/such/preset"], "no preset '/no/such/preset'"),
        (["classify", "/no/such/preset", "hello"], "no preset '/no/such/preset'"),
        (["train"], "the following arguments are required: model"),
        (["train", "classifier", "--mixed-precision", "float8"], "invalid choice: 'float8'"),
    ],
)
def test_mistakes_give_one_line_and_exit_code_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("zoo: error: ")
    assert message in err


def test_classify_and_evaluate_a_preset(tmp_path, capsys):
    from zoo.classifier import EncoderClassifier, data

    model = EncoderClassifier(list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS),
                              sequence_length=12, embedding_dim=8, intermediate_dim=16)
    folder = str(tmp_path / "preset")
    zoo.save(model, folder, recipe="classifier")
    texts = ["the red cat saw a blue dog", "green then yellow"]
    assert cli.main(["classify", folder, *texts]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [f"{t}\t{label}" for t, label in zip(texts, model.classify(texts))]

    assert cli.main(["evaluate", folder, "--quick"]) == 0
    accuracy = float(capsys.readouterr().out.strip().split("accuracy: ")[1])
    assert 0.0 <= accuracy <= 1.0

    assert cli.main(["translate", folder, "hola"]) == 2
    assert "is a EncoderClassifier, which has no translate()" in capsys.readouterr().err


def run_zoo_as_a_user(*args, python_flags=()):
    """`python -m zoo ARGS` with the environment a user has (no TF_CPP_MIN_LOG_LEVEL)."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return subprocess.run([sys.executable, *python_flags, "-m", "zoo", *args], env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("argv, exit_code", [(["--help"], 0), (["train"], 2), (["frobnicate"], 2),
                                             (["classify", "--help"], 0)])
def test_help_and_usage_mistakes_answer_fast_without_tensorflow(argv, exit_code):
    import time

    started = time.perf_counter()
    done = run_zoo_as_a_user(*argv, python_flags=["-X", "importtime"])
    seconds = time.perf_counter() - started
    assert done.returncode == exit_code, done.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")]
    assert "zoo.cli" in imported  # -X importtime listed the imports
    assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "keras", "jax", "torch")]
    assert seconds < 3, seconds
    if exit_code == 2:
        assert done.stderr.splitlines()[-1].startswith("zoo: error: ")


def test_commands_print_no_tensorflow_log_lines():
    import re

    for argv in (["list"], ["classify", "tweets-sentiment", "great"]):
        done = run_zoo_as_a_user(*argv)
        assert done.returncode == 0, done.stderr[-2000:]
        noise = [line for line in done.stderr.splitlines()
                 if re.match(r"^[IWE]0000", line) or "absl::InitializeLog" in line]
        assert noise == [], (argv, noise)
    assert done.stdout == "great\tpositive\n"
    assert done.stderr == ""


def test_demo_quick_runs_the_demo_path(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "zoo", "demo", "--quick"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Training for 6 seconds of wall-clock time" in done.stdout
    assert "Epoch 1/" not in done.stdout  # the budget, not an epoch count, decides
    assert "Thursday, March 3rd, 1979  ->  " in done.stdout
    assert (tmp_path / "runs" / "demo" / "dates_alignment.png").stat().st_size > 1000
