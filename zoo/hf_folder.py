"""Read the two files every Hugging Face checkpoint folder has.

`transformers`' `save_pretrained` writes `config.json` (the architecture)
and `model.safetensors` (older folders: `pytorch_model.bin`). The BERT, GPT
and ViT loaders (`zoo.bert`, `zoo.gpt`, `zoo.vit`: `load_hf_checkpoint`)
read them here, then check and map the tensors their own way.

>>> import json, os, tempfile
>>> folder = tempfile.mkdtemp()
>>> with open(os.path.join(folder, "config.json"), "w") as f:
...     json.dump({"model_type": "gpt2", "n_layer": 2}, f)
>>> read_config(folder, "gpt2")["n_layer"]
2
>>> read_config(folder, "bert")
Traceback (most recent call last):
...
ValueError: `path` must hold a 'bert' checkpoint (config.json's model_type); received model_type 'gpt2'.
"""

import json
import os


def read_config(path, model_type):
    """config.json of the folder `path` as a dict; its `model_type` (when
    present) must be `model_type`."""
    config_path = os.path.join(path, "config.json")
    if not os.path.exists(config_path):
        raise FileNotFoundError(f"`path` has no config.json: {config_path}")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    if config.get("model_type", model_type) != model_type:
        raise ValueError(
            f"`path` must hold a {model_type!r} checkpoint (config.json's model_type); "
            f"received model_type {config.get('model_type')!r}."
        )
    return config


def read_tensors(path):
    """`{name: float NumPy array}` from model.safetensors, or from
    pytorch_model.bin (which needs PyTorch)."""
    safetensors_path = os.path.join(path, "model.safetensors")
    torch_path = os.path.join(path, "pytorch_model.bin")
    if os.path.exists(safetensors_path):
        from safetensors.numpy import load_file

        return load_file(safetensors_path)
    if os.path.exists(torch_path):
        try:
            import torch
        except ImportError as error:
            raise ImportError(
                "Reading pytorch_model.bin needs PyTorch (pip install torch); "
                "or convert the folder to model.safetensors."
            ) from error
        state = torch.load(torch_path, map_location="cpu", weights_only=True)
        return {name: tensor.float().numpy() for name, tensor in state.items()}
    raise FileNotFoundError(
        f"`path` has neither model.safetensors nor pytorch_model.bin: {path}"
    )
