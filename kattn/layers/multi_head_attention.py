"""Multi-head attention with masks, a key/value cache, grouped-query attention and RoPE."""

import keras
from keras import ops

from kattn import checks
from kattn import ops as attention_ops


@keras.saving.register_keras_serializable(package="kattn")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017).

    Each head projects the inputs to its own queries, keys and values, runs
    `softmax(Q K^T / sqrt(key_dim)) V`, and the heads are concatenated and
    projected back. Weight-compatible with `keras.layers.MultiHeadAttention`:
    the same sub-layers (`query`, `key`, `value`, `attention_output`), kernel
    shapes and `get_weights()` order. The sub-layers are called, never
    bypassed, so `model.quantize("int8")` and `enable_lora` work on them.

    Args:
        num_heads: number of heads `H`.
        key_dim: size of each head's queries and keys.
        value_dim: size of each head's values; defaults to `key_dim`.
        dropout: dropout rate on the attention weights while training.
        use_bias: whether the four projections have biases.
        output_dim: size of the output; defaults to the query's last axis.
        kernel_initializer, bias_initializer: for the four projections.
        num_key_value_heads: heads of the keys/values (default `num_heads`);
            fewer is grouped-query attention (1: multi-query), each key/value
            head shared by `num_heads / num_key_value_heads` query heads.
        rotary: rotate queries and keys by their absolute positions (RoPE,
            `kattn.ops.rotary_embedding`) instead of adding position vectors.
        rotary_max_wavelength: the longest RoPE wavelength.

    Call arguments:
        query: `(B, Tq, Dq)`.
        value: `(B, Tk, Dv)`.
        key: `(B, Tk, Dk)`; defaults to `value`.
        query_mask: `(B, Tq)`, False on padded queries (their output rows
            attend to nothing and get zeros before the output projection).
        value_mask: `(B, Tk)`, False on padded keys/values.
        attention_mask: `(B, Tq, Tk)`, False where query i may not see key j.
        use_causal_mask: query i sees keys j <= i (offset by
            `cache_update_index` when decoding with a cache).
        return_attention_scores: also return the weights `(B, H, Tq, Tk)`.
        cache: `(B, 2, max_length, num_key_value_heads, key_dim)`, keys (after
            RoPE if `rotary`) then values of earlier
            steps. With `cache_update_index` the new keys/values are written at
            that position and attention runs over the whole cache (positions
            not yet written are masked). Without it the cache is read as
            precomputed keys/values (e.g. cross-attention while decoding).
        cache_update_index: int or scalar tensor, where to write.

    Returns:
        `(B, Tq, output_dim)`; then the weights if asked; then the updated cache
        if a cache was given.

    Example:

    >>> import keras, numpy as np, kattn
    >>> mha = kattn.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.random.rand(3, 5, 8).astype("float32")
    >>> out, scores = mha(x, x, use_causal_mask=True, return_attention_scores=True)
    >>> tuple(out.shape), tuple(scores.shape)
    ((3, 5, 8), (3, 2, 5, 5))

    Decoding one token at a time with the cache:

    >>> cache = np.zeros((3, 2, 5, 2, 4), "float32")
    >>> step, cache = mha(x[:, :1], x[:, :1], use_causal_mask=True,
    ...                   cache=cache, cache_update_index=0)
    >>> tuple(step.shape)
    (3, 1, 8)

    Grouped-query attention with rotary positions; the cache keeps 1 head:

    >>> gqa = kattn.layers.MultiHeadAttention(2, 4, num_key_value_heads=1, rotary=True)
    >>> out, cache = gqa(x, x, use_causal_mask=True, cache=np.zeros((3, 2, 5, 1, 4), "float32"),
    ...                  cache_update_index=0)
    >>> tuple(out.shape), tuple(cache.shape)
    ((3, 5, 8), (3, 2, 5, 1, 4))
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        output_dim=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        num_key_value_heads=None,
        rotary=False,
        rotary_max_wavelength=10000,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.key_dim = checks.positive_int("key_dim", key_dim)
        self.value_dim = checks.positive_int("value_dim", value_dim, allow_none=True)
        self.dropout = checks.rate("dropout", dropout)
        self.use_bias = use_bias
        self.output_dim = checks.positive_int("output_dim", output_dim, allow_none=True)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        kv_heads = self.num_heads if num_key_value_heads is None else num_key_value_heads
        self.num_key_value_heads = checks.positive_int("num_key_value_heads", kv_heads)
        if self.num_heads % self.num_key_value_heads:
            raise ValueError(
                "`num_key_value_heads` must divide `num_heads`; received "
                f"num_key_value_heads={kv_heads} and num_heads={num_heads}."
            )
        if rotary and self.key_dim % 2:
            raise ValueError(f"`rotary=True` needs an even `key_dim`; received key_dim={key_dim}.")
        self.rotary = bool(rotary)
        self.rotary_max_wavelength = rotary_max_wavelength
        self.supports_masking = True
        self.seed_generator = (
            keras.random.SeedGenerator() if self.dropout > 0 else None
        )

    @property
    def head_value_dim(self):
        return self.value_dim or self.key_dim

    def _projection(self, name, equation, output_shape, bias_axes):
        dense = keras.layers.EinsumDense(
            equation,
            output_shape=output_shape,
            bias_axes=bias_axes if self.use_bias else None,
            kernel_initializer=self.kernel_initializer.__class__.from_config(
                self.kernel_initializer.get_config()
            ),
            bias_initializer=self.bias_initializer.__class__.from_config(
                self.bias_initializer.get_config()
            ),
            dtype=self.dtype_policy,
            name=name,
        )
        # Padding masks are applied by the attention below; a projection lets
        # the Keras mask of its input pass instead of warning that it drops it.
        dense.supports_masking = True
        return dense

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"`{name}` must have shape (batch, length, features); "
                    f"received shape {tuple(shape)}."
                )
        self._feature_sizes = {"query": query_shape[-1], "key": key_shape[-1], "value": value_shape[-1]}
        heads, kv_heads, key_dim, value_dim = self.num_heads, self.num_key_value_heads, self.key_dim, self.head_value_dim
        # (B, T, D) -> (B, T, H or H_kv, head_dim)
        self.query_dense = self._projection("query", "abc,cde->abde", (None, heads, key_dim), "de")
        self.key_dense = self._projection("key", "abc,cde->abde", (None, kv_heads, key_dim), "de")
        self.value_dense = self._projection("value", "abc,cde->abde", (None, kv_heads, value_dim), "de")
        # (B, T, H, value_dim) -> (B, T, output_dim)
        output_dim = self.output_dim or query_shape[-1]
        self.output_dense = self._projection("attention_output", "abcd,cde->abe", (None, output_dim), "e")
        self.query_dense.build(query_shape)
        self.key_dense.build(key_shape)
        self.value_dense.build(value_shape)
        self.output_dense.build((query_shape[0], query_shape[1], heads, value_dim))
        self.built = True

    def _check_inputs(self, query, value, key, query_mask, value_mask, attention_mask, cache, cache_update_index):
        for name, tensor in (("query", query), ("value", value), ("key", key)):
            checks.rank(name, tensor, (3,), "(batch, length, features)")
        batch, query_length = query.shape[0], query.shape[1]
        checks.same_size("batch size", "query", batch, "value", value.shape[0])
        checks.same_size("batch size", "query", batch, "key", key.shape[0])
        checks.same_size("length", "key", key.shape[1], "value", value.shape[1])
        for name, tensor in (("query", query), ("key", key), ("value", value)):
            expected = self._feature_sizes[name]
            checks.same_size("feature size", name, tensor.shape[-1], f"{name} projection input", expected)
        key_length = key.shape[1]
        if cache is not None:
            expected = (batch, 2, None, self.num_key_value_heads, self.key_dim)
            checks.mask_shape("cache", cache, expected)
            if self.head_value_dim != self.key_dim:
                raise ValueError(
                    "`cache` needs `value_dim == key_dim` (keys and values are "
                    f"stacked); received key_dim={self.key_dim}, value_dim={self.value_dim}."
                )
            key_length = cache.shape[2]
        elif cache_update_index is not None:
            raise ValueError("`cache_update_index` was given without a `cache`.")
        checks.mask_shape("query_mask", query_mask, (batch, query_length))
        checks.mask_shape("value_mask", value_mask, (batch, key_length))
        checks.mask_shape("attention_mask", attention_mask, (batch, query_length, key_length))

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        training=None,
        cache=None,
        cache_update_index=None,
    ):
        if key is None:
            key = value
        self._check_inputs(query, value, key, query_mask, value_mask, attention_mask, cache, cache_update_index)
        reads_cache_only = cache is not None and cache_update_index is None

        # 1. Project every token to each head's queries, keys and values (H_kv = num_key_value_heads).
        queries = self.query_dense(query)  # (B, Tq, H, key_dim)
        if reads_cache_only:  # precomputed keys/values, e.g. cross-attention while decoding
            keys, values = cache[:, 0], cache[:, 1]  # (B, max_length, H_kv, key_dim)
        else:
            keys = self.key_dense(key)  # (B, Tk, H_kv, key_dim)
            values = self.value_dense(value)  # (B, Tk, H_kv, value_dim)
        if self.rotary:  # RoPE: turn queries and new keys by their absolute positions
            start = 0 if cache_update_index is None else cache_update_index
            queries = self._rotate(queries, start)
            keys = keys if reads_cache_only else self._rotate(keys, start)

        # 2. Decoding: write this call's keys/values into the cache, attend to all of it.
        if cache is not None and not reads_cache_only:
            keys, values, cache = self._update_cache(cache, keys, values, cache_update_index)

        # Grouped-query attention: each key/value head serves H / H_kv query heads.
        groups = self.num_heads // self.num_key_value_heads
        if groups > 1:
            keys = ops.repeat(keys, groups, axis=2)  # (B, Tk, H, key_dim)
            values = ops.repeat(values, groups, axis=2)  # (B, Tk, H, value_dim)

        # 3. Which keys each query may see. Causal attention with no other mask
        # (the usual training case) lets the attention kernel build the mask.
        causal_only = use_causal_mask and cache is None and all(
            m is None for m in (query_mask, value_mask, attention_mask)
        )
        mask = None if causal_only else self._attention_mask(
            queries, keys, query_mask, value_mask, attention_mask, use_causal_mask,
            cache_update_index,
        )  # broadcastable to (B, Tq, Tk), or None

        # 4. softmax(Q K^T / sqrt(key_dim)) V for every head.
        attended = attention_ops.scaled_dot_product_attention(
            queries,
            keys,
            values,
            mask=mask,
            is_causal=causal_only,  # the kernel builds the causal mask itself
            dropout_rate=self.dropout,
            return_attention_scores=return_attention_scores,
            training=training,
            seed=self.seed_generator,
        )  # (B, Tq, H, value_dim)
        if return_attention_scores:
            attended, scores = attended  # scores: (B, H, Tq, Tk)

        # 5. Concatenate the heads and project back.
        output = self.output_dense(attended)  # (B, Tq, output_dim)

        results = (output,)
        if return_attention_scores:
            results += (scores,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def _rotate(self, x, start):
        """RoPE on `x` `(B, T, heads, d)` whose first token sits at position `start`."""
        positions = ops.cast(start, "int32") + ops.arange(ops.shape(x)[1], dtype="int32")
        return attention_ops.rotary_embedding(x, positions, self.rotary_max_wavelength)

    def _update_cache(self, cache, new_keys, new_values, cache_update_index):
        """Write `new_keys`/`new_values` `(B, Tq, H_kv, d)` at `cache_update_index`.

        Returns the keys and values of every cache position `(B, max_length,
        H_kv, d)` and the updated cache `(B, 2, max_length, H_kv, d)`.
        """
        start = [0, cache_update_index, 0, 0]
        keys = ops.slice_update(cache[:, 0], start, ops.cast(new_keys, cache.dtype))
        values = ops.slice_update(cache[:, 1], start, ops.cast(new_values, cache.dtype))
        cache = ops.stack([keys, values], axis=1)
        return ops.cast(keys, new_keys.dtype), ops.cast(values, new_values.dtype), cache

    def _attention_mask(self, queries, keys, query_mask, value_mask, attention_mask,
                        use_causal_mask, cache_update_index):
        """Padding, attention and causal masks merged into one boolean mask
        broadcastable to `(B, Tq, Tk)`, or None."""
        mask = attention_ops.merge_masks(
            query_mask=query_mask, key_mask=value_mask, attention_mask=attention_mask
        )
        query_length, key_length = ops.shape(queries)[1], ops.shape(keys)[1]
        if cache_update_index is None:  # no cache, or a read-only one
            causal = attention_ops.causal_mask(query_length, key_length) if use_causal_mask else None
            return attention_ops.merge_masks(attention_mask=mask, causal=causal)
        if use_causal_mask:  # query i sits at position cache_update_index + i
            visible = attention_ops.causal_mask(query_length, key_length, cache_update_index)
        else:  # every position written so far
            written = ops.cast(cache_update_index, "int32") + query_length
            visible = ops.arange(key_length, dtype="int32")[None, :] < written  # (1, max_length)
        return attention_ops.merge_masks(attention_mask=mask, causal=visible)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_dim": self.output_dim,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "num_key_value_heads": self.num_key_value_heads,
                "rotary": self.rotary,
                "rotary_max_wavelength": self.rotary_max_wavelength,
            }
        )
        return config
