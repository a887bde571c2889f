"""Greedy and beam-search decoding as compiled loops (`keras.ops.while_loop`).

Both searches drive a model through one function

    step(tokens, state, index) -> (logits, state, alignment)

where `tokens` `(N,)` are the tokens at position `index`, `logits` `(N, V)`
score the next token, `state` is any nest of `(N, ...)` tensors the model
carries (an RNN state, a transformer's key/value cache) and `alignment`
`(N, S)` is the attention over the `S` source positions for that step.

Why not `keras_hub.samplers`: they return only the tokens, so the alignment
of the chosen hypothesis (needed for the heatmaps) cannot come back out, and
their beam search keeps extending beams that already ended. These loops give
finished hypotheses only padding at no cost, so beam 1 equals greedy.

>>> import numpy as np, keras
>>> from zoo.translation import decoding
>>> table = np.full((5, 5), -9.0, "float32")     # a toy "model": 2 -> 4 -> 3
>>> table[2, 4] = table[4, 3] = table[3, 0] = 0.0
>>> def step(tokens, state, index):
...     logits = keras.ops.take(table, tokens, axis=0)       # (N, V)
...     return logits, state, keras.ops.ones((tokens.shape[0], 1))
>>> tokens, alignment = decoding.greedy_search(step, {}, batch_size=1,
...                                            max_length=4, source_length=1)
>>> keras.ops.convert_to_numpy(tokens).tolist()
[[2, 4, 3, 0, 0]]
"""

from keras import ops
from keras import tree

from zoo.translation.tokenizers import END_ID, PAD_ID, START_ID

LENGTH_PENALTY = 0.6  # GNMT: a beam's score is log p / ((5 + length) / 6) ** 0.6


def greedy_search(step, state, batch_size, max_length, source_length):
    """Pick the most likely token at every step.

    Returns `tokens` `(B, max_length + 1)` starting with "[START]" and padded
    after "[END]", and `alignments` `(B, max_length, source_length)`.
    """
    tokens = ops.zeros((batch_size, max_length + 1), "int32")
    tokens = ops.slice_update(tokens, [0, 0], ops.full((batch_size, 1), START_ID, "int32"))
    alignments = ops.zeros((batch_size, max_length, source_length), "float32")
    done = ops.zeros((batch_size,), "bool")

    def cond(index, tokens, state, alignments, done):
        return ops.logical_not(ops.all(done))

    def body(index, tokens, state, alignments, done):
        logits, state, alignment = step(tokens[:, index], state, index)  # (B, V)
        best = ops.cast(ops.argmax(logits, axis=-1), "int32")  # (B,)
        best = ops.where(done, PAD_ID, best)
        tokens = ops.slice_update(tokens, [0, index + 1], best[:, None])
        alignment = ops.where(done[:, None], 0.0, ops.cast(alignment, "float32"))
        alignments = ops.slice_update(alignments, [0, index, 0], alignment[:, None, :])
        done = ops.logical_or(done, ops.equal(best, END_ID))
        return index + 1, tokens, state, alignments, done

    _, tokens, _, alignments, _ = ops.while_loop(
        cond, body, (0, tokens, state, alignments, done), maximum_iterations=max_length
    )
    return tokens, alignments


def beam_search(step, state, batch_size, beam_size, max_length, source_length):
    """Keep the `beam_size` most likely hypotheses per sentence.

    `state` (and whatever `step` reads from the source) must already hold
    `beam_size` copies of each sentence, rows `b * beam_size + k`, e.g. from
    `ops.repeat(source, beam_size, axis=0)`. A hypothesis that produced
    "[END]" only grows padding, at no cost. The best hypothesis by
    length-normalised log-probability is returned, shaped as in
    `greedy_search`.
    """
    rows = batch_size * beam_size
    tokens = ops.zeros((rows, max_length + 1), "int32")
    tokens = ops.slice_update(tokens, [0, 0], ops.full((rows, 1), START_ID, "int32"))
    alignments = ops.zeros((rows, max_length, source_length), "float32")
    done = ops.zeros((rows,), "bool")
    # Only the first copy of each sentence is alive at the start.
    first_only = ops.convert_to_tensor([0.0] + [-1e9] * (beam_size - 1), "float32")
    scores = ops.tile(first_only, (batch_size,))  # (B * K,)
    base = ops.repeat(ops.arange(batch_size, dtype="int32") * beam_size, beam_size)  # (B * K,)

    def cond(index, tokens, state, alignments, done, scores):
        return ops.logical_not(ops.all(done))

    def body(index, tokens, state, alignments, done, scores):
        logits, state, alignment = step(tokens[:, index], state, index)  # (B*K, V)
        vocabulary_size = logits.shape[-1]
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)  # (B*K, V)
        # Finished hypotheses: padding costs nothing, anything else is impossible.
        only_padding = ops.where(ops.arange(vocabulary_size) == PAD_ID, 0.0, -1e9)
        log_probs = ops.where(done[:, None], only_padding[None, :], log_probs)
        candidates = scores[:, None] + log_probs  # (B*K, V)
        candidates = ops.reshape(candidates, (batch_size, beam_size * vocabulary_size))
        scores, chosen = ops.top_k(candidates, k=beam_size)  # (B, K)
        parent = base + ops.reshape(ops.cast(chosen // vocabulary_size, "int32"), (-1,))
        token = ops.reshape(ops.cast(chosen % vocabulary_size, "int32"), (-1,))  # (B*K,)
        scores = ops.reshape(scores, (-1,))

        def follow(x):  # reorder rows so that each hypothesis keeps its history
            return ops.take(x, parent, axis=0)

        tokens, alignments, done = follow(tokens), follow(alignments), follow(done)
        state = tree.map_structure(follow, state)
        alignment = ops.where(done[:, None], 0.0, follow(ops.cast(alignment, "float32")))
        tokens = ops.slice_update(tokens, [0, index + 1], token[:, None])
        alignments = ops.slice_update(alignments, [0, index, 0], alignment[:, None, :])
        done = ops.logical_or(done, ops.equal(token, END_ID))
        return index + 1, tokens, state, alignments, done, scores

    _, tokens, _, alignments, _, scores = ops.while_loop(
        cond, body, (0, tokens, state, alignments, done, scores), maximum_iterations=max_length
    )
    lengths = ops.sum(ops.cast(ops.not_equal(tokens[:, 1:], PAD_ID), "float32"), axis=-1)
    normalised = scores / ops.power((5.0 + lengths) / 6.0, LENGTH_PENALTY)
    best = ops.argmax(ops.reshape(normalised, (batch_size, beam_size)), axis=-1)  # (B,)
    rows_kept = ops.arange(batch_size, dtype="int32") * beam_size + ops.cast(best, "int32")
    return ops.take(tokens, rows_kept, axis=0), ops.take(alignments, rows_kept, axis=0)
