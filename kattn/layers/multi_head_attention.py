"""Multi-head attention with masks and a key/value cache."""

import math

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
    shapes and `get_weights()` order.

    Args:
        num_heads: number of heads `H`.
        key_dim: size of each head's queries and keys.
        value_dim: size of each head's values; defaults to `key_dim`.
        dropout: dropout rate on the attention weights while training.
        use_bias: whether the four projections have biases.
        output_dim: size of the output; defaults to the query's last axis.
        kernel_initializer, bias_initializer: for the four projections.

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
        cache: `(B, 2, max_length, H, key_dim)`, keys then values of earlier
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
        self.supports_masking = True
        self.seed_generator = (
            keras.random.SeedGenerator() if self.dropout > 0 else None
        )

    @property
    def head_value_dim(self):
        return self.value_dim or self.key_dim

    def _projection(self, name, equation, output_shape, bias_axes):
        return keras.layers.EinsumDense(
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

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"`{name}` must have shape (batch, length, features); "
                    f"received shape {tuple(shape)}."
                )
        heads, key_dim, value_dim = self.num_heads, self.key_dim, self.head_value_dim
        # (B, T, D) -> (B, T, H, head_dim)
        self.query_dense = self._projection("query", "abc,cde->abde", (None, heads, key_dim), "de")
        self.key_dense = self._projection("key", "abc,cde->abde", (None, heads, key_dim), "de")
        self.value_dense = self._projection("value", "abc,cde->abde", (None, heads, value_dim), "de")
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
            layer = {"query": self.query_dense, "key": self.key_dense, "value": self.value_dense}[name]
            checks.same_size("feature size", name, tensor.shape[-1], f"{name} projection input", layer.kernel.shape[0])
        key_length = key.shape[1]
        if cache is not None:
            expected = (batch, 2, None, self.num_heads, self.key_dim)
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

        self_attention = query is value and key is value and cache is None
        mask = attention_ops.merge_masks(
            query_mask=query_mask, key_mask=value_mask, attention_mask=attention_mask
        )  # broadcastable to (B, Tq, Tk), or None
        if self_attention and self.head_value_dim == self.key_dim:
            attended = self._self_attention(
                query, mask, use_causal_mask, return_attention_scores, training
            )
        else:
            attended = self._general_attention(
                query, value, key, mask, use_causal_mask, return_attention_scores,
                training, cache, cache_update_index,
            )
        if cache is not None:
            attended, cache = attended
        if return_attention_scores:
            attended, scores = attended  # scores: (B, H, Tq, Tk)
        output = self._project_output(attended)  # (B, Tq, output_dim)

        results = (output,)
        if return_attention_scores:
            results += (scores,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    def _general_attention(
        self, query, value, key, mask, use_causal_mask, return_attention_scores,
        training, cache, cache_update_index,
    ):
        """Separate projections: cross-attention, and decoding with a cache.

        Returns what `scaled_dot_product_attention` returns, `(B, Tq, H, Dv)`
        (and the weights), then the updated cache when there is one.
        """
        query_length = ops.shape(query)[1]
        queries = self._project(self.query_dense, query)  # (B, Tq, H, key_dim)
        causal_offset = 0
        written = None  # keys that exist: all, or those written to the cache
        if cache is None:
            keys = self._project(self.key_dense, key)  # (B, Tk, H, key_dim)
            values = self._project(self.value_dense, value)  # (B, Tk, H, value_dim)
        elif cache_update_index is None:
            keys, values = cache[:, 0], cache[:, 1]  # precomputed, read only
        else:
            new_keys = self._project(self.key_dense, key)  # (B, Tq, H, key_dim)
            new_values = self._project(self.value_dense, value)
            start = [0, cache_update_index, 0, 0]
            keys = ops.slice_update(cache[:, 0], start, ops.cast(new_keys, cache.dtype))
            values = ops.slice_update(cache[:, 1], start, ops.cast(new_values, cache.dtype))
            cache = ops.stack([keys, values], axis=1)  # (B, 2, max_length, H, key_dim)
            keys = ops.cast(keys, queries.dtype)
            values = ops.cast(values, queries.dtype)
            causal_offset = cache_update_index
            if not use_causal_mask:
                key_positions = ops.arange(ops.shape(keys)[1], dtype="int32")
                last_written = ops.cast(cache_update_index, "int32") + query_length
                written = key_positions[None, :] < last_written  # (1, max_length)

        # Causal attention with no other mask (the usual training case): let
        # the kernel build the causal mask itself (cheaper, and no query row
        # can be empty since key 0 is always visible).
        causal_only = use_causal_mask and cache is None and mask is None
        causal = None
        if use_causal_mask and not causal_only:
            causal = attention_ops.causal_mask(query_length, ops.shape(keys)[1], causal_offset)
        mask = attention_ops.merge_masks(
            attention_mask=mask, causal=written if causal is None else causal
        )  # broadcastable to (B, Tq, Tk)

        attended = attention_ops.scaled_dot_product_attention(
            queries,
            keys,
            values,
            mask=mask,
            is_causal=causal_only,
            dropout_rate=self.dropout,
            return_attention_scores=return_attention_scores,
            training=training,
            seed=self.seed_generator,
        )
        if cache is not None:
            return attended, cache
        return attended

    def _self_attention(self, inputs, mask, use_causal_mask, return_attention_scores, training):
        """Self-attention with one projection matmul and heads-first math.

        The query, key and value kernels (`(D, H, d)` each, the Keras layout)
        are concatenated into one `(D, 3 H d)` kernel, the query part scaled by
        `1 / sqrt(d)`, so one matmul gives scaled queries, keys and values.
        This saves two of the three input-gradient matmuls and their sum in
        the backward pass, the scaling of the queries, and two of the four
        transposes around the attention core; like every projection here it
        is a plain 2-D matmul (see `_affine`). The weights stay the three
        Keras-compatible sub-layers; only the arithmetic is grouped.

        Returns `(B, T, H, d)` (and the weights `(B, H, T, T)` if asked).
        """
        heads, head_dim = self.num_heads, self.key_dim
        batch, length = ops.shape(inputs)[0], ops.shape(inputs)[1]
        matrices = (
            self._matrix(self.query_dense, scale=1.0 / math.sqrt(head_dim)),
            self._matrix(self.key_dense),
            self._matrix(self.value_dense),
        )  # ((D, H d), (H d,) or None) each
        kernel = ops.concatenate([kernel for kernel, _ in matrices], axis=-1)  # (D, 3 H d)
        bias = None if not self.use_bias else ops.concatenate([bias for _, bias in matrices], axis=0)
        projected = self._affine(inputs, kernel, bias)  # (B, T, 3 H d)
        projected = ops.reshape(projected, (batch, length, 3, heads, head_dim))  # (B, T, 3, H, d)
        dropout_active = bool(training) and self.dropout > 0.0
        if attention_ops.uses_fused_path(return_attention_scores, dropout_active, True):
            return attention_ops.scaled_dot_product_attention(
                projected[:, :, 0], projected[:, :, 1], projected[:, :, 2],
                mask=mask, is_causal=use_causal_mask, scale=1.0,
            )  # (B, T, H, d)
        queries, keys, values = ops.unstack(ops.transpose(projected, (2, 0, 3, 1, 4)), num=3)  # (B, H, T, d) each
        attended = attention_ops.heads_first_attention(
            queries, keys, values,
            mask=mask,
            is_causal=use_causal_mask,
            dropout_rate=self.dropout,
            return_attention_scores=return_attention_scores,
            training=training,
            seed=self.seed_generator,
        )
        if return_attention_scores:
            attended, scores = attended
            return ops.transpose(attended, (0, 2, 1, 3)), scores  # (B, T, H, d)
        return ops.transpose(attended, (0, 2, 1, 3))  # (B, T, H, d)

    def _matrix(self, dense, scale=None):
        """`dense`'s kernel as a 2-D matrix and its bias as a vector, in the
        compute dtype, optionally multiplied by `scale`.

        Query/key/value kernels `(D, H, d)` -> `(D, H d)`; the output kernel
        `(H, d, D_out)` -> `(H d, D_out)`; biases -> `(features_out,)` or None.
        """
        kernel = ops.cast(dense.kernel, self.compute_dtype)
        if dense is self.output_dense:
            kernel = ops.reshape(kernel, (-1, kernel.shape[-1]))
        else:
            kernel = ops.reshape(kernel, (kernel.shape[0], -1))
        bias = ops.reshape(ops.cast(dense.bias, self.compute_dtype), (-1,)) if self.use_bias else None
        if scale is not None:
            scale = ops.cast(scale, self.compute_dtype)
            kernel = kernel * scale
            bias = None if bias is None else bias * scale
        return kernel, bias

    @staticmethod
    def _affine(tensor, kernel, bias):
        """`tensor @ kernel + bias` over the last axis, as one 2-D matmul.

        (`keras.ops.matmul` of a rank-3 tensor by a matrix is a `tensordot`,
        i.e. a reshape and a plain matmul; on TensorFlow the einsum of `EinsumDense` is a
        batched matmul that broadcasts the kernel over the batch, whose
        kernel gradient builds a `(B, D_in, D_out)` tensor and sums it.)
        """
        projected = ops.matmul(tensor, kernel)
        return projected if bias is None else projected + bias

    def _project(self, dense, tensor):
        """`(B, T, D)` -> `(B, T, H, head_dim)` with the `query`, `key` or
        `value` weights. The Keras mask of `tensor` is left in place."""
        kernel, bias = self._matrix(dense)
        projected = self._affine(tensor, kernel, bias)  # (B, T, H head_dim)
        batch, length = ops.shape(tensor)[0], ops.shape(tensor)[1]
        return ops.reshape(projected, (batch, length, self.num_heads, dense.kernel.shape[-1]))

    def _project_output(self, attended):
        """`(B, T, H, value_dim)` -> `(B, T, output_dim)` with the
        `attention_output` weights."""
        batch, length = ops.shape(attended)[0], ops.shape(attended)[1]
        heads_joined = ops.reshape(attended, (batch, length, self.num_heads * self.head_value_dim))
        return self._affine(heads_joined, *self._matrix(self.output_dense))

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
            }
        )
        return config
