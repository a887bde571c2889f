"""BERT pretraining: the masked-LM and next-sentence heads on a backbone."""

import keras
from keras import ops

from zoo.bert.backbone import BertBackbone, bert_initializer, gelu_tanh

BACKBONE_INPUTS = ("token_ids", "segment_ids", "padding_mask")


@keras.saving.register_keras_serializable(package="zoo")
class BertPretrainer(keras.Model):
    """BERT with its two pretraining heads (Devlin et al., 2019, section 3.1).

    Masked LM, at the chosen positions only:

        h = LayerNorm(gelu(W sequence_output[mask_positions] + b))   # (B, P, D)
        mlm = h E^T + c                                               # (B, P, V)

    where `E` is the backbone's token embedding table (the output projection
    is tied to the input embedding) and `c` a bias per token. Next sentence:

        nsp = W' pooled_output + b'                                   # (B, 2)

    Both outputs are float32 logits. Label 1 of `nsp` means "B follows A".
    An optional `tokenizer` (a `BertTokenizer`) is saved with the model, so
    that a pretrained preset carries its vocabulary to fine-tuning.

    Inputs: the backbone's dict plus `mask_positions` (int, `(B, P)`).
    `pretraining_dataset` makes batches `(inputs, {"mlm": ids, "nsp": labels},
    {"mlm": mask_weights, "nsp": ones})`; the mask weights (0 on padding
    slots of `mask_positions`) keep the loss on masked positions only.

    `compile()` without arguments uses AdamW (1e-4, weight decay 0.01), the
    masked-LM cross-entropy averaged over the masked tokens, the
    next-sentence cross-entropy averaged over the batch, and accuracy for
    both (`mlm_accuracy`, `nsp_accuracy`).

    Example:

    >>> import numpy as np
    >>> from zoo.bert import BertBackbone, BertPretrainer
    >>> backbone = BertBackbone(50, num_layers=1, num_heads=2, hidden_dim=8,
    ...                         intermediate_dim=16)
    >>> pretrainer = BertPretrainer(backbone)
    >>> outputs = pretrainer({"token_ids": np.array([[2, 4, 9, 3]]),
    ...                       "segment_ids": np.zeros((1, 4), "int32"),
    ...                       "padding_mask": np.ones((1, 4), "int32"),
    ...                       "mask_positions": np.array([[1]])})
    >>> tuple(outputs["mlm"].shape), tuple(outputs["nsp"].shape)
    ((1, 1, 50), (1, 2))
    """

    def __init__(self, backbone, tokenizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(backbone, BertBackbone):
            raise ValueError(
                f"`backbone` must be a BertBackbone; received {type(backbone).__name__}."
            )
        self.backbone = backbone
        self.tokenizer = tokenizer
        hidden_dim = backbone.hidden_dim
        self.mlm_dense = keras.layers.Dense(
            hidden_dim,
            activation=gelu_tanh if backbone.gelu_approximate else "gelu",
            kernel_initializer=bert_initializer(),
            dtype=backbone.dtype_policy,
            name="mlm_dense",
        )
        self.mlm_layer_norm = keras.layers.LayerNormalization(
            epsilon=backbone.layer_norm_epsilon, dtype=backbone.dtype_policy,
            name="mlm_layer_norm",
        )
        self.next_sentence_dense = keras.layers.Dense(
            2, kernel_initializer=bert_initializer(), dtype=backbone.dtype_policy,
            name="next_sentence_dense",
        )
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        hidden_dim = self.backbone.hidden_dim
        self.mlm_dense.build((None, None, hidden_dim))
        self.mlm_layer_norm.build((None, None, hidden_dim))
        self.next_sentence_dense.build((None, hidden_dim))
        self.mlm_bias = self.add_weight(
            name="mlm_bias", shape=(self.backbone.vocabulary_size,), initializer="zeros"
        )
        self.built = True

    def call(self, inputs, training=None):
        outputs = self.backbone(
            {name: inputs[name] for name in BACKBONE_INPUTS}, training=training
        )
        sequence = outputs["sequence_output"]  # (B, T, D)
        positions = ops.cast(inputs["mask_positions"], "int32")[..., None]  # (B, P, 1)
        hidden = ops.take_along_axis(sequence, positions, axis=1)  # (B, P, D)
        hidden = self.mlm_layer_norm(self.mlm_dense(hidden))  # (B, P, D)
        table = ops.cast(self.backbone.token_embedding.embeddings, hidden.dtype)  # (V, D)
        # One (B*P, D) x (D, V) matmul. (`einsum("bpd,vd->bpv")` becomes, on
        # TensorFlow, a batched matmul that broadcasts the table over B; its
        # gradient then builds a (B, D, V) tensor and sums it over B: 32x the
        # table's size. Forward + backward of this product at B=32, P=20,
        # V=7,767 took 3.2x as long on our CPU, 1.3x with oneDNN.)
        flat = ops.reshape(hidden, (-1, self.backbone.hidden_dim))  # (B*P, D)
        mlm_logits = ops.matmul(flat, ops.transpose(table))  # (B*P, V)
        mlm_logits = ops.reshape(
            mlm_logits, (-1, ops.shape(hidden)[1], self.backbone.vocabulary_size)
        )  # (B, P, V)
        mlm_logits = ops.cast(mlm_logits, "float32") + ops.cast(self.mlm_bias, "float32")
        nsp_logits = self.next_sentence_dense(outputs["pooled_output"])  # (B, 2)
        return {"mlm": mlm_logits, "nsp": ops.cast(nsp_logits, "float32")}

    def compile(self, optimizer="auto", loss="auto", metrics="auto", weighted_metrics="auto", **kwargs):
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(learning_rate=1e-4, weight_decay=0.01)
        if loss == "auto":
            loss = {
                # Mean over the masked tokens (the sample weights), not over
                # the padded slots of mask_positions.
                "mlm": keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True, reduction="mean_with_sample_weight"
                ),
                "nsp": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            }
        if weighted_metrics == "auto":
            weighted_metrics = {
                "mlm": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                "nsp": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            }
        if metrics == "auto":
            metrics = None
        super().compile(
            optimizer=optimizer, loss=loss, metrics=metrics,
            weighted_metrics=weighted_metrics, **kwargs,
        )

    def save_assets(self, directory):
        """Keras / zoo hook: store the tokenizer's vocabulary."""
        if self.tokenizer is not None:
            self.tokenizer.save_vocabulary(directory)

    def load_assets(self, directory):
        """Keras / zoo hook: read the tokenizer's vocabulary."""
        if self.tokenizer is not None:
            self.tokenizer.load_vocabulary(directory)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "tokenizer": (
                None if self.tokenizer is None
                else keras.saving.serialize_keras_object(self.tokenizer)
            ),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        if config.get("tokenizer") is not None:
            config["tokenizer"] = keras.saving.deserialize_keras_object(config["tokenizer"])
        return cls(**config)
