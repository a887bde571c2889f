"""The BERT encoder (Devlin et al., 2019) built from kattn layers."""

import keras

from kattn import checks
from kattn.layers.position_embedding import PositionEmbedding
from kattn.layers.transformer_encoder_block import TransformerEncoderBlock


@keras.saving.register_keras_serializable(package="zoo")
def gelu_tanh(x):
    """GELU with the tanh approximation (KerasHub's and the original TF BERT's)."""
    return keras.activations.gelu(x, approximate=True)


def bert_initializer():
    """BERT's initialiser: truncated normal with standard deviation 0.02."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


@keras.saving.register_keras_serializable(package="zoo")
class BertBackbone(keras.Model):
    """BERT: embeddings, then a stack of post-norm transformer encoder blocks.

        x = Dropout(LayerNorm(token_emb[ids] + position_emb[t] + segment_emb[seg]))
        x = TransformerEncoderBlock(x)            # num_layers times, GELU
        sequence_output = x                       # (B, T, hidden_dim)
        pooled_output = tanh(W x[:, 0] + b)       # (B, hidden_dim), the [CLS] token

    Args:
        vocabulary_size: number of token ids.
        num_layers: encoder blocks.
        num_heads: attention heads per block (`hidden_dim` must divide).
        hidden_dim: model width.
        intermediate_dim: width of the feed-forward hidden layer.
        max_sequence_length: positions that have a learned embedding.
        num_segments: segment (token type) ids, 2 for sentence pairs.
        dropout: on the embeddings, attention weights and residual branches.
        gelu_approximate: False for the exact erf GELU (Hugging Face
            checkpoints), True for the tanh form (KerasHub's BertBackbone).
        layer_norm_epsilon: of every LayerNorm (1e-12 in BERT checkpoints).

    Inputs: a dict with `token_ids` (int, `(B, T)`), `segment_ids` (int,
    `(B, T)`) and `padding_mask` (`(B, T)`, 1/True on real tokens), as the
    `BertTokenizer` makes them. Outputs: a dict with `sequence_output` and
    `pooled_output`. Padded positions of `sequence_output` are not
    meaningful.

    Example:

    >>> import numpy as np
    >>> from zoo.bert import BertBackbone
    >>> backbone = BertBackbone(vocabulary_size=100, num_layers=2, num_heads=2,
    ...                         hidden_dim=16, intermediate_dim=32)
    >>> outputs = backbone({"token_ids": np.array([[2, 7, 9, 3, 0]]),
    ...                     "segment_ids": np.zeros((1, 5), "int32"),
    ...                     "padding_mask": np.array([[1, 1, 1, 1, 0]])})
    >>> tuple(outputs["sequence_output"].shape), tuple(outputs["pooled_output"].shape)
    ((1, 5, 16), (1, 16))
    """

    def __setattr__(self, name, value):
        # On torch a Keras model is a torch Module, which refuses sub-layers
        # before `Model.__init__`; the functional graph tracks them anyway.
        if keras.backend.backend() == "torch" and not hasattr(self, "_initialized"):
            return object.__setattr__(self, name, value)
        return super().__setattr__(name, value)

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        num_segments=2,
        dropout=0.1,
        gelu_approximate=False,
        layer_norm_epsilon=1e-12,
        dtype=None,
        **kwargs,
    ):
        checks.positive_int("vocabulary_size", vocabulary_size)
        checks.positive_int("num_layers", num_layers)
        checks.positive_int("num_heads", num_heads)
        checks.positive_int("hidden_dim", hidden_dim)
        checks.positive_int("intermediate_dim", intermediate_dim)
        checks.positive_int("max_sequence_length", max_sequence_length)
        checks.positive_int("num_segments", num_segments)
        checks.rate("dropout", dropout)
        if hidden_dim % num_heads != 0:
            raise ValueError(
                "`hidden_dim` must be divisible by `num_heads`; received "
                f"hidden_dim={hidden_dim} and num_heads={num_heads}."
            )

        # === Layers ===
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size, hidden_dim, embeddings_initializer=bert_initializer(),
            dtype=dtype, name="token_embedding",
        )
        self.position_embedding = PositionEmbedding(
            max_sequence_length, initializer=bert_initializer(),
            dtype=dtype, name="position_embedding",
        )
        self.segment_embedding = keras.layers.Embedding(
            num_segments, hidden_dim, embeddings_initializer=bert_initializer(),
            dtype=dtype, name="segment_embedding",
        )
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="embeddings_layer_norm"
        )
        self.embeddings_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )
        activation = gelu_tanh if gelu_approximate else "gelu"
        self.transformer_layers = [
            TransformerEncoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                activation=activation,
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=bert_initializer(),
                dtype=dtype,
                name=f"transformer_layer_{i}",
            )
            for i in range(num_layers)
        ]
        self.pooled_dense = keras.layers.Dense(
            hidden_dim, activation="tanh", kernel_initializer=bert_initializer(),
            dtype=dtype, name="pooled_dense",
        )

        # === Functional graph ===
        token_ids = keras.Input((None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input((None,), dtype="int32", name="segment_ids")
        padding_mask = keras.Input((None,), dtype="int32", name="padding_mask")

        tokens = self.token_embedding(token_ids)  # (B, T, D)
        x = (
            tokens
            + self.position_embedding(tokens)
            + self.segment_embedding(segment_ids)
        )  # (B, T, D)
        x = self.embeddings_layer_norm(x)
        x = self.embeddings_dropout(x)
        attend = keras.ops.cast(padding_mask, "bool")  # (B, T)
        for block in self.transformer_layers:
            x = block(x, padding_mask=attend)  # (B, T, D)
        pooled = self.pooled_dense(x[:, 0, :])  # (B, D), the [CLS] token
        super().__init__(
            inputs={
                "token_ids": token_ids,
                "segment_ids": segment_ids,
                "padding_mask": padding_mask,
            },
            outputs={"sequence_output": x, "pooled_output": pooled},
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.num_segments = num_segments
        self.dropout = dropout
        self.gelu_approximate = gelu_approximate
        self.layer_norm_epsilon = layer_norm_epsilon

    @staticmethod
    def get_layout_map(device_mesh):
        """How `--distribution model` splits BERT over the mesh's `model` axis.

        Every block's query/key/value and output kernels by heads, its
        feed-forward kernels by their inner width, the token, position and
        segment tables by width; the rest is copied. See `zoo.distribution`.

        >>> import keras
        >>> from zoo.bert import BertBackbone
        >>> mesh = keras.distribution.DeviceMesh((1, 1), ["batch", "model"],
        ...                                      keras.distribution.list_devices()[:1])
        >>> layouts = BertBackbone.get_layout_map(mesh)
        >>> layouts["transformer_layer_0/self_attention_layer/query/kernel"].axes
        (None, 'model', None)
        """
        from zoo import distribution

        return distribution.layout_map(device_mesh, distribution.BLOCK_LAYOUTS)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "max_sequence_length": self.max_sequence_length,
            "num_segments": self.num_segments,
            "dropout": self.dropout,
            "gelu_approximate": self.gelu_approximate,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)
