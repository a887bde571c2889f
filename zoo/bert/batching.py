"""Length-bucketed batches of BERT inputs, for training and for scoring.

The tokenizer packs every text to `sequence_length` ids, but a tweet has
about 25 WordPiece tokens: a batch padded to 64 or 128 spends most of its
work on padding, and attention's share grows with the square of the length.
Here each batch is cut to its longest text, rounded up to a multiple of 8, so
that only a handful of shapes are traced.

- `LengthBuckets` (training): every epoch the texts are shuffled, cut into
  pools of `pool_batches` batches, sorted by length within a pool and
  batched, and the batches are shuffled again. The order of epoch `e`
  depends only on `(seed, e)`; pass `epoch_callback()` to `fit`.
- `predict_by_length` (scoring): all texts sorted by length, batched, run
  forward only, and the outputs put back in the original order.

>>> import numpy as np
>>> from zoo.bert.batching import LengthBuckets
>>> mask = np.zeros((10, 64), bool); mask[:, :5] = True       # 10 texts of 5 tokens
>>> inputs = {"token_ids": mask.astype("int32"), "segment_ids": np.zeros((10, 64), "int32"),
...           "padding_mask": mask}
>>> batches = LengthBuckets(inputs, np.arange(10), batch_size=4)
>>> len(batches), batches[0][0]["token_ids"].shape
(3, (4, 8))
"""

import math

import keras
import numpy as np

from zoo.batching import bucketed_batches

PAD_MULTIPLE = 8
INPUT_NAMES = ("token_ids", "segment_ids", "padding_mask")


def _check_inputs(inputs):
    """The encoded dict as numpy arrays `(N, T)`, and `N`."""
    if not isinstance(inputs, dict) or set(inputs) != set(INPUT_NAMES):
        received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(
            f"`inputs` must be a dict with keys {list(INPUT_NAMES)} (what "
            f"BertTokenizer.encode gives); received {received}."
        )
    arrays = {name: np.asarray(inputs[name]) for name in INPUT_NAMES}
    shape = arrays["token_ids"].shape
    if len(shape) != 2 or any(a.shape != shape for a in arrays.values()):
        raise ValueError(
            "`inputs` arrays must all have shape (num_texts, length); received "
            f"{ {name: a.shape for name, a in arrays.items()} }."
        )
    return arrays, shape[0]


def padded_length(lengths, max_length):
    """The longest of `lengths`, rounded up to a multiple of 8, at most `max_length`.

    >>> from zoo.bert.batching import padded_length
    >>> padded_length([3, 17, 9], 64), padded_length([70], 64)
    (24, 64)
    """
    longest = max(int(np.max(lengths)), 1)
    return min(math.ceil(longest / PAD_MULTIPLE) * PAD_MULTIPLE, max_length)


def _cut(arrays, rows, length):
    return {name: array[rows, :length] for name, array in arrays.items()}  # (B, L) each


class LengthBuckets(keras.utils.PyDataset):
    """Training batches `(inputs, labels[, sample_weights])` bucketed by length.

    Args:
        inputs: `BertTokenizer.encode` output as numpy arrays, each `(N, T)`.
        labels: `(N,)` class ids.
        sample_weights: optional `(N,)` per-example loss weights.
        batch_size: examples per batch.
        seed: with the epoch, fixes the order.
        pool_batches: batches per pool sorted by length.

    `batches[i]` is `({"token_ids", "segment_ids", "padding_mask"}: (B, L),
    labels (B,)[, sample_weights (B,)])`, `L` = the batch's longest text
    rounded up to a multiple of 8 (at most `T`).
    """

    def __init__(self, inputs, labels, sample_weights=None, batch_size=32, seed=0,
                 pool_batches=50, **kwargs):
        super().__init__(**kwargs)
        self.inputs, count = _check_inputs(inputs)
        self.labels = np.asarray(labels)
        if self.labels.shape != (count,):
            raise ValueError(
                f"`labels` must have shape ({count},), one per text; received {self.labels.shape}."
            )
        if sample_weights is not None and np.shape(sample_weights) != (count,):
            raise ValueError(
                f"`sample_weights` must have shape ({count},); received {np.shape(sample_weights)}."
            )
        if int(batch_size) < 1:
            raise ValueError(f"`batch_size` must be a positive integer; received {batch_size!r}.")
        self.sample_weights = None if sample_weights is None else np.asarray(sample_weights, "float32")
        self.batch_size = int(batch_size)
        self.seed = seed
        self.pool_batches = int(pool_batches)
        self.lengths = self.inputs["padding_mask"].astype(bool).sum(axis=1)  # (N,)
        self.max_length = self.inputs["token_ids"].shape[1]
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """Draw the batches of `epoch` (the same ones for the same seed and epoch)."""
        self.batches = bucketed_batches(
            self.lengths, self.batch_size, np.random.default_rng([self.seed, epoch]),
            self.pool_batches, lambda rows: padded_length(self.lengths[rows], self.max_length),
        )

    def epoch_callback(self):
        """A callback that draws each epoch's batches when the epoch begins."""
        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: self.set_epoch(epoch))

    def batch_length(self, index):
        """The padded length `L` of batch `index`."""
        return padded_length(self.lengths[self.batches[index]], self.max_length)

    def padding_share(self):
        """Share of the ids in this epoch's batches that are padding (0 to 1)."""
        padded = sum(len(rows) * self.batch_length(i) for i, rows in enumerate(self.batches))
        return 1.0 - float(self.lengths.sum()) / padded

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        rows = self.batches[index]
        x = _cut(self.inputs, rows, self.batch_length(index))
        if self.sample_weights is None:
            return x, self.labels[rows]
        return x, self.labels[rows], self.sample_weights[rows]


def predict_by_length(model, inputs, batch_size=128):
    """`model`'s outputs for every text, run in length-sorted batches.

    Forward only (`predict_on_batch`); the outputs come back in the order of
    `inputs`. Returns a numpy array `(N, ...)`.

    >>> import numpy as np
    >>> from zoo.bert import BertBackbone, BertClassifier
    >>> from zoo.bert.batching import predict_by_length
    >>> model = BertClassifier(BertBackbone(20, 1, 2, 8, 16), num_classes=3)
    >>> mask = np.arange(12)[None, :] < np.array([[3], [12], [5]])   # 3 texts
    >>> inputs = {"token_ids": mask.astype("int32") * 7,
    ...           "segment_ids": np.zeros((3, 12), "int32"), "padding_mask": mask}
    >>> predict_by_length(model, inputs, batch_size=2).shape
    (3, 3)
    """
    arrays, count = _check_inputs(inputs)
    if int(batch_size) < 1:
        raise ValueError(f"`batch_size` must be a positive integer; received {batch_size!r}.")
    lengths = arrays["padding_mask"].astype(bool).sum(axis=1)  # (N,)
    order = np.argsort(lengths, kind="stable")
    outputs = None
    for start in range(0, count, int(batch_size)):
        rows = order[start : start + int(batch_size)]
        length = padded_length(lengths[rows], arrays["token_ids"].shape[1])
        batch = keras.ops.convert_to_numpy(model.predict_on_batch(_cut(arrays, rows, length)))
        if outputs is None:
            outputs = np.empty((count,) + batch.shape[1:], batch.dtype)
        outputs[rows] = batch
    return outputs
