"""Load a Hugging Face ViT checkpoint folder into `zoo.vit.ViT`.

A folder written by `transformers`' `save_pretrained` holds `config.json`
and `model.safetensors` (or the older `pytorch_model.bin`), and often a
`preprocessor_config.json` with the pixel normalisation. Both `ViTModel`
(encoder + pooler) and `ViTForImageClassification` (encoder + classifier,
weights prefixed `vit.`) are read. The weights map one to one:

| Hugging Face                                   | zoo.vit.ViT                                        |
|---|---|
| `embeddings.patch_embeddings.projection` Conv2d `(D, C, p, p)` | `patch_embedding.projection` Dense `(p*p*C, D)` |
| `embeddings.cls_token`, `embeddings.position_embeddings` | `patch_embedding.class_token`, `.position_embedding` |
| `encoder.layer.i.layernorm_before` / `layernorm_after` | block i `self_attention_layer_norm` / `feedforward_layer_norm` |
| `encoder.layer.i.attention.attention.{query,key,value}` `(H*d, D)` | block i `query` / `key` / `value` `(D, H, d)` |
| `encoder.layer.i.attention.output.dense` `(D, H*d)` | block i `attention_output` `(H, d, D)` |
| `encoder.layer.i.intermediate.dense`, `.output.dense` | block i feed-forward Dense layers |
| `layernorm`, `pooler.dense` (+ tanh), `classifier` | `encoder_norm`, `pre_logits`, `head` (+ softmax) |

Example (a tiny random model written by `transformers`):

>>> import tempfile, transformers                                        # doctest: +SKIP
>>> config = transformers.ViTConfig(image_size=8, patch_size=4, hidden_size=16,
...     num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)  # doctest: +SKIP
>>> folder = tempfile.mkdtemp()                                           # doctest: +SKIP
>>> transformers.ViTModel(config).save_pretrained(folder)                 # doctest: +SKIP
>>> from zoo.vit import load_hf_checkpoint                                # doctest: +SKIP
>>> model = load_hf_checkpoint(folder)                                    # doctest: +SKIP
>>> model.features(images)["sequence_output"]   # = HF last_hidden_state  # doctest: +SKIP
"""

import json
import os

import numpy as np

from zoo import hf_folder
from zoo.vit.model import ViT
from zoo.vit.model import resize_model

# Hugging Face activation names -> Keras activations.
_ACTIVATIONS = {
    "gelu": "gelu",  # exact (erf) GELU, Keras's default
    "relu": "relu",
    "silu": "silu",
    "swish": "silu",
}


def _pixel_normalisation(path, channels):
    """(pixel_mean, pixel_std) on raw 0..255 pixels from preprocessor_config.json."""
    file = os.path.join(path, "preprocessor_config.json")
    if not os.path.exists(file):
        return None, None  # the model takes already-normalised pixels, like HF's
    with open(file) as f:
        processor = json.load(f)
    rescale = processor.get("rescale_factor", 1 / 255) if processor.get("do_rescale", True) else 1.0
    mean = np.zeros(channels)
    std = np.ones(channels)
    if processor.get("do_normalize", True):
        mean = np.asarray(processor.get("image_mean", [0.5] * channels), "float64")
        std = np.asarray(processor.get("image_std", [0.5] * channels), "float64")
    # (x * rescale - mean) / std == (x - mean / rescale) / (std / rescale)
    return (mean / rescale).tolist(), (std / rescale).tolist()


class _Weights:
    """The checkpoint's tensors, handed out once each so leftovers show."""

    def __init__(self, tensors, prefix):
        self.tensors = tensors
        self.prefix = prefix
        self.unused = set(tensors)

    def has(self, name):
        return self.prefix + name in self.tensors

    def take(self, name):
        key = self.prefix + name
        if key not in self.tensors:
            raise ValueError(f"checkpoint is missing weight {key!r}")
        self.unused.discard(key)
        return np.asarray(self.tensors[key], "float32")


def _assign(variable, value):
    if tuple(variable.shape) != tuple(value.shape):
        raise ValueError(
            f"weight {variable.path} must have shape {tuple(variable.shape)}; the "
            f"checkpoint gives {tuple(value.shape)}."
        )
    variable.assign(value)


def _assign_dense(layer, weights, name):
    _assign(layer.kernel, weights.take(name + ".weight").T)  # torch (out, in) -> (in, out)
    _assign(layer.bias, weights.take(name + ".bias"))


def _assign_norm(layer, weights, name):
    _assign(layer.gamma, weights.take(name + ".weight"))
    _assign(layer.beta, weights.take(name + ".bias"))


def _assign_block(block, weights, prefix, num_heads):
    attention = block.self_attention
    width = block.self_attention_norm.gamma.shape[0]
    head_dim = attention.key_dim
    for ours, theirs in ((attention.query_dense, "query"), (attention.key_dense, "key"),
                         (attention.value_dense, "value")):
        kernel = weights.take(f"{prefix}attention.attention.{theirs}.weight")  # (H*d, D)
        _assign(ours.kernel, kernel.T.reshape(width, num_heads, head_dim))  # (D, H, d)
        bias = weights.take(f"{prefix}attention.attention.{theirs}.bias")
        _assign(ours.bias, bias.reshape(num_heads, head_dim))
    kernel = weights.take(f"{prefix}attention.output.dense.weight")  # (D, H*d)
    _assign(attention.output_dense.kernel, kernel.T.reshape(num_heads, head_dim, width))
    _assign(attention.output_dense.bias, weights.take(f"{prefix}attention.output.dense.bias"))
    _assign_norm(block.self_attention_norm, weights, prefix + "layernorm_before")
    _assign_norm(block.feedforward_norm, weights, prefix + "layernorm_after")
    _assign_dense(block.feedforward_intermediate, weights, prefix + "intermediate.dense")
    _assign_dense(block.feedforward_output, weights, prefix + "output.dense")


def load_hf_checkpoint(path, image_size=None):
    """A `ViT` with the weights of a Hugging Face ViT checkpoint folder.

    Args:
        path: folder with `config.json` and `model.safetensors` or
            `pytorch_model.bin` (from `save_pretrained`).
        image_size: fine-tune size if different from the checkpoint's; the
            position embeddings are interpolated (`resize_model`).

    Returns:
        A `ViT` whose `features(images)` gives Hugging Face's
        `last_hidden_state` (`sequence_output`) and `pooler_output`
        (`pooled_output`). A classification checkpoint gets `num_classes`,
        `class_names` from `id2label`, and `call` returns its softmax.
        With a `preprocessor_config.json` the model normalises raw 0..255
        pixels itself; without one it takes HF's `pixel_values`
        (channels last).
    """
    config = hf_folder.read_config(path, "vit")
    activation = config.get("hidden_act", "gelu")
    if activation not in _ACTIVATIONS or _ACTIVATIONS[activation] != "gelu":
        raise ValueError(f"only GELU ViT checkpoints are supported; config.json has hidden_act={activation!r}.")
    if not config.get("qkv_bias", True):
        raise ValueError("only checkpoints with query/key/value biases (qkv_bias=true) are supported.")

    tensors = hf_folder.read_tensors(path)
    prefix = "vit." if any(name.startswith("vit.") for name in tensors) else ""
    weights = _Weights(tensors, prefix)
    has_classifier = "classifier.weight" in tensors
    has_pooler = weights.has("pooler.dense.weight")
    num_heads = config["num_attention_heads"]
    channels = config.get("num_channels", 3)
    class_names = None
    if has_classifier:
        id2label = config.get("id2label") or {}
        num_classes = tensors["classifier.weight"].shape[0]
        class_names = [id2label.get(str(i), str(i)) for i in range(num_classes)]
    pixel_mean, pixel_std = _pixel_normalisation(path, channels)

    model = ViT(
        image_size=config.get("image_size", 224),
        patch_size=config.get("patch_size", 16),
        num_layers=config["num_hidden_layers"],
        num_heads=num_heads,
        hidden_dim=config["hidden_size"],
        mlp_dim=config["intermediate_size"],
        num_classes=len(class_names) if class_names else None,
        channels=channels,
        representation_size=(
            tensors[prefix + "pooler.dense.weight"].shape[0] if has_pooler else None
        ),
        layer_norm_epsilon=config.get("layer_norm_eps", 1e-12),
        pixel_mean=pixel_mean,
        pixel_std=pixel_std,
        class_names=class_names,
    )

    embedding = model.patch_embedding
    conv = weights.take("embeddings.patch_embeddings.projection.weight")  # (D, C, p, p)
    kernel = conv.transpose(2, 3, 1, 0).reshape(-1, conv.shape[0])  # (p*p*C, D), as Patches
    _assign(embedding.projection.kernel, kernel)
    _assign(embedding.projection.bias, weights.take("embeddings.patch_embeddings.projection.bias"))
    _assign(embedding.class_token, weights.take("embeddings.cls_token"))  # (1, 1, D)
    positions = weights.take("embeddings.position_embeddings")[0]  # (1 + N, D)
    _assign(embedding.position_embedding.embeddings, positions)
    for i, block in enumerate(model.blocks):
        _assign_block(block, weights, f"encoder.layer.{i}.", num_heads)
    _assign_norm(model.encoder_norm, weights, "layernorm")
    if has_pooler:
        _assign_dense(model.pre_logits, weights, "pooler.dense")
    if has_classifier:
        weights.prefix = ""
        _assign_dense(model.head, weights, "classifier")
    weights.unused.discard(prefix + "embeddings.mask_token")  # only for masked-image pretraining
    if weights.unused:
        raise ValueError(f"checkpoint weights not understood: {sorted(weights.unused)}")

    if image_size is not None:
        model = resize_model(model, image_size)
    return model
