"""The training loop behind `python -m zoo train`, the same for every recipe.

    policy  -> distribution -> seed -> its scope -> recipe builds model and data
            -> model.fit with callbacks -> Run.evaluate -> zoo.save

Callbacks: Keras's progress bar, `BackupAndRestore` (a checkpoint of the
weights *and* the optimizer state at the end of every epoch, with the epoch
number), the layers' random-seed states beside it (so dropout after a resume
draws the same masks as an uninterrupted run), TensorBoard logs (TensorFlow
backend) and `EarlyStopping` when the recipe sets `patience`.

Resuming gives the same weights as an uninterrupted run: `(x, y)` arrays are
batched by `ShuffledBatches`, whose order in epoch `e` depends only on
`(seed, e)`, never on how many epochs this process has run.

The preset goes to `output` (default `runs/<recipe>`); training state to
`workdir` (default `runs/<recipe>-training`): `checkpoint/` (deleted once
training finishes) and `logs/` (TensorBoard).

Example, training the embedded classifier for one quick epoch:

>>> import tempfile
>>> from zoo import recipes, training
>>> result = training.train("classifier", recipes.Options(epochs=1, quick=True),
...                         workdir=tempfile.mkdtemp(), verbose=0)
>>> sorted(result.metrics)
['accuracy']
"""

import dataclasses
import json
import math
import os
import shutil
import time
from typing import Any

import keras
import numpy as np

from zoo import distribution as distribution_lib
from zoo import presets
from zoo import recipes

MIXED_PRECISION_POLICIES = {
    "off": "float32",
    "float16": "mixed_float16",  # compile() wraps the optimizer in a LossScaleOptimizer
    "bfloat16": "mixed_bfloat16",  # same exponent range as float32: no loss scaling
}


@dataclasses.dataclass
class Result:
    """What `train` hands back."""

    model: Any
    metrics: dict
    preset: str  # the preset folder
    history: Any  # the keras.callbacks.History of model.fit


def train(
    name,
    options=None,
    *,
    output=None,
    workdir=None,
    resume=False,
    distribution="none",
    callbacks=(),
    command=None,
    verbose="auto",
):
    """Train recipe `name`, evaluate it and save a preset.

    Args:
        name: a registered recipe (see `zoo.recipes.names()`).
        options: `zoo.recipes.Options`; defaults everywhere when None.
        output: the preset folder; default `runs/<name>`.
        workdir: checkpoints and TensorBoard logs; default `runs/<name>-training`.
        resume: continue from the checkpoint in `workdir` if there is one.
            Without it an old checkpoint is deleted and training starts anew.
        distribution: "none"; "data": data parallel over every device
            (`keras.distribution.DataParallel` on JAX,
            `tf.distribute.MirroredStrategy` on TensorFlow); "model": the
            large kernels split over every device (JAX,
            `keras.distribution.ModelParallel`). See `zoo.distribution`.
        callbacks: extra Keras callbacks for `model.fit`.
        command: the command line, recorded in the preset's metadata.
        verbose: passed to `model.fit`.

    Returns:
        A `Result` with the trained model, its metrics and the preset folder.
    """
    recipe = recipes.get(name)
    options = options or recipes.Options()
    if options.mixed_precision not in MIXED_PRECISION_POLICIES:
        raise ValueError(
            f"`mixed_precision` must be one of {tuple(MIXED_PRECISION_POLICIES)}; "
            f"received {options.mixed_precision!r}."
        )
    output = output or os.path.join("runs", name)
    workdir = workdir or os.path.join("runs", f"{name}-training")
    checkpoint_dir = os.path.join(workdir, "checkpoint")
    done_epochs = checkpoint_epoch(checkpoint_dir) if resume else None
    if resume and done_epochs is None and verbose:
        print(f"No checkpoint in {checkpoint_dir}: training from the start.")
    if not resume and os.path.isdir(checkpoint_dir):
        shutil.rmtree(checkpoint_dir)

    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(MIXED_PRECISION_POLICIES[options.mixed_precision])
    try:
        devices = distribution_lib.make_distribution(distribution)  # first: multi-host setup
        keras.utils.set_random_seed(options.seed)
        with distribution_lib.scope(devices):
            run = recipe.build(options)
            model = run.model
            if distribution == "model" and not distribution_lib.sharded_variables(model):
                raise ValueError(
                    f"`distribution` 'model' splits transformer kernels, and recipe {name!r} "
                    f"builds a {type(model).__name__} with none; use 'data'."
                )
            if options.jit is not None:
                model.jit_compile = options.jit
            train_data, fit_callbacks = _training_data(run, options)
            if keras.distribution.distribution() is not None and isinstance(train_data, ShuffledBatches):
                devices.auto_shard_dataset = False  # ShuffledBatches yields this process's rows
            fit_callbacks += [
                keras.callbacks.BackupAndRestore(checkpoint_dir),
                SeedStateCheckpoint(checkpoint_dir),
            ]
            if keras.backend.backend() == "tensorflow":
                fit_callbacks.append(keras.callbacks.TensorBoard(os.path.join(workdir, "logs")))
            if run.patience is not None and run.validation is not None:
                fit_callbacks.append(
                    keras.callbacks.EarlyStopping(
                        monitor=run.monitor, patience=run.patience, restore_best_weights=True
                    )
                )
            epochs = options.epochs or run.epochs
            if verbose:
                print(_plan(name, run, options, train_data, epochs))
                if done_epochs is not None:
                    print(f"Resuming from the checkpoint in {checkpoint_dir}: {done_epochs} of {epochs} "
                          f"epochs done, continuing at epoch {done_epochs + 1}.")
            started = time.perf_counter()
            history = model.fit(
                train_data,
                validation_data=run.validation,
                validation_batch_size=_batch_size(run, options) if isinstance(run.validation, tuple) else None,
                epochs=epochs,
                steps_per_epoch=run.steps_per_epoch,
                # ShuffledBatches and the recipes' tf.data pipelines shuffle themselves
                # (Keras warns when asked to shuffle a tf.data.Dataset).
                shuffle=False,
                callbacks=[*fit_callbacks, *run.callbacks, *callbacks],
                verbose=verbose,
            )
            seconds = time.perf_counter() - started
            metrics = evaluate(run, model)
        preset = presets.save(
            model, output, metrics=metrics, command=command, data=run.data, recipe=name
        )
        metadata = presets.verify(preset)
        metadata["training_time"] = training_time(seconds, done_epochs)
        presets.write_metadata(preset, metadata)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    return Result(model=model, metrics=metrics, preset=preset, history=history)


def training_time(seconds, resumed_at=None):
    """`model.fit`'s wall time and where it ran, for the model card.

    >>> from zoo.training import training_time
    >>> training_time(750.0).split(" (")[0]
    '12.5 min'
    """
    if keras.backend.backend() == "torch":  # Keras has no device list for torch
        devices = [str(keras.ops.zeros(()).device)]  # where a new tensor lives: "cpu", "cuda:0"
    else:
        devices = keras.distribution.list_devices()
    if all(device.lower().startswith("cpu") for device in devices):
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        where = f"{cores} CPU core{'s' if cores != 1 else ''}"
    else:
        where = ", ".join(device for device in devices if not device.lower().startswith("cpu"))
    text = f"{seconds / 60:.1f} min ({where}, {keras.backend.backend()} backend)"
    if resumed_at:
        text += f"; resumed after epoch {resumed_at}, so the epochs before are not counted"
    return text


def checkpoint_epoch(checkpoint_dir):
    """Epochs finished in the `BackupAndRestore` checkpoint in `checkpoint_dir`, or None."""
    path = os.path.join(checkpoint_dir, "training_metadata.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return int(json.load(f)["epoch"])


def _steps_per_epoch(run, train_data):
    if run.steps_per_epoch:
        return run.steps_per_epoch
    if hasattr(train_data, "__len__"):
        return len(train_data)
    cardinality = getattr(train_data, "cardinality", None)  # a tf.data.Dataset
    if cardinality is not None:
        count = int(cardinality())
        return count if count > 0 else None
    return None


def _plan(name, run, options, train_data, epochs):
    """How long training will run, in one line: epochs x steps, or the time budget."""
    steps = _steps_per_epoch(run, train_data)
    per_epoch = f" x {steps} steps = {epochs * steps:,} steps" if steps else ""
    stops = ", or fewer if the validation loss stops improving" if (
        run.patience is not None and run.validation is not None) else ""
    if run.minutes:
        return (f"Training {name} for {run.minutes:g} minutes of wall-clock time "
                f"(a budget; {steps or '?'} steps per epoch).")
    return f"Training {name}: {epochs} epochs{per_epoch}{stops}."


def evaluate(run, model, limit=None):
    """`run.evaluate(model)`, or Keras's `evaluate` on the validation data.

    `limit`: score only the first `limit` test examples (tokens for a
    language model), the same ones every time.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"`limit` must be a positive integer or None; received {limit!r}.")
    if run.evaluate is not None:
        metrics = run.evaluate(model) if limit is None else run.evaluate(model, limit=limit)
        return {k: presets._plain_number(v) for k, v in metrics.items()}
    if run.validation is None:
        return {}
    if model is not run.model:  # e.g. a loaded preset: reuse the recipe's compiled model
        run.model.set_weights(model.get_weights())
    validation = run.validation
    if limit is not None:
        if not isinstance(validation, tuple):
            raise ValueError("`limit` needs validation data as (x, y) arrays; this recipe's is a dataset.")
        validation = keras.tree.map_structure(lambda array: array[:limit], validation)
    logs = run.model.evaluate(validation, return_dict=True, verbose=0)
    return {k: float(v) for k, v in logs.items()}


def evaluator(name, options=None):
    """`evaluate(model, limit=None) -> metrics` of recipe `name`: what
    `python -m zoo evaluate` runs on a loaded preset.

    It is the recipe's `evaluation` when it registered one (test data only),
    otherwise `evaluate(run, model, limit)` on the recipe's built `Run`.
    """
    recipe = recipes.get(name)
    options = options or recipes.Options()
    if recipe.evaluation is not None:
        run = recipes.Run(model=None, train=None, evaluate=recipe.evaluation(options))
    else:
        run = recipe.build(options)
    return lambda model, limit=None: evaluate(run, model, limit)


def _batch_size(run, options):
    return options.batch_size or run.batch_size


def _training_data(run, options):
    """`run.train` ready for fit, and the callbacks it needs."""
    if not isinstance(run.train, tuple):
        return run.train, []  # a tf.data.Dataset or PyDataset, batched by the recipe
    batches = ShuffledBatches(run.train, _batch_size(run, options), seed=options.seed)
    return batches, [batches.epoch_callback()]


class ShuffledBatches(keras.utils.PyDataset):
    """Batches of `(x, y)` arrays, in an order that depends only on (seed, epoch).

    Keras's own shuffling draws a new order from a random state that lives
    in the process, so a run resumed at epoch 3 would see a different order
    from an uninterrupted one; here epoch `e` is always shuffled the same way.

    >>> import numpy as np
    >>> from zoo.training import ShuffledBatches
    >>> batches = ShuffledBatches((np.arange(10), np.arange(10)), batch_size=4, seed=0)
    >>> len(batches), batches[0][0].shape
    (3, (4,))
    """

    def __init__(self, arrays, batch_size, seed=0):
        super().__init__()
        self.arrays = arrays
        self.batch_size = batch_size
        self.seed = seed
        self.size = len(keras.tree.flatten(arrays)[0])
        self.shard = distribution_lib.data_shard()  # this process's block of each batch
        self.set_epoch(0)

    def set_epoch(self, epoch):
        self.order = np.random.default_rng([self.seed, epoch]).permutation(self.size)

    def epoch_callback(self):
        """A callback that reshuffles at the start of each epoch."""
        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: self.set_epoch(epoch))

    def __len__(self):
        return math.ceil(self.size / self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        index, count = self.shard
        rows = np.array_split(rows, count)[index]  # all rows, unless several hosts share the batch
        return keras.tree.map_structure(lambda array: array[rows], self.arrays)


class SeedStateCheckpoint(keras.callbacks.Callback):
    """Save the layers' random-seed states beside the `BackupAndRestore` checkpoint.

    `save_weights` skips the `SeedGenerator` states (dropout, noise), so a
    resumed run would draw the dropout masks of epoch 1 again; this callback
    stores them at each epoch's end and restores them when training starts.
    Put it after `BackupAndRestore`, which deletes the folder when training ends.
    """

    def __init__(self, directory):
        super().__init__()
        self.path = os.path.join(directory, "seed_states.npz")

    def _seed_states(self):
        weights = {id(w) for w in self.model.weights}
        return [v for v in self.model.variables if id(v) not in weights]

    def on_train_begin(self, logs=None):
        if os.path.exists(self.path):
            with np.load(self.path) as saved:
                for i, variable in enumerate(self._seed_states()):
                    variable.assign(saved[f"state_{i}"])

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        states = {f"state_{i}": keras.ops.convert_to_numpy(v) for i, v in enumerate(self._seed_states())}
        np.savez(self.path, **states)

