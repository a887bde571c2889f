"""Length bucketing: which rows go into which batch, so that a batch holds
texts of similar length and can be padded only to its own longest text.

Shared by the translation, tweet and BERT batchers (each cuts its own arrays).

>>> import numpy as np
>>> from zoo.batching import bucketed_batches
>>> lengths = np.array([3, 9, 4, 8, 2, 7])
>>> batches = bucketed_batches(lengths, 2, np.random.default_rng(0))
>>> sorted(sorted(lengths[rows].tolist()) for rows in batches)
[[2, 3], [4, 7], [8, 9]]
"""

import numpy as np


def bucketed_batches(lengths, batch_size, rng, pool_batches=50, padded_length=None):
    """Row indices of each batch, drawn with the NumPy generator `rng`.

    The rows are shuffled, cut into pools of `pool_batches` batches, sorted by
    length within a pool and batched; the batches are shuffled again.

    `padded_length(rows)`, if given, is the length a batch is padded to. The
    first two batches are then made to differ in it when any two do: Keras
    reads the input shapes from the first batches, and two lengths keep the
    length axis unknown (None), so one compiled graph serves every batch.
    """
    order = rng.permutation(len(lengths))
    pool = batch_size * pool_batches
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    batches = [batches[i] for i in rng.permutation(len(batches))]
    if padded_length is not None and batches:
        first = padded_length(batches[0])
        for i in range(1, len(batches)):
            if padded_length(batches[i]) != first:
                batches[1], batches[i] = batches[i], batches[1]
                break
    return batches
