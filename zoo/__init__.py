"""kattn model zoo: models built from kattn layers, their data, training and presets.

    import zoo
    zoo.list()                      # shipped presets and what they do
    model = zoo.load("NAME")        # a shipped preset, or a preset folder
    zoo.save(model, "my-preset")    # config, weights, assets, hashes, model card

`python -m zoo` trains, evaluates and runs presets from the command line.

`import zoo` itself imports nothing heavy: Keras (and TensorFlow) load the
first time one of the names above is used, so that `python -m zoo --help`
answers at once.
"""

_PRESET_NAMES = ("PresetError", "list", "load", "save")  # zoo.list() is the public name

__all__ = list(_PRESET_NAMES)


def __getattr__(name):
    """`zoo.load` and friends, imported from `zoo.presets` on first use."""
    if name in _PRESET_NAMES:
        from zoo import presets

        return getattr(presets, name)
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")
