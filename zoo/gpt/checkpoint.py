"""Read a Hugging Face GPT-2 folder (`config.json` + `model.safetensors`) into a `GPT`.

GPT-2's layout, and where each tensor goes in ours:

- `wte` `(V, D)`: the token embedding, also the output projection (tied);
  `wpe` `(P, D)`: the learned positions.
- per block `h.i`: `ln_1`, `attn.c_attn` (queries, keys and values fused
  into one `(D, 3D)` matrix), `attn.c_proj`, `ln_2`, `mlp.c_fc`, `mlp.c_proj`.
  GPT-2's `Conv1D` stores `(in, out)`, the layout of a Keras kernel, so no
  transpose is needed (unlike `torch.nn.Linear`'s `(out, in)`).
- `ln_f`: the final LayerNorm.

Every tensor must be used exactly once, with the expected shape, before
anything is assigned; an unknown, missing or mis-shaped tensor is a
`ValueError` naming it. `lm_head.weight` is accepted only when it equals
`wte` (tied, as in every GPT-2 checkpoint).
"""

import os

import numpy as np

from zoo import hf_folder
from zoo.gpt.model import GPT

ACTIVATIONS = {"gelu_new": "gelu_approximate", "gelu_pytorch_tanh": "gelu_approximate",
               "gelu": "gelu", "relu": "relu"}
# Constants some GPT-2 files carry beside the weights (the causal mask buffers).
_BUFFER_SUFFIXES = (".attn.bias", ".attn.masked_bias")


def load_hf_checkpoint(path, dtype=None):
    """A `GPT` holding the weights of the Hugging Face GPT-2 folder `path`.

    Args:
        path: folder with `config.json` and `model.safetensors`, as written by
            `transformers.GPT2LMHeadModel.save_pretrained`.
        dtype: dtype policy of the model (None: the global policy).

    Returns:
        A built `GPT` (no tokenizer: GPT-2's byte-level BPE is not ours, so
        it works on token ids) whose logits equal `GPT2LMHeadModel`'s.

    Example (a tiny random GPT-2 written by `transformers`):

    >>> import tempfile, transformers, numpy as np
    >>> from zoo.gpt import load_hf_checkpoint
    >>> config = transformers.GPT2Config(vocab_size=40, n_positions=16, n_embd=8,
    ...                                  n_layer=1, n_head=2)
    >>> folder = tempfile.mkdtemp()
    >>> transformers.GPT2LMHeadModel(config).save_pretrained(folder)
    >>> model = load_hf_checkpoint(folder)
    >>> model.num_layers, model.hidden_dim, model.vocabulary_size
    (1, 8, 40)
    """
    path = os.fspath(path)
    config = _read_config(path)
    tensors = hf_folder.read_tensors(path)
    hidden_dim = config["n_embd"]
    model = GPT(
        vocabulary_size=config["vocab_size"],
        num_layers=config["n_layer"],
        num_heads=config["n_head"],
        hidden_dim=hidden_dim,
        intermediate_dim=config.get("n_inner") or 4 * hidden_dim,
        max_sequence_length=config["n_positions"],
        dropout=0.0,
        activation=ACTIVATIONS[config.get("activation_function", "gelu_new")],
        layer_norm_epsilon=config.get("layer_norm_epsilon", 1e-5),
        dtype=dtype,
    )
    model.build()
    assign_hf_weights(model, tensors)
    return model


def _read_config(path):
    config = hf_folder.read_config(path, "gpt2")
    config_path = os.path.join(path, "config.json")  # named in the errors below
    activation = config.get("activation_function", "gelu_new")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation_function must be one of {sorted(ACTIVATIONS)}; received {activation!r}."
        )
    for option in ("scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn"):
        if config.get(option):
            raise ValueError(f"GPT-2 option {option}=true is not supported; received it in {config_path}.")
    if config.get("scale_attn_weights", True) is not True:
        raise ValueError(f"only scale_attn_weights=true is supported; received false in {config_path}.")
    return config


def hf_weight_map(model):
    """`{GPT-2 tensor name: [(our variable, conversion), ...]}`."""
    heads, head_dim, width = model.num_heads, model.head_dim, model.hidden_dim

    def split_qkv(part):  # c_attn (D, 3D) or (3D,) -> one of q, k, v, split into heads
        def convert(array):
            piece = array[..., part * width : (part + 1) * width]  # (D, D) or (D,)
            return piece.reshape(piece.shape[:-1] + (heads, head_dim))
        return convert

    def copy(array):
        return array

    def merge_heads(array):  # c_proj (D, D) -> (heads, head_dim, D)
        return array.reshape(heads, head_dim, width)

    mapping = {
        "wte.weight": [(model.embedding.token_embedding.embeddings, copy)],
        "wpe.weight": [(model.embedding.position_embedding.embeddings, copy)],
        "ln_f.weight": [(model.final_norm.gamma, copy)],
        "ln_f.bias": [(model.final_norm.beta, copy)],
    }
    for i, block in enumerate(model.blocks):
        attention, prefix = block.self_attention, f"h.{i}."
        denses = (attention.query_dense, attention.key_dense, attention.value_dense)
        mapping.update({
            prefix + "ln_1.weight": [(block.self_attention_norm.gamma, copy)],
            prefix + "ln_1.bias": [(block.self_attention_norm.beta, copy)],
            prefix + "attn.c_attn.weight": [(d.kernel, split_qkv(p)) for p, d in enumerate(denses)],
            prefix + "attn.c_attn.bias": [(d.bias, split_qkv(p)) for p, d in enumerate(denses)],
            prefix + "attn.c_proj.weight": [(attention.output_dense.kernel, merge_heads)],
            prefix + "attn.c_proj.bias": [(attention.output_dense.bias, copy)],
            prefix + "ln_2.weight": [(block.feedforward_norm.gamma, copy)],
            prefix + "ln_2.bias": [(block.feedforward_norm.beta, copy)],
            prefix + "mlp.c_fc.weight": [(block.feedforward_intermediate.kernel, copy)],
            prefix + "mlp.c_fc.bias": [(block.feedforward_intermediate.bias, copy)],
            prefix + "mlp.c_proj.weight": [(block.feedforward_output.kernel, copy)],
            prefix + "mlp.c_proj.bias": [(block.feedforward_output.bias, copy)],
        })
    return mapping


def assign_hf_weights(model, tensors):
    """Copy GPT-2 tensors `{name: array}` into the built `model`.

    All problems (unknown, missing, mis-shaped tensors) are collected and
    raised together as one `ValueError` before anything is assigned.
    """
    tensors = {
        (name[len("transformer."):] if name.startswith("transformer.") else name): value
        for name, value in tensors.items()
        if not name.endswith(_BUFFER_SUFFIXES)
    }
    problems = []
    head = tensors.pop("lm_head.weight", None)
    if head is not None and not (
        "wte.weight" in tensors and head.shape == tensors["wte.weight"].shape
        and np.array_equal(head, tensors["wte.weight"])
    ):
        problems.append("lm_head.weight differs from wte.weight: GPT ties them, so it cannot hold "
                        "an untied output projection")
    mapping = hf_weight_map(model)
    unknown = sorted(set(tensors) - set(mapping))
    missing = sorted(set(mapping) - set(tensors))
    if unknown:
        problems.append("unknown tensors: " + ", ".join(unknown))
    if missing:
        problems.append("missing tensors: " + ", ".join(missing))
    converted = []
    for name, targets in mapping.items():
        if name not in tensors:
            continue
        array = np.asarray(tensors[name], "float32")
        for variable, convert in targets:
            try:
                value = convert(array)
            except ValueError:
                value = None
            if value is None or tuple(value.shape) != tuple(variable.shape):
                problems.append(
                    f"{name} has shape {tuple(array.shape)}, which does not give "
                    f"{variable.path} its shape {tuple(variable.shape)}"
                )
                break
            converted.append((variable, value))
    if problems:
        raise ValueError("The checkpoint does not fit this GPT:\n- " + "\n- ".join(problems))
    for variable, value in converted:
        variable.assign(value)
