"""Length-bucketed BERT batches (training) and length-sorted scoring."""

import numpy as np
import pytest

from zoo.bert import BertBackbone, BertClassifier
from zoo.bert.batching import LengthBuckets, padded_length, predict_by_length


def encoded(lengths, width=64, seed=0):
    """An encode()-like dict: row i has lengths[i] real tokens, then padding."""
    rng = np.random.default_rng(seed)
    lengths = np.asarray(lengths)
    mask = np.arange(width)[None, :] < lengths[:, None]  # (N, width)
    token_ids = np.where(mask, rng.integers(5, 40, mask.shape), 0).astype("int32")
    segment_ids = np.zeros_like(token_ids)
    return {"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": mask}


def test_batches_are_cut_to_their_longest_text_rounded_up_to_8():
    lengths = np.random.default_rng(1).integers(3, 60, size=200)
    inputs = encoded(lengths)
    batches = LengthBuckets(inputs, np.arange(200) % 3, np.ones(200), batch_size=16, pool_batches=4)
    seen = []
    for i in range(len(batches)):
        x, y, w = batches[i]
        rows = batches.batches[i]
        width = x["token_ids"].shape[1]
        assert width % 8 == 0 and width >= lengths[rows].max() and width - 8 < lengths[rows].max()
        assert all(v.shape == (len(rows), width) for v in x.values())
        np.testing.assert_array_equal(x["token_ids"], inputs["token_ids"][rows, :width])
        np.testing.assert_array_equal(y, (np.arange(200) % 3)[rows])
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(200))  # every text exactly once per epoch
    # Sorting within pools wastes far less padding than one fixed width of 64.
    assert batches.padding_share() < 1 - lengths.sum() / (200 * 64)


def test_the_order_depends_only_on_seed_and_epoch_and_the_first_two_lengths_differ():
    inputs = encoded(np.random.default_rng(2).integers(3, 60, size=100))
    first = LengthBuckets(inputs, np.zeros(100), batch_size=8, seed=5)
    second = LengthBuckets(inputs, np.zeros(100), batch_size=8, seed=5)
    second.set_epoch(3)
    second.set_epoch(0)
    assert [b.tolist() for b in first.batches] == [b.tolist() for b in second.batches]
    second.set_epoch(1)
    assert [b.tolist() for b in first.batches] != [b.tolist() for b in second.batches]
    assert first.batch_length(0) != first.batch_length(1)


def test_padded_length_is_capped_at_the_encoded_width():
    assert padded_length([1], 64) == 8
    assert padded_length([0], 64) == 8
    assert padded_length([9, 16], 64) == 16
    assert padded_length([63], 64) == 64
    assert padded_length([100], 96) == 96


@pytest.mark.parametrize("pooling", ["cls", "mean"])
def test_predict_by_length_matches_full_width_predictions_in_input_order(pooling):
    backbone = BertBackbone(40, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                            max_sequence_length=64, dropout=0.0)
    model = BertClassifier(backbone, num_classes=3, pooling=pooling)
    lengths = [30, 3, 17, 64, 9, 3, 41]
    inputs = encoded(lengths)
    expected = model.predict(inputs, batch_size=7, verbose=0)  # all padded to 64
    got = predict_by_length(model, inputs, batch_size=3)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_bad_arguments_are_clear_errors():
    inputs = encoded([3, 4])
    with pytest.raises(ValueError, match="`inputs` must be a dict with keys"):
        LengthBuckets({"token_ids": inputs["token_ids"]}, [0, 1])
    with pytest.raises(ValueError, match=r"`labels` must have shape \(2,\)"):
        LengthBuckets(inputs, [0, 1, 2])
    with pytest.raises(ValueError, match=r"`sample_weights` must have shape \(2,\)"):
        LengthBuckets(inputs, [0, 1], sample_weights=[1.0])
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        LengthBuckets(inputs, [0, 1], batch_size=0)
    bad = dict(inputs, segment_ids=inputs["segment_ids"][:, :5])
    with pytest.raises(ValueError, match="must all have shape"):
        predict_by_length(None, bad)
