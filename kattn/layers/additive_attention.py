"""Bahdanau's additive attention."""

import keras
from keras import ops

from kattn import ops as attention_ops
from kattn.layers.attention import Attention


@keras.saving.register_keras_serializable(package="kattn")
class AdditiveAttention(Attention):
    """Additive attention (Bahdanau, Cho and Bengio, 2015).

    The decoder state `s` (the query) is compared with every encoder state
    `h_j` (the keys) through a small feed-forward network:

        e_j = v . tanh(W_q s + W_k h_j + b)     # score, one per encoder step
        a   = softmax(e)                         # alignment, masked steps -> 0
        c   = sum_j a_j h_j                      # context vector

    Args:
        units: hidden width `U` of the score network (`W_q: (Dq, U)`,
            `W_k: (Dk, U)`, `v: (U,)`).
        use_bias: whether the score network has the bias `b`.
        dropout: dropout rate on the alignment weights while training.

    Call arguments and returns: as `kattn.layers.Attention`.

    Example, one decoder state attending over 4 encoder states:

    >>> import keras, numpy as np, kattn
    >>> attention = kattn.layers.AdditiveAttention(units=8)
    >>> state = np.random.rand(2, 16).astype("float32")              # (B, Dq)
    >>> encoder_states = np.random.rand(2, 4, 32).astype("float32")  # (B, Tk, Dk)
    >>> mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)          # padding
    >>> context, alignment = attention(state, encoder_states, mask=mask,
    ...                                return_attention_scores=True)
    >>> tuple(context.shape), keras.ops.convert_to_numpy(alignment)[1, 2:].tolist()
    ((2, 32), [0.0, 0.0])
    """

    def __init__(self, units, use_bias=True, dropout=0.0, **kwargs):
        kwargs.pop("score", None)
        super().__init__(score="additive", units=units, use_bias=use_bias, dropout=dropout, **kwargs)

    def call(self, query, keys, values=None, mask=None, return_attention_scores=False, training=None):
        query, values, mask, single_query = self._prepare(query, keys, values, mask)

        # 1. score: e[b, i, j] = v . tanh(W_q q_i + W_k k_j + b)
        scores = attention_ops.additive_score(
            query, keys, self.query_kernel, self.key_kernel, self.score_vector, self.bias
        )  # (B, Tq, Tk)
        # 2 + 3. mask and softmax: padded encoder steps get weight exactly 0
        key_mask = None if mask is None else mask[:, None, :]  # (B, 1, Tk)
        alignment = attention_ops.masked_softmax(scores, key_mask)  # (B, Tq, Tk)
        # 4. context = alignment-weighted sum of the values
        dropped = self.weights_dropout(alignment, training=training)
        context = ops.einsum("bqk,bkd->bqd", dropped, values)  # (B, Tq, Dv)

        if single_query:
            context, alignment = context[:, 0], alignment[:, 0]  # (B, Dv), (B, Tk)
        if return_attention_scores:
            return context, alignment
        return context

    def get_config(self):
        config = super().get_config()
        del config["score"]
        return config
