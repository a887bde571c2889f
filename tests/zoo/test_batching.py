"""zoo.batching: every row lands in exactly one batch, batches hold similar lengths."""

import numpy as np

from zoo.batching import bucketed_batches


def test_every_row_once_and_batches_sorted_within_a_pool():
    lengths = np.random.default_rng(1).integers(1, 60, size=103)
    batches = bucketed_batches(lengths, 8, np.random.default_rng(0), pool_batches=13)
    rows = np.concatenate(batches)
    assert sorted(rows.tolist()) == list(range(103))
    assert [len(b) for b in batches].count(8) == 12  # 103 = 12 * 8 + 7
    # one pool holds all rows: the batches tile the sorted lengths
    spans = sorted((lengths[b].min(), lengths[b].max()) for b in batches)
    assert all(high <= next_low for (_, high), (next_low, _) in zip(spans, spans[1:]))


def test_same_generator_seed_same_batches_and_first_two_lengths_differ():
    lengths = np.array([1] * 40 + [30] * 8)
    padded = lambda rows: int(lengths[rows].max())  # noqa: E731
    a = bucketed_batches(lengths, 8, np.random.default_rng(5), padded_length=padded)
    b = bucketed_batches(lengths, 8, np.random.default_rng(5), padded_length=padded)
    assert all((x == y).all() for x, y in zip(a, b))
    assert padded(a[0]) != padded(a[1])
