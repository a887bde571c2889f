"""Learned position embeddings (as in BERT and ViT)."""

import keras
from keras import ops

from kattn import checks


@keras.saving.register_keras_serializable(package="kattn")
class PositionEmbedding(keras.layers.Layer):
    """One learned vector per position, up to `sequence_length` positions.

    Args:
        sequence_length: the number of positions that have a vector.
        initializer: for the `(sequence_length, D)` table.

    Call arguments:
        inputs: `(B, T, D)` (or any `(..., T, D)`); only its shape is used.
        start_index: position of the first step, an int or a scalar tensor.

    Returns:
        The embeddings of positions `start_index ... start_index + T - 1`,
        broadcast to the shape of `inputs`.

    Past `sequence_length` there is no vector. When `T` and `start_index`
    are known while tracing (a Python int and a static length) that is a
    `ValueError` at once. When either is only known at run time (a tensor
    `start_index`, a `None` length), the lookup is a gather and the backend
    decides: TensorFlow raises an `InvalidArgumentError`, PyTorch an
    `IndexError`, and JAX returns NaN for the missing positions (its gather
    never raises); no backend silently reuses another position's vector.

    Example:

    >>> import numpy as np, kattn
    >>> layer = kattn.layers.PositionEmbedding(sequence_length=8)
    >>> x = np.zeros((2, 5, 4), "float32")
    >>> tuple(layer(x).shape)
    (2, 5, 4)
    >>> try:
    ...     layer(x, start_index=6)                 # positions 6..10 of 8
    ... except ValueError as error:
    ...     print("sequence_length" in str(error))
    True
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = checks.positive_int("sequence_length", sequence_length)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        if len(inputs_shape) < 2 or inputs_shape[-1] is None:
            raise ValueError(
                "`inputs` must have shape (..., length, features) with a known "
                f"feature size; received shape {tuple(inputs_shape)}."
            )
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.sequence_length, inputs_shape[-1]),
            initializer=self.initializer,
        )

    def call(self, inputs, start_index=0):
        checks.rank("inputs", inputs, range(2, 8), "(..., length, features)")
        checks.same_size(
            "feature size", "inputs", inputs.shape[-1], "embeddings", self.embeddings.shape[-1]
        )
        static_length = inputs.shape[-2]
        if isinstance(start_index, int) and static_length is not None:
            if start_index < 0 or start_index + static_length > self.sequence_length:
                raise ValueError(
                    "`start_index` + length must be at most `sequence_length`="
                    f"{self.sequence_length}; received start_index={start_index} "
                    f"and length {static_length}."
                )
        length = ops.shape(inputs)[-2]
        positions = ops.arange(length) + ops.cast(start_index, "int32")  # (T,)
        table = ops.cast(self.embeddings, self.compute_dtype)  # (L, D)
        embeddings = ops.take(table, positions, axis=0)  # (T, D)
        return ops.broadcast_to(embeddings, ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
