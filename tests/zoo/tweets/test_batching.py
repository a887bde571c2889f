"""zoo.tweets.batching.LengthBuckets: padding to a multiple of 8, every tweet
once per epoch, an order fixed by (seed, epoch), weights aligned with tweets."""

import numpy as np
import pytest

from zoo.tweets.batching import LengthBuckets


def ragged_ids(num_tweets=300, width=64, seed=0):
    """Token ids of tweets of 1..60 tokens; each tweet's ids all equal its row number + 1."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 61, size=num_tweets)
    ids = np.zeros((num_tweets, width), "int32")
    for row, length in enumerate(lengths):
        ids[row, :length] = row + 1
    return ids, lengths


def test_each_batch_is_padded_to_its_longest_tweet_rounded_up_to_8():
    ids, lengths = ragged_ids()
    batches = LengthBuckets(ids, np.arange(len(ids)), batch_size=16, pool_batches=4)
    for index in range(len(batches)):
        x, y = batches[index]
        longest = lengths[x[:, 0] - 1].max()
        assert x.shape[1] % 8 == 0 and longest <= x.shape[1] < longest + 8
        assert (x[:, longest:] == 0).all()  # only padding was cut
    # Sorting within pools wastes much less than padding to 64.
    assert batches.padding_share() < 1.0 - lengths.mean() / 64


def test_every_tweet_once_per_epoch_with_its_label_and_weight():
    ids, _ = ragged_ids()
    labels = np.arange(len(ids)) % 3
    weights = np.arange(len(ids), dtype="float32")
    batches = LengthBuckets(ids, labels, weights, batch_size=32)
    seen = []
    for index in range(len(batches)):
        x, y, w = batches[index]
        rows = x[:, 0] - 1  # each tweet's ids name its row
        np.testing.assert_array_equal(y, labels[rows])
        np.testing.assert_array_equal(w, weights[rows])
        seen += rows.tolist()
    assert sorted(seen) == list(range(len(ids)))


def test_the_order_depends_only_on_seed_and_epoch():
    ids, _ = ragged_ids()
    labels = np.zeros(len(ids), "int32")

    def first_rows(batches):
        return [batches[i][0][:, 0].tolist() for i in range(3)]

    a = LengthBuckets(ids, labels, batch_size=32, seed=1)
    b = LengthBuckets(ids, labels, batch_size=32, seed=1)
    a.set_epoch(1)
    a.set_epoch(3)
    b.set_epoch(3)  # straight to epoch 3, as a resumed run
    assert first_rows(a) == first_rows(b)
    b.set_epoch(4)
    assert first_rows(a) != first_rows(b)
    assert first_rows(LengthBuckets(ids, labels, batch_size=32, seed=2)) != first_rows(
        LengthBuckets(ids, labels, batch_size=32, seed=1))


def test_the_first_two_batches_differ_in_length_so_keras_keeps_the_length_axis_open():
    ids, _ = ragged_ids()
    batches = LengthBuckets(ids, np.zeros(len(ids)), batch_size=16)
    for epoch in range(5):
        batches.set_epoch(epoch)
        assert batches[0][0].shape[1] != batches[1][0].shape[1]


def test_clear_errors():
    ids, _ = ragged_ids(10)
    with pytest.raises(ValueError, match=r"`token_ids` must have shape \(num_tweets, length\)"):
        LengthBuckets(ids[0], np.zeros(10))
    with pytest.raises(ValueError, match=r"`labels` must have one entry per tweet \(10\); received 9"):
        LengthBuckets(ids, np.zeros(9))
    with pytest.raises(ValueError, match=r"`sample_weights` must have one entry per tweet \(10\); received 3"):
        LengthBuckets(ids, np.zeros(10), np.ones(3))
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        LengthBuckets(ids, np.zeros(10), batch_size=0)
