"""Attention pooling: a learned weighted average over a sequence."""

import keras
from keras import ops

from kattn import checks
from kattn import ops as attention_ops


@keras.saving.register_keras_serializable(package="kattn")
class AttentionPooling(keras.layers.Layer):
    """Pool `(B, T, D)` to `(B, D)` with learned per-token weights.

    Mean pooling treats every token as equally important. Attention pooling
    scores each token, turns the scores into weights with a (masked)
    softmax, and takes the weighted sum:

        e_t = w . h_t + b                    (units=None: one linear score)
        e_t = v . tanh(W h_t + b)            (units=U: a small tanh MLP)
        a   = softmax(e) over unmasked tokens (padding gets exactly 0)
        out = sum_t a_t h_t

    Args:
        units: None for a linear score, or the hidden width of a tanh MLP.

    Call arguments:
        inputs: `(B, T, D)`.
        mask: `(B, T)`, False on padding; taken from the Keras mask of the
            inputs (e.g. `Embedding(mask_zero=True)`) when not given.
        return_attention_scores: also return the weights `(B, T)`.

    Example:

    >>> import keras, numpy as np, kattn
    >>> tokens = keras.Input((None,), dtype="int32")
    >>> x = keras.layers.Embedding(100, 16, mask_zero=True)(tokens)
    >>> pooled = kattn.layers.AttentionPooling()(x)                 # (B, 16)
    >>> probs = keras.layers.Dense(3, activation="softmax")(pooled)
    >>> model = keras.Model(tokens, probs)
    >>> model.predict(np.array([[5, 7, 0, 0]]), verbose=0).shape
    (1, 3)
    """

    def __init__(self, units=None, **kwargs):
        super().__init__(**kwargs)
        self.units = checks.positive_int("units", units, allow_none=True)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) != 3:
            raise ValueError(
                f"`inputs` must have shape (batch, length, features); received shape {tuple(inputs_shape)}."
            )
        if self.units is None:
            self.score_dense = keras.layers.Dense(1, dtype=self.dtype_policy, name="score")
            self.score_dense.build(inputs_shape)
        else:
            self.hidden_dense = keras.layers.Dense(
                self.units, activation="tanh", dtype=self.dtype_policy, name="hidden"
            )
            self.hidden_dense.build(inputs_shape)
            self.score_dense = keras.layers.Dense(1, use_bias=False, dtype=self.dtype_policy, name="score")
            self.score_dense.build(tuple(inputs_shape[:-1]) + (self.units,))

    def call(self, inputs, mask=None, return_attention_scores=False):
        checks.rank("inputs", inputs, (3,), "(batch, length, features)")
        checks.mask_shape("mask", mask, (inputs.shape[0], inputs.shape[1]))

        # 1. one score per token
        hidden = inputs if self.units is None else self.hidden_dense(inputs)
        scores = self.score_dense(hidden)[..., 0]  # (B, T)
        # 2 + 3. mask and softmax over the tokens: padding gets exactly 0
        weights = attention_ops.masked_softmax(scores, mask)  # (B, T)
        # 4. weighted sum of the token vectors
        pooled = ops.einsum("bt,btd->bd", weights, inputs)  # (B, D)
        if return_attention_scores:
            return pooled, weights
        return pooled

    def compute_mask(self, inputs, previous_mask=None):
        return None  # the sequence axis is gone

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
