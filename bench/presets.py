"""The shipped presets: full test metrics of the float16-stored weights, and sizes.

    python -m bench presets             # every preset in zoo/presets, full test sets
    python -m bench presets --quick     # the cards' slices only, to check the script runs

For each preset the full test set is scored again with the weights as
shipped (float16 on disk, float32 once loaded: `python -m zoo evaluate NAME`)
and set beside the float32 figure that `python -m zoo ship` measured on the
float32 weights before it rounded them (those weights are not shipped, so the
float32 column is read from the preset's metadata). Sizes are the preset
folders on disk; the limits are 15 MB each and 60 MB together (issue #30).
"""

import time

from bench import common


def run(quick=False):
    import zoo
    from zoo import presets, shipping, training

    rows, notes = [], []
    sizes = shipping.check_sizes()  # a ValueError past the limits
    for name in sorted(zoo.list()):
        metadata = presets.verify(presets.resolve(name))
        check = metadata.get("stored_as_float16")
        if not check:
            notes.append(f"`{name}` stores {metadata.get('weights_dtype', 'float32')} weights and "
                         "has no float32 reference: ship it with `python -m zoo ship`.")
            continue
        limit = metadata["slice"]["limit"] if quick else None
        started = time.perf_counter()
        measured = training.evaluator(metadata["recipe"])(zoo.load(name), limit=limit)
        seconds = time.perf_counter() - started
        reference = metadata["slice"]["metrics"] if quick else check["float32"]
        for metric, value in measured.items():
            float32 = reference.get(metric)
            rows.append([
                f"`{name}`", metric, _figure(value), _figure(float32),
                f"{value - float32:+.2g}" if isinstance(float32, (int, float)) else "-",
                f"{sizes[name] / 1e6:.2f}", f"{seconds:.0f}",
            ])
    header = ["preset", "metric", "float16 storage (measured now)",
              "float16 slice (recorded)" if quick else "float32 (measured by `zoo ship`)",
              "difference", "size (MB)", "evaluation (s)"]
    total = sum(sizes.values()) / 1e6
    body = [
        "## Shipped presets: float16 storage vs float32, and size",
        "",
        "--quick: the cards' slices (`--limit`), compared with the figure each card records."
        if quick else
        "Full test sets (`python -m zoo evaluate NAME`); each metric as the preset's recipe defines it.",
        "",
        common.table(header, rows),
        "",
        f"{len(sizes)} presets, {total:.2f} MB together (limits: "
        f"{shipping.MAX_PRESET_BYTES / 1e6:.0f} MB each, {shipping.MAX_SHIPPED_BYTES / 1e6:.0f} MB in all).",
    ]
    body += ["", *notes] if notes else []
    return "\n".join(body)


def _figure(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)
