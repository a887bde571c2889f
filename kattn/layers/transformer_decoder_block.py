"""One transformer decoder block: causal self-attention, cross-attention, FFN."""

import keras

from kattn import checks
from kattn.layers.transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="kattn")
class TransformerDecoderBlock(TransformerBlock):
    """The decoder block of Vaswani et al. (2017).

    Post-norm (default), each sub-layer wrapped as `x = LayerNorm(x + Dropout(f(x)))`:

        1. causal self-attention over the decoder sequence
        2. cross-attention: decoder queries, encoder keys/values
           (only with `cross_attention=True`)
        3. FFN: Dense(D)(Dropout(activation(Dense(intermediate_dim)(x))))

    `norm_first=True` gives the pre-norm block, `x = x + Dropout(f(LayerNorm(x)))`.
    Sub-layer names follow `keras_hub.layers.TransformerDecoder`
    (`self_attention`, `cross_attention`, `*_layer_norm`, `feedforward_*`).

    `num_heads`, `intermediate_dim`, `dropout`, `activation`,
    `layer_norm_epsilon`, `norm_first`, `key_dim`, `kernel_initializer` and
    `bias_initializer` are as in `TransformerEncoderBlock`.

    Args:
        cross_attention: whether the block attends to an encoder sequence
            (False: a decoder-only block, as in GPT).
        num_key_value_heads, rotary: grouped-query attention and rotary
            positions in the self-attention (see `MultiHeadAttention`).

    Call arguments:
        decoder_sequence: `(B, T, D)`.
        encoder_sequence: `(B, S, De)`; required with cross-attention, not
            allowed without.
        decoder_padding_mask: `(B, T)` (with a cache: `(B, max_length)`, over
            the cache positions), False on padding; defaults to the Keras mask
            of `decoder_sequence`.
        encoder_padding_mask: `(B, S)`; defaults to the Keras mask of
            `encoder_sequence`.
        use_causal_mask: token i sees decoder tokens j <= i only.
        self_attention_cache: `(B, 2, max_length, num_key_value_heads,
            key_dim)`, the keys
            and values of the earlier steps.
        self_attention_cache_update_index: where this call's tokens go in the
            cache (int or scalar tensor); the causal mask is shifted by it.
        return_attention_scores: also return `{"self": (B, H, T, T or
            max_length), "cross": (B, H, T, S)}` ("cross" only with
            cross-attention).

    Returns:
        `(B, T, D)`; then the updated cache if one was given; then the scores
        dict if asked.

    Example, decoding two steps with the cache:

    >>> import keras, numpy as np, kattn
    >>> block = kattn.layers.TransformerDecoderBlock(num_heads=2, intermediate_dim=16)
    >>> target = np.random.rand(1, 3, 8).astype("float32")
    >>> source = np.random.rand(1, 5, 8).astype("float32")
    >>> full = block(target, source)                      # (1, 3, 8)
    >>> cache = np.zeros((1, 2, 3, 2, 4), "float32")      # (B, 2, max_len, H, head_dim)
    >>> step0, cache = block(target[:, 0:1], source, self_attention_cache=cache,
    ...                      self_attention_cache_update_index=0)
    >>> step1, cache = block(target[:, 1:2], source, self_attention_cache=cache,
    ...                      self_attention_cache_update_index=1)
    >>> to_numpy = keras.ops.convert_to_numpy
    >>> bool(np.allclose(to_numpy(step1), to_numpy(full[:, 1:2]), atol=1e-5))
    True
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
        cross_attention=True,
        num_key_value_heads=None,
        rotary=False,
        **kwargs,
    ):
        super().__init__(
            num_heads, intermediate_dim, dropout, activation, layer_norm_epsilon, norm_first,
            key_dim, **kwargs,
        )
        self.cross_attention = bool(cross_attention)
        self.num_key_value_heads = checks.positive_int("num_key_value_heads", num_key_value_heads, allow_none=True)
        self.rotary = bool(rotary)

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        shape = decoder_sequence_shape
        if len(shape) != 3 or shape[-1] is None:
            raise ValueError(
                "`decoder_sequence` must have shape (batch, length, features) "
                f"with known features; received shape {tuple(shape)}."
            )
        if self.cross_attention and encoder_sequence_shape is None:
            raise ValueError(
                "`encoder_sequence` is required when `cross_attention=True`; "
                "received None. Use cross_attention=False for a decoder-only block."
            )
        self.self_attention = self._attention(
            "self_attention", shape, shape, num_key_value_heads=self.num_key_value_heads, rotary=self.rotary
        )
        self.self_attention_norm = self._norm("self_attention_layer_norm", shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")
        if self.cross_attention:
            self.cross_attention_layer = self._attention("cross_attention", shape, encoder_sequence_shape)
            self.cross_attention_norm = self._norm("cross_attention_layer_norm", shape)
            self.cross_attention_dropout = self._dropout("cross_attention_dropout")
        self._build_feedforward(shape)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        use_causal_mask=True,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        return_attention_scores=False,
        training=None,
    ):
        checks.rank("decoder_sequence", decoder_sequence, (3,), "(batch, length, features)")
        if self.cross_attention and encoder_sequence is None:
            raise ValueError(
                "`encoder_sequence` is required: this block was made with "
                "cross_attention=True; received None."
            )
        if not self.cross_attention and encoder_sequence is not None:
            raise ValueError(
                "`encoder_sequence` must be None: this block was made with "
                f"cross_attention=False; received shape {tuple(encoder_sequence.shape)}."
            )
        if decoder_padding_mask is None and self_attention_cache is None:
            # With a cache the keys are the cache positions, which the Keras
            # mask of this call's tokens does not cover.
            decoder_padding_mask = checks.keras_mask(decoder_sequence)
        if encoder_sequence is not None and encoder_padding_mask is None:
            encoder_padding_mask = checks.keras_mask(encoder_sequence)
        if self_attention_cache_update_index is not None:
            # A tensor, so that a traced decoding step is not retraced at every index.
            self_attention_cache_update_index = keras.ops.convert_to_tensor(
                self_attention_cache_update_index, dtype="int32"
            )
        scores = {}

        # 1. Causal self-attention (reading and writing the cache if given).
        residual = decoder_sequence
        x = self.self_attention_norm(decoder_sequence) if self.norm_first else decoder_sequence
        attended = self.self_attention(
            x,
            x,
            value_mask=decoder_padding_mask,
            use_causal_mask=use_causal_mask,
            return_attention_scores=return_attention_scores,
            training=training,
            cache=self_attention_cache,
            cache_update_index=self_attention_cache_update_index,
        )
        if self_attention_cache is None and not return_attention_scores:
            attended = (attended,)
        attended, *extras = attended
        if return_attention_scores:
            scores["self"] = extras.pop(0)  # (B, H, T, T or max_length)
        if self_attention_cache is not None:
            self_attention_cache = extras.pop(0)  # (B, 2, max_length, H_kv, key_dim)
        x = residual + self.self_attention_dropout(attended, training=training)
        if not self.norm_first:
            x = self.self_attention_norm(x)

        # 2. Cross-attention to the encoder sequence.
        if self.cross_attention:
            residual = x
            if self.norm_first:
                x = self.cross_attention_norm(x)
            attended = self.cross_attention_layer(
                x,
                encoder_sequence,
                value_mask=encoder_padding_mask,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                attended, scores["cross"] = attended  # (B, H, T, S)
            x = residual + self.cross_attention_dropout(attended, training=training)
            if not self.norm_first:
                x = self.cross_attention_norm(x)

        # 3. Feed-forward network.
        x = self._feedforward(x, training)  # (B, T, D)

        results = (x,)
        if self_attention_cache is not None:
            results += (self_attention_cache,)
        if return_attention_scores:
            results += (scores,)
        return results[0] if len(results) == 1 else results

    def get_config(self):
        config = super().get_config()
        config.update(cross_attention=self.cross_attention, num_key_value_heads=self.num_key_value_heads,
                      rotary=self.rotary)
        return config
