"""`python -m zoo ship RUN`: turn a trained run folder into a shipped preset.

    python -m zoo train vit-fashion-mnist --output runs/vit-fashion-mnist
    python -m zoo ship runs/vit-fashion-mnist                # -> zoo/presets/vit-fashion-mnist
    python -m zoo ship runs/anki --name spa-eng-transformer --training-time "35 min on 1 CPU core"

`ship` loads the run's float32 preset and writes it again with its weights
stored as float16 (half the size; `zoo.load` widens them back to float32).
It then measures, with the recipe's own evaluation:

- the full test metrics with the float16-stored weights and with the
  original float32 ones (both go in `metadata.json` and the card's
  "Stored as float16 vs float32" table);
- the metrics on a fixed slice, the first `limit` test examples (tokens for a
  language model), which `tests/zoo/test_shipped_presets.py` re-measures for
  every shipped preset.

The run's training command, data, date, versions and training-time metrics
are kept. A preset over `MAX_PRESET_BYTES` is refused and nothing is written;
the folder is assembled beside its destination and moved into place last.

>>> from zoo import shipping
>>> shipping.MAX_PRESET_BYTES, shipping.MAX_SHIPPED_BYTES
(15000000, 60000000)
"""

import os
import shlex
import shutil
import tempfile

from zoo import presets

MAX_PRESET_BYTES = 15_000_000  # one preset (issue #30)
MAX_SHIPPED_BYTES = 60_000_000  # every preset in zoo/presets together
DEFAULT_LIMIT = 200  # test examples in the slice check
LANGUAGE_MODEL_LIMIT = 4096  # test tokens in the slice check of a language model (32 windows of 128)


def folder_bytes(directory):
    """Total size of the files under `directory`, in bytes."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, files in os.walk(directory)
        for name in files
    )


def default_limit(recipe):
    """The slice size for `recipe`: tokens for a language model, else examples."""
    return LANGUAGE_MODEL_LIMIT if recipe.startswith("gpt") else DEFAULT_LIMIT


def ship(source, name=None, *, presets_dir=None, limit=None, training_time=None, verbose=True):
    """Write the float32 preset `source` into `presets_dir/name` with float16 weights.

    Args:
        source: a preset folder saved by `python -m zoo train` (float32), or
            a shipped preset's name that still stores float32.
        name: the preset's name; default the source folder's name.
        presets_dir: where presets are shipped; default `zoo/presets`.
        limit: test examples (tokens for a language model) of the slice
            check; default `default_limit(recipe)`.
        training_time: e.g. "42 min on 2 CPU cores"; default the run's own
            record, if it has one.
        verbose: print each measurement.

    Returns:
        The new preset's metadata.

    Raises:
        ValueError: the source records no recipe, already stores float16,
            or the float16 preset would exceed `MAX_PRESET_BYTES`.
    """
    from zoo import training  # imports Keras: only once there is work to do

    source = presets.resolve(source)
    original = presets.verify(source)
    recipe = original.get("recipe")
    if not recipe:
        raise ValueError(f"`source` {source} records no recipe, so there is no test set to measure it on.")
    if original.get("weights_dtype", "float32") != "float32":
        raise ValueError(
            f"`source` {source} already stores {original['weights_dtype']} weights; ship the "
            "float32 run folder that `python -m zoo train` saved."
        )
    name = name or os.path.basename(os.path.normpath(os.path.abspath(source)))
    if not name or "/" in name or os.sep in name or name.startswith("."):
        raise ValueError(f"`name` must be a plain folder name; received {name!r}.")
    presets_dir = os.fspath(presets_dir or presets.SHIPPED_DIR)
    limit = limit or default_limit(recipe)
    say = print if verbose else (lambda *args, **kwargs: None)

    float32_model = presets.load(source)
    evaluate = training.evaluator(recipe)
    say(f"{recipe}: full test set with the float32 weights ...", flush=True)
    float32_metrics = evaluate(float32_model)
    say("  " + _format(float32_metrics), flush=True)

    os.makedirs(presets_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=presets_dir, prefix=".ship-") as scratch:
        staged = os.path.join(scratch, name)
        presets.save(
            float32_model, staged, metrics=original.get("metrics"), command=original.get("command"),
            data=original.get("data"), recipe=recipe, weights_dtype="float16",
        )
        _check_size(staged, name)
        float16_model = presets.load(staged)
        say("  the same with the float16-stored weights ...", flush=True)
        float16_metrics = evaluate(float16_model)
        say("  " + _format(float16_metrics), flush=True)
        slice_metrics = evaluate(float16_model, limit=limit)
        unit = "tokens" if recipe.startswith("gpt") else "examples"
        say(f"  slice (first {limit} {unit}): {_format(slice_metrics)}", flush=True)

        metadata = presets.verify(staged)
        for kept in ("date", "versions"):  # when and with what it was trained
            if original.get(kept):
                metadata[kept] = original[kept]
        metadata["training_time"] = training_time or original.get("training_time")
        metadata["size_bytes"] = sum(  # the hashed files: weights, config, assets
            os.path.getsize(os.path.join(staged, *path.split("/"))) for path in metadata["files"]
        )
        metadata["stored_as_float16"] = {"float16": float16_metrics, "float32": float32_metrics}
        metadata["slice"] = {
            "limit": limit,
            "unit": unit,
            "command": f"python -m zoo evaluate {name} --limit {limit}",
            "metrics": slice_metrics,
        }
        metadata["shipped_with"] = "python -m zoo ship " + " ".join(
            shlex.quote(part) for part in (os.path.relpath(source), "--name", name, "--limit", str(limit))
        )
        presets.write_metadata(staged, metadata)
        size = _check_size(staged, name)

        target = os.path.join(presets_dir, name)
        if os.path.exists(target):
            _check_replaceable(target)
            shutil.rmtree(target)
        os.replace(staged, target)
    say(f"Shipped {target} ({size / 1e6:.2f} MB)")
    return metadata


def _check_size(folder, name):
    size = folder_bytes(folder)
    if size > MAX_PRESET_BYTES:
        raise ValueError(
            f"preset {name!r} takes {size / 1e6:.1f} MB with float16 weights; a shipped preset "
            f"may take at most {MAX_PRESET_BYTES / 1e6:.0f} MB. Nothing was written."
        )
    return size


def _check_replaceable(target):
    """Refuse to replace a folder that is not a preset."""
    if not os.path.isfile(os.path.join(target, presets.METADATA_FILE)):
        raise ValueError(f"{target} exists and is not a preset folder; refusing to replace it.")


def _format(metrics):
    return ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in metrics.items())


def check_sizes(presets_dir=None):
    """`{name: bytes}` of every preset in `presets_dir`; a ValueError past the limits."""
    presets_dir = presets_dir or presets.SHIPPED_DIR
    sizes = {
        name: folder_bytes(os.path.join(presets_dir, name))
        for name in sorted(os.listdir(presets_dir))
        if os.path.isfile(os.path.join(presets_dir, name, presets.METADATA_FILE))
    }
    too_big = {name: size for name, size in sizes.items() if size > MAX_PRESET_BYTES}
    if too_big:
        raise ValueError(f"presets over {MAX_PRESET_BYTES / 1e6:.0f} MB: {too_big}")
    if sum(sizes.values()) > MAX_SHIPPED_BYTES:
        raise ValueError(
            f"the shipped presets take {sum(sizes.values()) / 1e6:.1f} MB together; "
            f"at most {MAX_SHIPPED_BYTES / 1e6:.0f} MB may ship."
        )
    return sizes
