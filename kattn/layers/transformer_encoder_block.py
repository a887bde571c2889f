"""One transformer encoder block: self-attention, then a feed-forward network."""

import keras

from kattn import checks
from kattn.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="kattn")
class TransformerEncoderBlock(TransformerBlock):
    """The encoder block of Vaswani et al. (2017).

    Post-norm (the paper's block, the default):

        x = LayerNorm(x + Dropout(SelfAttention(x)))
        x = LayerNorm(x + Dropout(FFN(x)))

    Pre-norm (`norm_first=True`, steadier for deep stacks):

        x = x + Dropout(SelfAttention(LayerNorm(x)))
        x = x + Dropout(FFN(LayerNorm(x)))

    with `FFN(x) = Dense(D)(Dropout(activation(Dense(intermediate_dim)(x))))`.
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
        kernel_initializer, bias_initializer: for every projection and Dense
            layer (e.g. BERT's `TruncatedNormal(stddev=0.02)`).

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

    def build(self, inputs_shape):
        if len(inputs_shape) != 3 or inputs_shape[-1] is None:
            raise ValueError(
                "`inputs` must have shape (batch, length, features) with known "
                f"features; received shape {tuple(inputs_shape)}."
            )
        self.self_attention = self._attention("self_attention_layer", inputs_shape, inputs_shape)
        self.self_attention_norm = self._norm("self_attention_layer_norm", inputs_shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")
        self._build_feedforward(inputs_shape)

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
        x = self._feedforward(x, training)  # (B, T, D)

        if return_attention_scores:
            return x, scores
        return x
