"""zoo.training: resume after an interruption, mixed precision, the fit loop."""

import json
import os

import keras
import numpy as np
import pytest

from zoo import recipes, training
from zoo.classifier import EncoderClassifier, data


class Interrupted(Exception):
    """Stands for a crash or Ctrl-C in the middle of training."""


class InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise Interrupted(f"stopped after epoch {epoch + 1}")


def quick_options():
    # dropout > 0, so a resume must also restore the random-seed states
    return recipes.Options(epochs=3, quick=True, seed=3, extra={"dropout": 0.2})


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    uninterrupted = training.train(
        "classifier", quick_options(), workdir=str(tmp_path / "a-work"),
        output=str(tmp_path / "a"), verbose=0,
    )

    workdir = str(tmp_path / "b-work")
    with pytest.raises(Interrupted):
        training.train("classifier", quick_options(), workdir=workdir, output=str(tmp_path / "b"),
                       callbacks=[InterruptAfter(2)], verbose=0)
    checkpoint = os.path.join(workdir, "checkpoint")
    with open(os.path.join(checkpoint, "training_metadata.json")) as f:
        assert json.load(f)["epoch"] == 2
    assert os.path.exists(os.path.join(checkpoint, "seed_states.npz"))

    resumed = training.train("classifier", quick_options(), workdir=workdir,
                             output=str(tmp_path / "b"), resume=True, verbose=0)
    assert resumed.history.epoch == [2]  # only the missing epoch ran
    np.testing.assert_allclose(resumed.history.history["loss"],
                               uninterrupted.history.history["loss"][2:], rtol=0, atol=1e-6)
    for mine, reference in zip(resumed.model.get_weights(), uninterrupted.model.get_weights()):
        np.testing.assert_array_equal(mine, reference)
    # the optimizer state came back too: Adam's step counter counts all 3 epochs
    assert int(resumed.model.optimizer.iterations) == 3 * 8
    assert not os.path.exists(checkpoint)  # deleted once training finished
    if keras.backend.backend() == "tensorflow":
        assert os.listdir(os.path.join(workdir, "logs"))  # TensorBoard wrote its logs


@pytest.mark.parametrize("mode, policy", [("float16", "mixed_float16"), ("bfloat16", "mixed_bfloat16")])
def test_mixed_precision_steps_give_finite_falling_losses(mode, policy):
    keras.mixed_precision.set_global_policy(training.MIXED_PRECISION_POLICIES[mode])
    assert training.MIXED_PRECISION_POLICIES[mode] == policy
    model = EncoderClassifier(list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS),
                              sequence_length=12, embedding_dim=16, intermediate_dim=32)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    # Keras wraps the optimizer for float16 (loss scaling) and only for float16
    scaled = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (mode == "float16")
    assert model.get_layer("encoder_block_0").compute_dtype == mode
    assert all(v.dtype == "float32" for v in model.trainable_variables)

    texts, labels = data.first_colour_task(64, seed=1)
    x = model.tokenize(texts)
    losses = [float(model.train_on_batch(x, labels)) for _ in range(8)]
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < 0.9 * losses[0], losses
    if scaled:
        assert float(model.optimizer.dynamic_scale) > 1.0


def test_train_sets_and_restores_the_policy_and_ignores_old_checkpoints(tmp_path):
    old_checkpoint = tmp_path / "w" / "checkpoint"
    old_checkpoint.mkdir(parents=True)
    (old_checkpoint / "training_metadata.json").write_text('{"epoch": 5, "batch": 0}')
    result = training.train("classifier", recipes.Options(epochs=1, quick=True, mixed_precision="bfloat16"),
                            workdir=str(tmp_path / "w"), output=str(tmp_path / "p"), verbose=0)
    assert result.history.epoch == [0]  # no --resume: started from scratch
    assert result.model.get_layer("encoder_block_0").compute_dtype == "bfloat16"
    assert np.isfinite(result.history.history["loss"][0])
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(ValueError, match=r"`mixed_precision` must be one of .* received 'float8'"):
        training.train("classifier", recipes.Options(mixed_precision="float8"), workdir=str(tmp_path))


def test_shuffled_batches_depend_only_on_seed_and_epoch():
    x = np.arange(10)
    a = training.ShuffledBatches((x, x), batch_size=4, seed=1)
    b = training.ShuffledBatches((x, x), batch_size=4, seed=1)
    a.set_epoch(0), a.set_epoch(2)  # a went through epochs 0..2, b jumps to 2
    b.set_epoch(2)
    assert [a[i][0].tolist() for i in range(3)] == [b[i][0].tolist() for i in range(3)]
    assert sorted(np.concatenate([a[i][0] for i in range(len(a))])) == list(range(10))
    b.set_epoch(3)
    assert b[0][0].tolist() != a[0][0].tolist()
    assert [len(a[i][1]) for i in range(len(a))] == [4, 4, 2]


def test_train_says_how_long_it_runs_and_where_it_resumes(tmp_path, capsys):
    workdir = str(tmp_path / "work")
    with pytest.raises(Interrupted):
        training.train("classifier", quick_options(), workdir=workdir, output=str(tmp_path / "p"),
                       callbacks=[InterruptAfter(1)], verbose=2)
    assert "Training classifier: 3 epochs x 8 steps = 24 steps." in capsys.readouterr().out
    training.train("classifier", quick_options(), workdir=workdir, output=str(tmp_path / "p"),
                   resume=True, verbose=2)
    printed = capsys.readouterr().out
    checkpoint = os.path.join(workdir, "checkpoint")
    assert (f"Resuming from the checkpoint in {checkpoint}: 1 of 3 epochs done, "
            "continuing at epoch 2.") in printed
    assert "Epoch 2/3" in printed and "Epoch 1/3" not in printed
