"""Tests for the greedy and beam-search loops on hand-made "models"."""

import numpy as np
from keras import ops

from tests.conftest import to_numpy
from zoo.translation import decoding

END, START = 3, 2


def table_model(table):
    """A step function whose next-token log-probs depend on the last token only."""
    table = np.log(np.asarray(table, "float32"))

    def step(tokens, state, index):
        logits = ops.take(table, tokens, axis=0)  # (N, V)
        alignment = ops.one_hot(ops.minimum(index, 1), 2)[None] * ops.ones((tokens.shape[0], 1))
        return logits, state + 1, alignment

    return step


# Vocabulary: 0 pad, 1 unk, 2 start, 3 end, 4 "a", 5 "b".
# Greedy takes "a" (0.6) then must pay 0.3 for anything; "b" (0.4) then END 1.0.
TABLE = np.full((6, 6), 1e-6)
TABLE[START, 4], TABLE[START, 5] = 0.6, 0.4
TABLE[4, END], TABLE[4, 4] = 0.3, 0.3
TABLE[4, 5] = 0.4
TABLE[5, END] = 1.0
TABLE[END, 0] = TABLE[0, 0] = 1.0
TABLE[1] = 1.0


def test_greedy_takes_the_locally_best_token():
    tokens, alignments = decoding.greedy_search(
        table_model(TABLE), ops.zeros((1,)), batch_size=1, max_length=4, source_length=2)
    # START a b END pad: 0.6 * 0.4 * 1.0 = 0.24
    assert to_numpy(tokens).tolist() == [[START, 4, 5, END, 0]]
    assert to_numpy(alignments).shape == (1, 4, 2)
    assert to_numpy(alignments)[0, 3].tolist() == [0.0, 0.0]  # after END: nothing


def test_beam_finds_the_more_likely_sentence():
    tokens, _ = decoding.beam_search(
        table_model(TABLE), ops.zeros((2,)), batch_size=1, beam_size=2, max_length=4,
        source_length=2)
    # START b END: 0.4 beats START a b END: 0.24 (and START a END: 0.18)
    assert to_numpy(tokens).tolist() == [[START, 5, END, 0, 0]]


def test_beam_of_one_is_greedy_on_random_tables():
    rng = np.random.default_rng(0)
    for _ in range(3):
        table = rng.random((7, 7)) + 0.01
        step = table_model(table / table.sum(1, keepdims=True))
        greedy, greedy_alignment = decoding.greedy_search(
            step, ops.zeros((3,)), batch_size=3, max_length=6, source_length=2)
        beam, beam_alignment = decoding.beam_search(
            step, ops.zeros((3,)), batch_size=3, beam_size=1, max_length=6, source_length=2)
        np.testing.assert_array_equal(to_numpy(greedy), to_numpy(beam))
        np.testing.assert_array_equal(to_numpy(greedy_alignment), to_numpy(beam_alignment))
