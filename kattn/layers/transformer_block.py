"""What the encoder and decoder blocks share: their arguments, sub-layer
factories and the feed-forward sub-layer."""

import keras

from kattn import checks
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


class TransformerBlock(keras.layers.Layer):
    """Base of `TransformerEncoderBlock` and `TransformerDecoderBlock`.

    Holds the arguments both take (see `TransformerEncoderBlock`) and builds
    their sub-layers: attention, LayerNorm and Keras' `Dropout`, and the
    feed-forward network `Dense(D)(Dropout(activation(Dense(intermediate_dim)(x))))`
    with its residual connection. Every sub-layer with a kernel gets
    `kernel_initializer` and `bias_initializer`.
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
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
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
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def _initializers(self):
        """A fresh copy of both initializers for one sub-layer."""
        return {
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }

    def _attention(self, name, query_shape, value_shape, **options):
        key_dim = head_size(query_shape[-1], self.num_heads, self.key_dim)
        attention = MultiHeadAttention(
            self.num_heads, key_dim, dropout=self.dropout, dtype=self.dtype_policy, name=name,
            **self._initializers(), **options,
        )
        attention.build(query_shape, value_shape)
        return attention

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def _dropout(self, name):
        return keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name=name)

    def _build_feedforward(self, shape):
        """The feed-forward sub-layer's layers, named as in keras_hub."""
        self.feedforward_norm = self._norm("feedforward_layer_norm", shape)
        self.feedforward_intermediate = keras.layers.Dense(
            self.intermediate_dim, activation=self.activation, dtype=self.dtype_policy,
            name="feedforward_intermediate_dense", **self._initializers(),
        )
        self.feedforward_intermediate.build(shape)
        self.feedforward_intermediate_dropout = self._dropout("feedforward_intermediate_dropout")
        self.feedforward_output = keras.layers.Dense(
            shape[-1], dtype=self.dtype_policy, name="feedforward_output_dense",
            **self._initializers(),
        )
        self.feedforward_output.build(tuple(shape[:-1]) + (self.intermediate_dim,))
        self.feedforward_dropout = self._dropout("feedforward_dropout")

    def _feedforward(self, x, training):
        """The feed-forward sub-layer with its residual connection and LayerNorm."""
        residual = x
        if self.norm_first:
            x = self.feedforward_norm(x)
        x = self.feedforward_intermediate(x)  # (B, T, intermediate_dim)
        x = self.feedforward_intermediate_dropout(x, training=training)
        x = self.feedforward_output(x)  # (B, T, D)
        x = residual + self.feedforward_dropout(x, training=training)
        if not self.norm_first:
            x = self.feedforward_norm(x)
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
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
