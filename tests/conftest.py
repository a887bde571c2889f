"""Shared test setup: quiet logs, seeds, and the shared datasets."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from zoo import data_paths  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Every test starts seeded, in float32, with the default attention path."""
    import kattn

    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("float32")
    kattn.config.set_attention_implementation("auto")
    yield
    keras.mixed_precision.set_global_policy("float32")
    kattn.config.set_attention_implementation("auto")


def require_shared_data(relative_path):
    """Path to a file under ../shared/data; skip locally if absent, fail in CI."""
    path = data_paths.shared_data_path(relative_path)
    if not os.path.exists(path):
        message = f"shared dataset {relative_path} not found at {path}"
        if IN_CI:
            pytest.fail(message + " (datasets are never optional in CI)")
        pytest.skip(message)
    return path


def require_module(name, reason):
    """Import an optional dependency, or skip with a reason (fail in CI)."""
    try:
        return __import__(name)
    except ImportError:
        if IN_CI:
            pytest.fail(f"{name} is required in CI: {reason}")
        pytest.skip(f"{name} not installed: {reason}", allow_module_level=True)


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def copy_weights_by_name(source, target):
    """Copy every variable of layer `source` into the variable of `target` with
    the same path below the layer (e.g. `self_attention_layer/query/kernel`):
    how a keras_hub block's weights reach ours."""

    def by_path(layer):
        return {
            v.path.split("/", 1)[1]: v
            for v in layer.weights
            if "seed_generator" not in v.path
        }

    source_vars, target_vars = by_path(source), by_path(target)
    assert sorted(source_vars) == sorted(target_vars)
    for path, variable in source_vars.items():
        target_vars[path].assign(variable)
