"""One transformer encoder block: self-attention, then a feed-forward network."""

import keras

from kattn import checks
from kattn.dropout import Dropout
from kattn.compiled_call import MAX_LENGTH
from kattn.compiled_call import MAX_WIDTH
from kattn.compiled_call import CompiledCall
from kattn.layers.multi_head_attention import MultiHeadAttention


def head_size(d_model, num_heads, key_dim):
    """`key_dim`, or `d_model // num_heads` when None (which must divide)."""
    if key_dim is not None:
        return key_dim
    if d_model % num_heads != 0:
        raise ValueError(
            "With `key_dim=None` the model width must be divisible by "
            f"`num_heads`; received width {d_model} and num_heads={num_heads}."
        )
    return d_model // num_heads


@keras.saving.register_keras_serializable(package="kattn")
class TransformerEncoderBlock(keras.layers.Layer):
    """The encoder block of Vaswani et al. (2017).

    Post-norm (the paper's block, the default):

        x = LayerNorm(x + Dropout(SelfAttention(x)))
        x = LayerNorm(x + Dropout(FFN(x)))

    Pre-norm (`norm_first=True`, steadier for deep stacks):

        x = x + Dropout(SelfAttention(LayerNorm(x)))
        x = x + Dropout(FFN(LayerNorm(x)))

    with `FFN(x) = Dense(D)(Dropout(activation(Dense(intermediate_dim)(x))))`.
    Inside `fit` / `predict` on TensorFlow the block runs as one XLA
    computation where that measured faster (fixed, narrow, short shapes; see
    `kattn.compiled_call` and `kattn.config.set_block_compilation`).
    The sub-layers have the names of `keras_hub.layers.TransformerEncoder`
    (`self_attention_layer`, `self_attention_layer_norm`,
    `feedforward_layer_norm`, `feedforward_intermediate_dense`,
    `feedforward_output_dense`), so weights copy across by name.

    Args:
        num_heads: attention heads.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout: rate for the attention weights, after attention and inside
            and after the feed-forward network.
        activation: of the feed-forward hidden layer.
        layer_norm_epsilon: added to the variance in LayerNorm.
        norm_first: pre-norm instead of post-norm.
        key_dim: size of each head; default `D // num_heads`.

    Call arguments:
        inputs: `(B, T, D)`.
        padding_mask: `(B, T)`, False on padding tokens, which no token may
            attend to. Defaults to the Keras mask of `inputs` (e.g. from
            `TokenAndPositionEmbedding(mask_zero=True)`); the mask is passed on
            to the output. Outputs at padded positions are not meaningful.
        attention_mask: `(B, T, T)`, False where token i may not see token j.
        return_attention_scores: also return the weights `(B, heads, T, T)`.

    Returns:
        `(B, T, D)`, and the attention weights if asked.

    Example:

    >>> import keras, numpy as np, kattn
    >>> ids = keras.Input((None,), dtype="int32")
    >>> x = kattn.layers.TokenAndPositionEmbedding(100, 16, mask_zero=True)(ids)
    >>> x = kattn.layers.TransformerEncoderBlock(num_heads=2, intermediate_dim=32)(x)
    >>> x = kattn.layers.TransformerEncoderBlock(num_heads=2, intermediate_dim=32)(x)
    >>> model = keras.Model(ids, x)   # both blocks ignore the padding (id 0)
    >>> model.predict(np.array([[5, 7, 0, 0]]), verbose=0).shape
    (1, 4, 16)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-5,
        norm_first=False,
        key_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.intermediate_dim = checks.positive_int("intermediate_dim", intermediate_dim)
        self.dropout = checks.rate("dropout", dropout)
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        self.norm_first = bool(norm_first)
        self.key_dim = checks.positive_int("key_dim", key_dim, allow_none=True)
        self.supports_masking = True
        self._compiled_block = CompiledCall(
            self._block, max_width=MAX_WIDTH, max_length=MAX_LENGTH, only_float32=True
        )

    def build(self, inputs_shape):
        if len(inputs_shape) != 3 or inputs_shape[-1] is None:
            raise ValueError(
                "`inputs` must have shape (batch, length, features) with known "
                f"features; received shape {tuple(inputs_shape)}."
            )
        d_model = inputs_shape[-1]
        key_dim = head_size(d_model, self.num_heads, self.key_dim)
        intermediate_shape = tuple(inputs_shape[:-1]) + (self.intermediate_dim,)
        policy = self.dtype_policy

        self.self_attention = MultiHeadAttention(
            self.num_heads, key_dim, dropout=self.dropout, dtype=policy,
            name="self_attention_layer",
        )
        self.self_attention.build(inputs_shape, inputs_shape)
        self.self_attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="self_attention_layer_norm"
        )
        self.self_attention_norm.build(inputs_shape)
        self.self_attention_dropout = Dropout(
            self.dropout, dtype=policy, name="self_attention_dropout"
        )

        self.feedforward_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=policy, name="feedforward_layer_norm"
        )
        self.feedforward_norm.build(inputs_shape)
        self.feedforward_intermediate = keras.layers.Dense(
            self.intermediate_dim, activation=self.activation, dtype=policy,
            name="feedforward_intermediate_dense",
        )
        self.feedforward_intermediate.build(inputs_shape)
        self.feedforward_intermediate_dropout = Dropout(
            self.dropout, dtype=policy, name="feedforward_intermediate_dropout"
        )
        self.feedforward_output = keras.layers.Dense(
            d_model, dtype=policy, name="feedforward_output_dense"
        )
        self.feedforward_output.build(intermediate_shape)
        self.feedforward_dropout = Dropout(
            self.dropout, dtype=policy, name="feedforward_dropout"
        )

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
    ):
        checks.rank("inputs", inputs, (3,), "(batch, length, features)")
        if padding_mask is None:
            padding_mask = checks.keras_mask(inputs)
        checks.mask_shape("padding_mask", padding_mask, tuple(inputs.shape[:2]))
        return self._compiled_block(
            inputs, padding_mask, attention_mask, return_attention_scores, training
        )

    def _block(self, inputs, padding_mask, attention_mask, return_attention_scores, training):
        # 1. Self-attention sub-layer.
        residual = inputs
        x = self.self_attention_norm(inputs) if self.norm_first else inputs
        attended = self.self_attention(
            x,
            x,
            value_mask=padding_mask,
            attention_mask=attention_mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )
        if return_attention_scores:
            attended, scores = attended  # scores: (B, H, T, T)
        x = residual + self.self_attention_dropout(attended, training=training)
        if not self.norm_first:
            x = self.self_attention_norm(x)

        # 2. Feed-forward sub-layer.
        residual = x
        if self.norm_first:
            x = self.feedforward_norm(x)
        x = self.feedforward_intermediate(x)  # (B, T, intermediate_dim)
        x = self.feedforward_intermediate_dropout(x, training=training)
        x = self.feedforward_output(x)  # (B, T, D)
        x = residual + self.feedforward_dropout(x, training=training)
        if not self.norm_first:
            x = self.feedforward_norm(x)

        if return_attention_scores:
            return x, scores
        return x

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "norm_first": self.norm_first,
                "key_dim": self.key_dim,
            }
        )
        return config
