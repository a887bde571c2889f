"""Single-head attention with a choice of score function."""

import keras
from keras import ops

from kattn import checks
from kattn import ops as attention_ops

SCORES = ("dot", "scaled_dot", "bilinear", "cosine", "additive")


@keras.saving.register_keras_serializable(package="kattn")
class Attention(keras.layers.Layer):
    """Single-head attention: score -> mask -> softmax -> weighted sum.

    For each query `q` and the keys `k_1..k_T`:

        e_j = score(q, k_j)            # how well key j matches the query
        a   = softmax(e) over unmasked keys (masked keys get exactly 0)
        c   = sum_j a_j v_j            # the context vector

    Score functions (`score=`):

    - `"dot"`: `q . k` (Luong); needs `Dq == Dk`.
    - `"scaled_dot"`: `q . k / sqrt(d)` (Vaswani); needs `Dq == Dk`.
    - `"bilinear"`: `q^T W k` (Luong's "general"), `W` learned `(Dq, Dk)`.
    - `"cosine"`: `q . k / (|q| |k|)` (Graves); needs `Dq == Dk`.
    - `"additive"`: `v . tanh(W_q q + W_k k + b)` (Bahdanau), hidden width
      `units` (default: `Dk`); see also `AdditiveAttention`.

    Args:
        score: one of the names above.
        units: hidden width of the additive score; only valid with "additive".
        use_bias: whether the additive score has the bias `b`.
        dropout: dropout rate on the attention weights while training.

    Call arguments:
        query: `(B, Dq)` (one query per example, e.g. a decoder state) or
            `(B, Tq, Dq)`.
        keys: `(B, Tk, Dk)`.
        values: `(B, Tk, Dv)`; defaults to `keys`.
        mask: `(B, Tk)`, False on padded keys. Taken from the Keras mask of
            `keys` (e.g. `Embedding(mask_zero=True)`) when not given.
        return_attention_scores: also return the weights.

    Returns:
        context `(B, Dv)` or `(B, Tq, Dv)`, and the weights `(B, Tk)` or
        `(B, Tq, Tk)` if asked.

    Example:

    >>> import keras, numpy as np, kattn
    >>> layer = kattn.layers.Attention(score="dot")
    >>> state = np.array([[1.0, 0.0]], "float32")                  # (1, 2)
    >>> keys = np.array([[[1.0, 0.0], [0.0, 1.0]]], "float32")     # (1, 2, 2)
    >>> context, weights = layer(state, keys, return_attention_scores=True)
    >>> print(np.round(keras.ops.convert_to_numpy(weights), 3))    # softmax([1, 0])
    [[0.731 0.269]]
    """

    def __init__(self, score="scaled_dot", units=None, use_bias=True, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.score = checks.one_of("score", score, SCORES)
        self.units = checks.positive_int("units", units, allow_none=True)
        if units is not None and score != "additive":
            raise ValueError(
                f"`units` is only used by score='additive'; received units={units} "
                f"with score={score!r}."
            )
        self.use_bias = use_bias
        self.dropout = checks.rate("dropout", dropout)
        self.weights_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.supports_masking = True

    def build(self, query_shape, keys_shape, values_shape=None):
        query_dim, key_dim = query_shape[-1], keys_shape[-1]
        if self.score in ("dot", "scaled_dot", "cosine"):
            checks.same_size("feature size", "query", query_dim, "keys", key_dim)
        if self.score == "bilinear":
            self.kernel = self.add_weight(name="kernel", shape=(query_dim, key_dim))
        if self.score == "additive":
            self._build_additive(query_dim, key_dim, self.units or key_dim)

    def _build_additive(self, query_dim, key_dim, units):
        self.query_kernel = self.add_weight(name="query_kernel", shape=(query_dim, units))
        self.key_kernel = self.add_weight(name="key_kernel", shape=(key_dim, units))
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(units,), initializer="zeros")
        self.score_vector = self.add_weight(name="score_vector", shape=(units,))

    def _prepare(self, query, keys, values, mask):
        """Check shapes; return query as (B, Tq, Dq), values, mask, and whether
        the query was a single vector."""
        checks.rank("query", query, (2, 3), "(batch, features) or (batch, query_length, features)")
        checks.rank("keys", keys, (3,), "(batch, key_length, features)")
        values = keys if values is None else values
        checks.rank("values", values, (3,), "(batch, key_length, features)")
        checks.same_size("batch size", "query", query.shape[0], "keys", keys.shape[0])
        checks.same_size("batch size", "keys", keys.shape[0], "values", values.shape[0])
        checks.same_size("length", "keys", keys.shape[1], "values", values.shape[1])
        if mask is None:
            mask = checks.keras_mask(keys)
        checks.mask_shape("mask", mask, (keys.shape[0], keys.shape[1]))
        single_query = len(query.shape) == 2
        if single_query:
            query = query[:, None, :]  # (B, 1, Dq)
        return query, values, mask, single_query

    def _scores(self, query, keys):
        if self.score == "bilinear":
            return attention_ops.bilinear_score(query, keys, self.kernel)
        if self.score == "additive":
            return attention_ops.additive_score(
                query, keys, self.query_kernel, self.key_kernel, self.score_vector, self.bias
            )
        return attention_ops.SCORE_FUNCTIONS[self.score](query, keys)

    def call(self, query, keys, values=None, mask=None, return_attention_scores=False, training=None):
        query, values, mask, single_query = self._prepare(query, keys, values, mask)

        # 1. score every key against every query
        scores = self._scores(query, keys)  # (B, Tq, Tk)
        # 2 + 3. mask and softmax: masked keys get weight exactly 0
        key_mask = None if mask is None else mask[:, None, :]  # (B, 1, Tk)
        weights = attention_ops.masked_softmax(scores, key_mask)  # (B, Tq, Tk)
        # 4. weighted sum of the values
        dropped = self.weights_dropout(weights, training=training)
        context = ops.einsum("bqk,bkd->bqd", dropped, values)  # (B, Tq, Dv)

        if single_query:
            context, weights = context[:, 0], weights[:, 0]  # (B, Dv), (B, Tk)
        if return_attention_scores:
            return context, weights
        return context

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if len(inputs.shape) == 3 else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {"score": self.score, "units": self.units, "use_bias": self.use_bias, "dropout": self.dropout}
        )
        return config
