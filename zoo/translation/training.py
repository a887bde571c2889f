"""Loss, metric, batching and scores for the translators.

Padding (id 0) in the targets never counts: the loss and the accuracy are
averages over real target tokens only.

>>> import numpy as np
>>> from zoo.translation.training import MaskedCrossEntropy
>>> y_true = np.array([[4, 0]])                        # one token, one pad
>>> logits = np.log(np.array([[[.1, .1, .1, .1, .6], [.2, .2, .2, .2, .2]]], "float32"))
>>> round(float(MaskedCrossEntropy()(y_true, logits)), 4)   # -log(0.6)
0.5108
"""

import time

import keras
import numpy as np
from keras import ops

from zoo.batching import bucketed_batches
from zoo.translation.tokenizers import PAD_ID


@keras.saving.register_keras_serializable(package="zoo")
class MaskedCrossEntropy(keras.losses.Loss):
    """Cross-entropy from logits, averaged over non-padding tokens.

    With `label_smoothing=e` the target distribution is `1 - e` on the right
    token plus `e` spread evenly over the vocabulary (Szegedy et al., 2016;
    Vaswani et al. used e = 0.1).
    """

    def __init__(self, label_smoothing=0.0, name="masked_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")  # (B, T)
        log_probs = ops.log_softmax(ops.cast(y_pred, "float32"), axis=-1)  # (B, T, V)
        picked = ops.take_along_axis(log_probs, y_true[..., None], axis=-1)[..., 0]  # (B, T)
        loss = -picked
        if self.label_smoothing > 0:
            uniform = -ops.mean(log_probs, axis=-1)  # (B, T)
            loss = (1.0 - self.label_smoothing) * loss + self.label_smoothing * uniform
        mask = ops.cast(ops.not_equal(y_true, PAD_ID), "float32")
        return ops.sum(loss * mask) / ops.maximum(ops.sum(mask), 1.0)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="zoo")
def masked_accuracy(y_true, y_pred):
    """Share of non-padding target tokens predicted right (teacher forcing)."""
    y_true = ops.cast(y_true, "int32")
    right = ops.equal(ops.cast(ops.argmax(y_pred, axis=-1), "int32"), y_true)
    mask = ops.not_equal(y_true, PAD_ID)
    right = ops.cast(ops.logical_and(right, mask), "float32")
    return ops.sum(right) / ops.maximum(ops.sum(ops.cast(mask, "float32")), 1.0)


class LengthBuckets(keras.utils.PyDataset):
    """Batches of sentences of similar length, padded only to a multiple of 8.

    Sentences are shuffled every epoch, cut into pools of 50 batches, sorted
    by length within a pool and batched, so a batch of short sentences is
    not padded to the longest sentence of the corpus. Lengths are rounded up
    to a multiple of 8 so that only a few shapes get compiled.

    >>> import numpy as np
    >>> from zoo.translation.training import LengthBuckets
    >>> x = {"source": np.ones((10, 40), "int32"), "target": np.ones((10, 40), "int32")}
    >>> x["source"][:, 5:] = 0; x["target"][:, 3:] = 0
    >>> batches = LengthBuckets(x, x["target"], batch_size=4)
    >>> len(batches), batches[0][0]["source"].shape
    (3, (4, 8))
    """

    def __init__(self, x, y, batch_size, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.rng = np.random.default_rng(seed)
        self.lengths = np.maximum(
            (x["source"] != PAD_ID).sum(axis=1), (x["target"] != PAD_ID).sum(axis=1)
        )
        self.on_epoch_end()

    def on_epoch_end(self):
        self.batches = bucketed_batches(self.lengths, self.batch_size, self.rng, 50, self._length)

    def _length(self, rows):
        """The padded length of a batch: its longest sentence, rounded up to 8."""
        return int(-(-max(int(self.lengths[rows].max()), 1) // 8) * 8)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        rows = self.batches[index]
        length = self._length(rows)
        x = {
            "source": self.x["source"][rows, : min(length, self.x["source"].shape[1])],
            "target": self.x["target"][rows, : min(length, self.x["target"].shape[1])],
        }
        return x, self.y[rows, : x["target"].shape[1]]


class TimeBudget(keras.callbacks.Callback):
    """Stop training after `minutes` of wall-clock time (checked every batch).

    `min_steps`: never stop before this many steps, e.g. so that a short demo
    still learns when compiling the first step ate the budget.
    `report_seconds`: print the time, steps and loss this often (use it with
    `fit(..., verbose=0)`, whose epoch count says nothing under a budget).
    """

    def __init__(self, minutes, min_steps=0, report_seconds=None):
        super().__init__()
        self.seconds = minutes * 60.0
        self.min_steps = min_steps
        self.report_seconds = report_seconds
        self.started = self.stopped = None
        self.steps = 0
        self._next_report = None

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.stopped = None
        self._next_report = self.report_seconds

    def on_train_end(self, logs=None):
        self.stopped = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        elapsed = time.perf_counter() - self.started
        if self.report_seconds and elapsed >= self._next_report:
            loss = (logs or {}).get("loss")
            shown = f", loss {float(loss):.3f}" if loss is not None else ""
            print(f"  {elapsed:5.0f} s of {self.seconds:.0f} s: step {self.steps}{shown}", flush=True)
            self._next_report = (elapsed // self.report_seconds + 1) * self.report_seconds
        if self.steps >= self.min_steps and elapsed > self.seconds:
            self.model.stop_training = True

    @property
    def elapsed_minutes(self):
        """Minutes from the start of training to its end (or to now, while it runs)."""
        end = self.stopped if self.stopped is not None else time.perf_counter()
        return (end - self.started) / 60.0


def exact_match(model, pairs, method="greedy", beam_size=4):
    """Share of sources translated exactly into their reference."""
    predictions = model.translate([source for source, _ in pairs], method=method, beam_size=beam_size)
    return float(np.mean([p == target for p, (_, target) in zip(predictions, pairs)]))


def bleu(model, pairs, method="greedy", beam_size=4, lowercase=False):
    """sacreBLEU of the translations against the references (cased by default)."""
    import sacrebleu

    predictions = model.translate([source for source, _ in pairs], method=method, beam_size=beam_size)
    references = [target for _, target in pairs]
    return sacrebleu.corpus_bleu(predictions, [references], lowercase=lowercase).score
