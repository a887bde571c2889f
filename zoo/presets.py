"""Presets: a trained model in a folder that `zoo.load` can trust.

A preset folder holds

    config.json         the architecture: keras.saving.serialize_keras_object(model)
    model.weights.h5    the weights (no optimizer state), float32 or float16
    assets/             vocabularies / tokenizer files, via model.save_assets(dir)
    metadata.json       sha256 of every file above, the training command, data,
                        metrics, recipe, library versions and date
    README.md           the model card, generated from metadata.json

`zoo.load` checks every hash before it builds anything, rebuilds the model
from `config.json`, loads its assets, checks that `model.weights.h5` holds
exactly the weights this architecture expects (names and shapes), and only
then loads them into the fresh model. Any problem raises `PresetError`, which
names the file; a half-loaded model is never returned.

`zoo.save(..., weights_dtype="float16")` stores the float32 weights as
float16 (half the size on disk); `metadata.json` records it and `zoo.load`
widens them back into the model's float32 variables. The file must then hold
float16 exactly where the model has float32 variables: any other dtype is
refused with the names and shapes.

The model card is the one file that is *not* hashed: it is documentation,
never read by `zoo.load`, and authors may improve its prose after training.

Example:

>>> import numpy as np, keras, zoo, tempfile
>>> inputs = keras.Input((4,))
>>> model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
>>> folder = tempfile.mkdtemp()
>>> folder = zoo.save(model, folder, metrics={"accuracy": 1.0}, data="four numbers")
>>> restored = zoo.load(folder)
>>> x = np.ones((1, 4), "float32")
>>> bool(np.allclose(model.predict(x, verbose=0), restored.predict(x, verbose=0)))
True
"""

import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import tempfile

import h5py
import keras
import numpy as np

from zoo import data_paths

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
ASSETS_DIR = "assets"
METADATA_FILE = "metadata.json"
CARD_FILE = "README.md"
UNHASHED_FILES = (METADATA_FILE, CARD_FILE)
FORMAT = "zoo-preset/1"
WEIGHTS_DTYPES = ("float32", "float16")  # how float32 variables may be stored on disk

SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presets")


class PresetError(ValueError):
    """A preset folder is missing, incomplete, altered or mismatched."""


# ----------------------------------------------------------------------------
# save
# ----------------------------------------------------------------------------


def save(model, directory, *, metrics=None, command=None, data=None, recipe=None,
         weights_dtype="float32"):
    """Write `model` as a preset folder `directory` (created if needed).

    Args:
        model: a built `keras.Model` whose class is registered for
            serialization (zoo models: package "zoo").
        directory: the preset folder. It must be empty or hold only an
            earlier preset, which is replaced.
        metrics: `{name: number}` measured on held-out data, for the card.
        command: the command line that trained the model.
        data: a description of the training data.
        recipe: the name of the `zoo.recipes` recipe that trained it; its
            description becomes the preset's one-line description.
        weights_dtype: "float32", or "float16" to store the float32
            variables at half the size (loaded back as float32; a weight
            beyond float16's range, 65504, is refused with a ValueError).

    Returns:
        The preset folder's path.

    >>> import keras, os, zoo, tempfile
    >>> inputs = keras.Input((3,))
    >>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    >>> folder = zoo.save(model, tempfile.mkdtemp(), command="python demo.py")
    >>> sorted(os.listdir(folder))
    ['README.md', 'config.json', 'metadata.json', 'model.weights.h5']
    """
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(
            f"`weights_dtype` must be one of {WEIGHTS_DTYPES}; received {weights_dtype!r}."
        )
    if not model.built:
        raise ValueError(
            "`model` must be built before it is saved (call it on a batch or "
            f"call `build`); received an unbuilt {type(model).__name__}."
        )
    directory = os.fspath(directory)
    _prepare_directory(directory)

    config = keras.saving.serialize_keras_object(model)
    # A preset is for inference: the optimizer and loss are the recipe's
    # business, so the compile configuration is left out.
    config.pop("compile_config", None)
    with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)

    weights_path = os.path.join(directory, WEIGHTS_FILE)
    _save_weights_without_optimizer(model, weights_path)
    if weights_dtype != "float32":
        _cast_weights_file(weights_path, weights_path, "float32", weights_dtype)

    if hasattr(model, "save_assets"):
        assets = os.path.join(directory, ASSETS_DIR)
        os.makedirs(assets, exist_ok=True)
        model.save_assets(assets)

    metadata = {
        "format": FORMAT,
        "name": os.path.basename(os.path.normpath(os.path.abspath(directory))),
        "description": _description(model, recipe),
        "class_name": type(model).__name__,
        "registered_name": config.get("registered_name"),
        "parameters": int(model.count_params()),
        "weights_dtype": weights_dtype,
        "recipe": recipe,
        "command": command,
        "data": data,
        "input": input_description(model),
        "metrics": {k: _plain_number(v) for k, v in (metrics or {}).items()},
        "versions": _library_versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "unhashed_files": [*UNHASHED_FILES],
        "files": {path: data_paths.sha256(os.path.join(directory, path)) for path in _files_to_hash(directory)},
    }
    write_metadata(directory, metadata)
    return directory


def write_metadata(directory, metadata):
    """Write `metadata.json` and the model card generated from it.

    Neither is hashed, so facts learned after saving (the training time, the
    float16 check of `python -m zoo ship`) can be added without touching the
    hashed files.
    """
    with open(os.path.join(directory, METADATA_FILE), "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=2)
    with open(os.path.join(directory, CARD_FILE), "w", encoding="utf-8") as f:
        f.write(model_card(metadata))


def _prepare_directory(directory):
    """Create `directory`, or clear an earlier preset from it; refuse anything else."""
    os.makedirs(directory, exist_ok=True)
    preset_entries = {CONFIG_FILE, WEIGHTS_FILE, ASSETS_DIR, METADATA_FILE, CARD_FILE}
    foreign = sorted(set(os.listdir(directory)) - preset_entries)
    if foreign:
        raise ValueError(
            f"`directory` must be empty or hold a preset; {directory} also "
            f"contains {foreign}."
        )
    for entry in os.listdir(directory):
        path = os.path.join(directory, entry)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def _save_weights_without_optimizer(model, path):
    """`model.save_weights(path)` minus the optimizer's variables."""
    from keras.src.saving import saving_lib  # the public save_weights has no skip option

    skip = [model.optimizer] if getattr(model, "optimizer", None) is not None else None
    saving_lib.save_weights_only(model, path, objects_to_skip=skip)


def _cast_weights_file(source, target, from_dtype, to_dtype):
    """Copy a `.weights.h5` file, every `from_dtype` array cast to `to_dtype`.

    Groups, names and attributes are copied as they are; `target` may be
    `source`. A finite weight that does not fit `to_dtype` is a ValueError.
    """
    scratch = target + ".partial"
    try:
        with h5py.File(source, "r") as old, h5py.File(scratch, "w") as new:
            new.attrs.update(old.attrs)

            def copy(name, item):
                if isinstance(item, h5py.Group):
                    new.require_group(name).attrs.update(item.attrs)
                    return
                values = item[()]
                if item.dtype == from_dtype:
                    with np.errstate(over="ignore"):  # an overflow is reported below
                        cast = np.asarray(values).astype(to_dtype)
                    if np.any(np.isfinite(values) & ~np.isfinite(cast)):
                        raise ValueError(
                            f"weight {name} of {source} holds values beyond {to_dtype}'s range; "
                            f"store it as {from_dtype}."
                        )
                    values = cast
                new.create_dataset(name, data=values).attrs.update(item.attrs)

            old.visititems(copy)
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.remove(scratch)


def _description(model, recipe):
    if recipe:
        from zoo import recipes

        try:
            return recipes.get(recipe).description or recipe
        except ValueError:
            return recipe
    doc = (type(model).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else type(model).__name__


def input_description(model):
    """What the model's `predict` takes, in a sentence for the model card.

    A zoo model says it itself (`model.input_description()`: shape, dtype,
    value range, raw strings or ids); for any other model it is read from
    `model.inputs`.

    >>> import keras
    >>> from zoo.presets import input_description
    >>> inputs = keras.Input((4,), name="numbers")
    >>> input_description(keras.Model(inputs, keras.layers.Dense(2)(inputs)))
    '`predict` takes `numbers`: `(N, 4)` float32.'
    """
    if hasattr(model, "input_description"):
        return model.input_description()
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        return "Not recorded: see the model class's documentation."
    parts = []
    for tensor in inputs:
        shape = ", ".join("N" if i == 0 else str(d) for i, d in enumerate(tensor.shape))
        name = getattr(tensor, "name", "input")
        parts.append(f"`{name}`: `({shape})` {tensor.dtype}")
    return "`predict` takes " + "; ".join(parts) + "."


def _plain_number(value):
    value = np.asarray(value)
    return value.item() if value.size == 1 else value.tolist()


def _library_versions():
    """Versions of the libraries that matter, read without importing them."""
    import kattn

    versions = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "kattn": kattn.__version__,
    }
    for distribution in ("tensorflow", "jax", "keras-hub"):
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def _files_to_hash(directory):
    """Every file under `directory` except the unhashed ones, as 'a/b' paths."""
    paths = []
    for root, _, files in os.walk(directory):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), directory)
            relative = relative.replace(os.sep, "/")
            if relative not in UNHASHED_FILES:
                paths.append(relative)
    return sorted(paths)


def model_card(metadata):
    """The Markdown model card for a preset's `metadata` dict."""
    lines = [
        f"# {metadata['name']}",
        "",
        metadata["description"],
        "",
        "```python",
        "import zoo",
        f"model = zoo.load({metadata['name']!r})  # or the path of this folder",
        "```",
        "",
        f"- Model: `{metadata['class_name']}`, {metadata['parameters']:,} parameters",
        f"- Recipe: `{metadata['recipe']}`" if metadata.get("recipe") else "- Recipe: none",
        f"- Data: {metadata['data'] or 'not recorded'}",
        f"- Trained with: `{metadata['command']}`" if metadata.get("command") else "- Trained with: not recorded",
        f"- Training time: {metadata.get('training_time') or 'not recorded'}",
        f"- Date: {metadata['date']}",
        f"- Weights stored as: {metadata.get('weights_dtype', 'float32')} "
        f"({metadata['size_bytes'] / 1e6:.2f} MB with the config and assets)" if metadata.get("size_bytes")
        else f"- Weights stored as: {metadata.get('weights_dtype', 'float32')}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in metadata["versions"].items()),
        "",
        "## Input",
        "",
        metadata.get("input") or "Not recorded.",
        "",
        "## Metrics",
        "",
    ]
    if metadata["metrics"]:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                  for k, v in metadata["metrics"].items()]
    else:
        lines.append("None recorded.")
    lines += _storage_check_lines(metadata) + _slice_lines(metadata)
    lines += [
        "",
        "## Files",
        "",
        "`zoo.load` checks these sha256 hashes before building the model. "
        "This card and `metadata.json` are not hashed.",
        "",
    ]
    lines += [f"- `{path}`: `{digest}`" for path, digest in metadata["files"].items()]
    return "\n".join(lines) + "\n"


def _number(value):
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _storage_check_lines(metadata):
    """The card's "Stored as float16 vs float32" table (written by `python -m zoo ship`)."""
    check = metadata.get("stored_as_float16")
    if not check:
        return []
    lines = [
        "",
        "## Stored as float16 vs float32",
        "",
        f"The full test set scored by `python -m zoo evaluate {metadata['name']}`, with the weights "
        "as shipped (float16 on disk, float32 once loaded) and with the float32 weights they "
        "were rounded from:",
        "",
        "| metric | float16 storage | float32 | difference |",
        "|---|---|---|---|",
    ]
    for name, value in check["float16"].items():
        reference = check["float32"].get(name)
        difference = f"{value - reference:+.2g}" if isinstance(reference, (int, float)) else "-"
        lines.append(f"| {name} | {_number(value)} | {_number(reference)} | {difference} |")
    return lines


def _slice_lines(metadata):
    """The card's fixed-slice figure, which the test suite re-measures."""
    check = metadata.get("slice")
    if not check:
        return []
    figures = ", ".join(f"{k} = {_number(v)}" for k, v in check["metrics"].items())
    return [
        "",
        "## Slice check",
        "",
        f"`{check['command']}` (the first {check['limit']:,} {check['unit']} of the test set) "
        f"gives {figures}; `tests/zoo/test_shipped_presets.py` checks that it still does.",
    ]


# ----------------------------------------------------------------------------
# load
# ----------------------------------------------------------------------------


def load(name_or_directory):
    """Load a preset: a shipped preset's name (see `zoo.list()`) or a folder path.

    Every file's sha256 is checked before anything is built; then the model
    is rebuilt from `config.json`, its assets loaded, and the weights loaded
    once their names and shapes match the architecture exactly.

    Raises:
        PresetError: naming the file that is missing, altered or mismatched.

    >>> import zoo
    >>> zoo.load("no-such-preset")
    Traceback (most recent call last):
    ...
    zoo.presets.PresetError: no preset 'no-such-preset': not a shipped preset name ...
    """
    directory = resolve(name_or_directory)
    metadata = verify(directory)
    weights_dtype = metadata.get("weights_dtype", "float32")  # presets before float16 storage
    if weights_dtype not in WEIGHTS_DTYPES:
        raise PresetError(
            f"{os.path.join(directory, METADATA_FILE)}: weights_dtype {weights_dtype!r} is not "
            f"one zoo.load reads ({', '.join(WEIGHTS_DTYPES)})."
        )

    config_path = os.path.join(directory, CONFIG_FILE)
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        _import_defining_module(config)
        model = keras.saving.deserialize_keras_object(config)
    except Exception as error:
        raise PresetError(f"{config_path}: cannot rebuild the model: {error}") from error

    if hasattr(model, "load_assets"):
        assets = os.path.join(directory, ASSETS_DIR)
        try:
            model.load_assets(assets)
        except Exception as error:
            raise PresetError(f"{assets}: cannot load the assets: {error}") from error

    weights_path = os.path.join(directory, WEIGHTS_FILE)
    _check_weights_match(model, weights_path, weights_dtype)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            stored = weights_path
            if weights_dtype != "float32":  # widened into a float32 copy, which Keras loads
                stored = os.path.join(scratch, WEIGHTS_FILE)
                _cast_weights_file(weights_path, stored, weights_dtype, "float32")
            model.load_weights(stored)
    except Exception as error:
        raise PresetError(f"{weights_path}: cannot load the weights: {error}") from error
    return model


def resolve(name_or_directory):
    """The folder of a preset given by shipped name or by path."""
    given = os.fspath(name_or_directory)
    if os.path.isdir(given):
        return given
    shipped = os.path.join(SHIPPED_DIR, given)
    if os.sep not in given and "/" not in given and os.path.isdir(shipped):
        return shipped
    names = ", ".join(_shipped_presets()) or "none"
    raise PresetError(
        f"no preset {given!r}: not a shipped preset name (shipped: {names}) "
        "and not a folder."
    )


def verify(directory):
    """Check `metadata.json` and the sha256 of every file; return the metadata."""
    metadata_path = os.path.join(directory, METADATA_FILE)
    if not os.path.isfile(metadata_path):
        raise PresetError(f"{metadata_path}: missing; {directory} is not a preset folder.")
    try:
        with open(metadata_path, encoding="utf-8") as f:
            metadata = json.load(f)
        expected = dict(metadata["files"])
    except (ValueError, KeyError, TypeError) as error:
        raise PresetError(f"{metadata_path}: unreadable: {error}") from error

    for required in (CONFIG_FILE, WEIGHTS_FILE):
        if required not in expected:
            raise PresetError(f"{metadata_path}: lists no hash for {required}.")
    for relative, digest in expected.items():
        path = os.path.join(directory, *relative.split("/"))
        if not os.path.isfile(path):
            raise PresetError(f"{path}: missing (listed in {METADATA_FILE}).")
        if data_paths.sha256(path) != digest:
            raise PresetError(
                f"{path}: sha256 does not match {METADATA_FILE}; the file was "
                "changed or truncated."
            )
    for relative in _files_to_hash(directory):
        if relative not in expected:
            path = os.path.join(directory, *relative.split("/"))
            raise PresetError(f"{path}: not listed in {METADATA_FILE}; refusing an unknown file.")
    return metadata


def _import_defining_module(config):
    """Import the zoo / kattn module that registers the model's class."""
    module = config.get("module") or ""
    if module.split(".")[0] in ("zoo", "kattn"):
        importlib.import_module(module)


def _weight_layout(path):
    """`{dataset path: (shape, dtype)}` of a Keras `.weights.h5` file."""
    layout = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            layout[name] = (tuple(item.shape), str(item.dtype))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return layout


def _check_weights_match(model, weights_path, weights_dtype="float32"):
    """Raise unless the file holds exactly the weights `model` expects, its
    float32 variables stored as `weights_dtype`."""
    try:
        found = _weight_layout(weights_path)
    except Exception as error:
        raise PresetError(f"{weights_path}: not a readable weights file: {error}") from error
    with tempfile.TemporaryDirectory() as scratch:
        reference = os.path.join(scratch, "expected.weights.h5")
        _save_weights_without_optimizer(model, reference)
        expected = _weight_layout(reference)
    expected = {
        k: (shape, weights_dtype if dtype == "float32" else dtype) for k, (shape, dtype) in expected.items()
    }
    if found == expected:
        return
    problems = [f"missing {k} {expected[k][0]}" for k in sorted(set(expected) - set(found))]
    problems += [f"unexpected {k} {found[k][0]}" for k in sorted(set(found) - set(expected))]
    problems += [
        f"{k} is {found[k][0]} {found[k][1]}, expected {expected[k][0]} {expected[k][1]}"
        for k in sorted(set(found) & set(expected))
        if found[k] != expected[k]
    ]
    shown = "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
    raise PresetError(
        f"{weights_path}: weights do not fit the architecture in {CONFIG_FILE} "
        f"({len(problems)} differences: {shown})."
    )


# ----------------------------------------------------------------------------
# list
# ----------------------------------------------------------------------------


def list():  # noqa: A001 - the public name is zoo.list()
    """The shipped presets: `{name: one-line description}`, sorted by name.

    >>> import zoo
    >>> isinstance(zoo.list(), dict)
    True
    """
    return _shipped_presets()


def _shipped_presets():
    found = {}
    if not os.path.isdir(SHIPPED_DIR):
        return found
    for name in sorted(os.listdir(SHIPPED_DIR)):
        metadata_path = os.path.join(SHIPPED_DIR, name, METADATA_FILE)
        if os.path.isfile(metadata_path):
            with open(metadata_path, encoding="utf-8") as f:
                found[name] = json.load(f).get("description", "")
    return found
