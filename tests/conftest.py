"""Shared test setup: quiet logs, seeds, and the datasets.

Tests never download a dataset. They read the offline mirror `KATTN_DATA`,
which is set here to `../shared/data` beside the checkout when that folder
exists and `KATTN_DATA` is not set (an empty `KATTN_DATA` means no mirror),
or a copy already in the Keras cache; otherwise a test that needs the dataset
skips, and fails under `CI=true`.

Tests about TensorFlow itself (TensorFlow as the reference, tf.data,
tensorflow-text) carry `@pytest.mark.tensorflow`. They run wherever the suite
runs on TensorFlow (`make test-tf`), and skip only in the TensorFlow-free
virtual environments of `make test-jax` / `make test-torch`, which set
`KATTN_NO_TENSORFLOW=1`: there TensorFlow is absent by design, not a missing
dependency, so the skip holds under `CI=true` too.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MIRROR = os.path.join(os.path.dirname(_REPO_ROOT), "shared", "data")
if "KATTN_DATA" not in os.environ and os.path.isdir(_MIRROR):
    os.environ["KATTN_DATA"] = _MIRROR  # inherited by the tutorial kernels too

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from zoo import data_paths  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NO_TENSORFLOW = bool(os.environ.get("KATTN_NO_TENSORFLOW"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "tensorflow: the test is about TensorFlow's own path; skipped where KATTN_NO_TENSORFLOW is set"
    )


def pytest_collection_modifyitems(config, items):
    if not NO_TENSORFLOW:
        return
    skip = pytest.mark.skip(reason="about TensorFlow's own path; this is a TensorFlow-free venv (KATTN_NO_TENSORFLOW)")
    for item in items:
        if item.get_closest_marker("tensorflow"):
            item.add_marker(skip)


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


def _skip_or_fail(message):
    if IN_CI:
        pytest.fail(message + " (datasets are never optional in CI)")
    pytest.skip(message)


def dataset_missing_reason(name, file=None):
    """Why dataset `name` (or its `file`) cannot be read offline; None when it can."""
    if data_paths.is_available(name, file):
        return None
    mirror = data_paths.mirror_dir()
    where = f"not in the mirror KATTN_DATA={mirror}" if mirror else (
        f"KATTN_DATA is not set and {data_paths.cache_dir(name)} holds no download"
    )
    return f"dataset {name!r} is not on this machine ({where}); tests never download {data_paths.origin(name)}"


def require_dataset(name, file=None):
    """Skip unless dataset `name` (or its `file`) is in the mirror or the Keras
    cache, so that its loader needs no network; fail in CI."""
    reason = dataset_missing_reason(name, file)
    if reason:
        _skip_or_fail(reason)


def require_shared_data(relative_path):
    """Path of a file of the offline mirror `KATTN_DATA` itself (for tests of
    the mirror's own files); skip if absent, fail in CI."""
    mirror = data_paths.mirror_dir()
    path = os.path.join(mirror, relative_path) if mirror else None
    if path is None or not os.path.exists(path):
        _skip_or_fail(f"{relative_path} is not in an offline mirror (KATTN_DATA={mirror or 'unset'})")
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
