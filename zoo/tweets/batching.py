"""LengthBuckets: training batches of tweets of similar length, padded only to
their longest tweet rounded up to a multiple of 8.

The tokenizer pads every tweet to `sequence_length` (64) ids, but the median
training tweet has about 25 tokens: a fixed-length batch spends most of its
work on padding, most of all in an encoder block, whose cost grows with the
square of the length. Here each epoch's tweets are shuffled, cut into pools of
`pool_batches` batches, sorted by length within a pool and batched, and the
batches are shuffled again; each batch is then cut to its longest tweet,
rounded up to a multiple of 8, so that only a handful of shapes get compiled.

The order of epoch `e` depends only on `(seed, e)` (as in
`zoo.training.ShuffledBatches`), so a run resumed from a checkpoint sees the
same batches as an uninterrupted one. Pass `epoch_callback()` to `fit`.

>>> import numpy as np
>>> from zoo.tweets.batching import LengthBuckets
>>> ids = np.zeros((10, 64), "int32"); ids[:, :5] = 7   # 10 tweets of 5 tokens
>>> batches = LengthBuckets(ids, np.arange(10), batch_size=4)
>>> len(batches), batches[0][0].shape
(3, (4, 8))
"""

import math

import keras
import numpy as np

from zoo.batching import bucketed_batches

PAD_MULTIPLE = 8


class LengthBuckets(keras.utils.PyDataset):
    """Batches `(token_ids, labels[, sample_weights])` bucketed by tweet length.

    Args:
        token_ids: `(N, T)` int array, 0 = padding (what `TweetTokenizer` gives).
        labels: `(N,)` class ids.
        sample_weights: optional `(N,)` per-tweet loss weights.
        batch_size: tweets per batch.
        seed: with the epoch, fixes the order.
        pool_batches: batches per pool sorted by length: larger pools waste
            less padding, smaller ones keep batches more random.

    `batches[i]` is `(token_ids (B, L), labels (B,))` or with the weights
    `(token_ids, labels, sample_weights)`, `L` = the batch's longest tweet
    rounded up to a multiple of 8 (at most `T`).
    """

    def __init__(self, token_ids, labels, sample_weights=None, batch_size=256, seed=0,
                 pool_batches=50, **kwargs):
        super().__init__(**kwargs)
        token_ids = np.asarray(token_ids)
        labels = np.asarray(labels)
        if token_ids.ndim != 2:
            raise ValueError(
                f"`token_ids` must have shape (num_tweets, length); received shape {token_ids.shape}."
            )
        if len(labels) != len(token_ids):
            raise ValueError(
                f"`labels` must have one entry per tweet ({len(token_ids)}); received {len(labels)}."
            )
        if sample_weights is not None and len(sample_weights) != len(token_ids):
            raise ValueError(
                f"`sample_weights` must have one entry per tweet ({len(token_ids)}); "
                f"received {len(sample_weights)}."
            )
        if int(batch_size) < 1:
            raise ValueError(f"`batch_size` must be a positive integer; received {batch_size!r}.")
        self.token_ids = token_ids
        self.labels = labels
        self.sample_weights = None if sample_weights is None else np.asarray(sample_weights)
        self.batch_size = int(batch_size)
        self.seed = seed
        self.pool_batches = int(pool_batches)
        self.lengths = (token_ids != 0).sum(axis=1)  # (N,) real tokens per tweet
        self.set_epoch(0)

    def set_epoch(self, epoch):
        """Draw the batches of `epoch` (the same ones for the same seed and epoch)."""
        self.batches = bucketed_batches(
            self.lengths, self.batch_size, np.random.default_rng([self.seed, epoch]),
            self.pool_batches, self.padded_length,
        )

    def epoch_callback(self):
        """A callback that draws each epoch's batches when the epoch begins."""
        return keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: self.set_epoch(epoch))

    def padded_length(self, rows):
        """The longest tweet of `rows`, rounded up to a multiple of 8, at most T."""
        longest = max(int(self.lengths[rows].max()), 1)
        rounded = math.ceil(longest / PAD_MULTIPLE) * PAD_MULTIPLE
        return min(rounded, self.token_ids.shape[1])

    def padding_share(self):
        """Share of the ids in this epoch's batches that are padding (0 to 1)."""
        padded = sum(len(rows) * self.padded_length(rows) for rows in self.batches)
        return 1.0 - float(self.lengths.sum()) / padded

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        rows = self.batches[index]
        token_ids = self.token_ids[rows, : self.padded_length(rows)]  # (B, L)
        if self.sample_weights is None:
            return token_ids, self.labels[rows]
        return token_ids, self.labels[rows], self.sample_weights[rows]
