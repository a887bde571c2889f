"""`--distribution data|model` on 2 logical CPU devices equals one device.

Each backend runs in a subprocess (tests/zoo/distributed_step.py): the
devices must be configured before TensorFlow / JAX initialise.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from tests.conftest import require_module
from zoo import distribution as distribution_lib
from zoo import training

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "zoo", "distributed_step.py")
TWO_CPUS = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}


def run_script(backend, *arguments, extra_env=None):
    """The JSON lines that distributed_step.py prints, one dict per model."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **(extra_env or {}))
    done = subprocess.run([sys.executable, SCRIPT, *arguments], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return {result["model"]: result for result in map(json.loads, lines)}


def check_equal_steps(result, distributions):
    assert result["devices"] == {"none": 1, **{d: 2 for d in distributions}}
    assert result["max_update"] > 1e-2  # the step really moved the weights
    for d in distributions:
        assert abs(result["loss"][d] - result["loss"]["none"]) <= 1e-5, result["loss"]
        assert result["max_difference"][d] <= 1e-5, result["max_difference"]


@pytest.mark.tensorflow  # tf.distribute.MirroredStrategy
def test_mirrored_strategy_step_equals_one_device_on_tensorflow():
    result = run_script("tensorflow", "classifier")["classifier"]
    check_equal_steps(result, ["data"])


def test_data_and_model_parallel_steps_equal_one_device_on_jax():
    require_module("jax", "keras.distribution on JAX")
    results = run_script("jax", "bert", "vit", "translator", "classifier", extra_env=TWO_CPUS)
    for name in ("bert", "vit", "translator", "classifier"):
        check_equal_steps(results[name], ["data", "model"])
    # The layout map really splits: each device holds half of the kernel.
    bert = results["bert"]["kernel"]  # a query kernel (D, H, head_dim) = (16, 2, 8)
    assert bert["model"] == {"spec": [None, "model", None], "shard_shapes": [[16, 1, 8]],
                             "shards": 2, "shape": [16, 2, 8]}
    assert bert["data"]["spec"] == [None, None, None] and bert["data"]["shard_shapes"] == [[16, 2, 8]]
    vit = results["vit"]["kernel"]  # a feed-forward input kernel (D, F) = (16, 32)
    assert vit["model"]["spec"] == [None, "model"] and vit["model"]["shard_shapes"] == [[16, 16]]
    translator = results["translator"]["kernel"]  # cross-attention key kernel
    assert translator["model"]["spec"] == [None, "model", None]
    assert translator["model"]["shard_shapes"] == [[16, 1, 8]]


def test_command_line_builds_the_distribution_and_trains_model_parallel(tmp_path):
    require_module("jax", "keras.distribution on JAX")
    result = run_script("jax", f"--cli={tmp_path / 'classifier'}", extra_env=TWO_CPUS)["command_line"]
    assert result["parsed"] == "model"
    assert result["made"] == {
        "data": ["DataParallel", ["batch"], [2]],
        "model": ["ModelParallel", ["batch", "model"], [1, 2]],
    }
    sharded = result["sharded"]
    assert sharded["self_attention_layer/query/kernel"] == [None, "model", None]
    assert sharded["feedforward_output_dense/kernel"] == ["model", None]
    assert 0.0 <= result["metrics"]["accuracy"] <= 1.0
    assert result["exit_code"] == 0
    assert os.path.isdir(tmp_path / "classifier-cli")


def test_two_processes_train_data_parallel_like_one_device():
    """Two JAX processes on this machine stand for two hosts (CPU collectives over gloo)."""
    require_module("jax", "keras.distribution on JAX")
    import socket

    with socket.socket() as probe:  # a free port for the coordinator
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{port}", KERAS_DISTRIBUTION_NUM_PROCESSES="2")
    env.pop("XLA_FLAGS", None)  # one device per process
    hosts = [subprocess.Popen([sys.executable, SCRIPT, "--host=vit"], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=dict(env, KERAS_DISTRIBUTION_PROCESS_ID=str(i)))
             for i in (0, 1)]
    results = []
    for host in hosts:
        out, err = host.communicate(timeout=900)
        assert host.returncode == 0, err[-3000:]
        results.append(json.loads([line for line in out.splitlines() if line.startswith("{")][-1]))
    for i, result in enumerate(results):
        assert (result["process"], result["processes"], result["devices"]) == (i, 2, 2)
        assert result["rows_fed"] == 4  # half of the global batch of 8
        assert result["max_update"] > 1e-2
        assert abs(result["loss"][0] - result["loss"][1]) <= 1e-5, result["loss"]
        assert result["max_difference"] <= 1e-5, result


def test_unknown_distribution_and_unsupported_backend_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match=r"`distribution` must be one of .*'mirrored'"):
        distribution_lib.make_distribution("mirrored")
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(ValueError, match="needs the jax or tensorflow backend.*'torch'"):
        distribution_lib.make_distribution("data")
    with pytest.raises(ValueError, match="needs the jax backend.*'torch'"):
        distribution_lib.make_distribution("model")


def test_layout_maps_of_the_three_transformers():
    from zoo.bert import BertBackbone
    from zoo.translation import TransformerTranslator
    from zoo.vit import ViT

    mesh = keras.distribution.DeviceMesh((1, 1), ["batch", "model"], keras.distribution.list_devices()[:1])
    expected = {
        "transformer_layer_3/self_attention_layer/value/kernel": (None, "model", None),
        "transformer_layer_3/self_attention_layer/attention_output/kernel": ("model", None, None),
        "transformer_layer_3/feedforward_intermediate_dense/kernel": (None, "model"),
        "transformer_layer_3/feedforward_output_dense/kernel": ("model", None),
        "token_embedding/embeddings": (None, "model"),
        "transformer_layer_3/self_attention_layer/value/bias": None,
        "embeddings_layer_norm/gamma": None,
    }
    for path, axes in expected.items():
        layout = BertBackbone.get_layout_map(mesh)[path]
        assert (layout if layout is None else layout.axes) == axes, path
    vit = ViT.get_layout_map(mesh)
    assert vit["vi_t_2/patch_embedding/projection/kernel"].axes == (None, "model")
    assert vit["vi_t_2/patch_embedding/position_embedding/embeddings"].axes == (None, "model")
    assert vit["vi_t_2/head/kernel"] is None
    translator = TransformerTranslator.get_layout_map(mesh)
    assert translator["t/target_embedding/token_embedding/embeddings"].axes == (None, "model")
    assert translator["t/decoder_block_1/cross_attention/query/kernel"].axes == (None, "model", None)
    with pytest.raises(ValueError, match="must have a 'model' axis"):
        distribution_lib.layout_map(keras.distribution.DeviceMesh((1,), ["batch"], mesh.devices.flatten()))


def test_multi_host_needs_all_three_variables(monkeypatch):
    for name in distribution_lib.MULTI_HOST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert distribution_lib.initialize_multi_host() is False  # one host: nothing to do
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    with pytest.raises(ValueError, match="missing KERAS_DISTRIBUTION_JOB_ADDRESSES, KERAS_DISTRIBUTION_PROCESS_ID"):
        distribution_lib.initialize_multi_host()


def test_each_host_feeds_its_share_of_a_global_batch(monkeypatch):
    class TwoHosts:  # what keras.distribution.distribution() answers on host 1 of 2
        num_processes, num_model_replicas, data_shard_id = 2, 2, 1

    monkeypatch.setattr(keras.distribution, "distribution", lambda: TwoHosts())
    batches = training.ShuffledBatches((np.arange(8), np.arange(8)), batch_size=4, seed=0)
    whole = batches.order[:4]
    x, y = batches[0]
    np.testing.assert_array_equal(x, whole[2:])  # the second half of the global batch
    TwoHosts.num_model_replicas, TwoHosts.data_shard_id = 1, 0  # one model split across hosts
    np.testing.assert_array_equal(training.ShuffledBatches((np.arange(8),), 4)[0][0],
                                  np.random.default_rng([0, 0]).permutation(8)[:4])
