"""kattn model zoo: models built from kattn layers, their data, training and presets.

    import zoo
    zoo.list()                      # shipped presets and what they do
    model = zoo.load("NAME")        # a shipped preset, or a preset folder
    zoo.save(model, "my-preset")    # config, weights, assets, hashes, model card

`python -m zoo` trains, evaluates and runs presets from the command line.
"""

import os

# `python -m zoo` imports this package before `zoo/__main__.py`, so the
# TensorFlow log level is set here, before Keras imports TensorFlow. A value
# the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo.presets import PresetError  # noqa: E402
from zoo.presets import list  # noqa: E402,A004 - zoo.list() is the public name
from zoo.presets import load  # noqa: E402
from zoo.presets import save  # noqa: E402

__all__ = ["PresetError", "list", "load", "save"]
