"""Data-parallel training on 2 logical CPU devices equals training on one device.

Each backend runs in a subprocess: the devices must be configured before
TensorFlow / JAX initialise (see tests/zoo/distributed_step.py).
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "zoo", "distributed_step.py")


@pytest.mark.parametrize(
    "backend, extra_env",
    [
        ("tensorflow", {}),  # tf.distribute.MirroredStrategy over 2 logical CPUs
        ("jax", {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}),  # DataParallel
    ],
)
def test_one_step_on_two_devices_equals_one_device(backend, extra_env):
    if backend == "jax":
        from tests.conftest import require_module

        require_module("jax", "the JAX half of the distribution test")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra_env)
    done = subprocess.run([sys.executable, SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    assert result["replicas"] == [1, 2]
    assert result["max_update"] > 1e-2  # the step really moved the weights
    assert result["max_difference"] <= 1e-5, result
