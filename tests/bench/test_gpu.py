"""`python -m bench.gpu --tiny`: the GPU benchmark's code path at tiny sizes on a CPU.

It runs in a subprocess because the script needs `KERAS_BACKEND=jax`, and
TensorFlow is the test suite's default backend.
"""

import os
import re
import subprocess
import sys

from tests.conftest import require_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_tiny_mode_measures_every_contestant_and_trains_a_recipe():
    require_module("jax", "bench/gpu.py runs on JAX")
    require_module("keras_hub", "bench/gpu.py compares with keras_hub")
    env = dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-m", "bench.gpu", "--tiny"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "Tiny mode on a CPU" in out
    rows = re.findall(r"^\| (ours|`keras_hub[^|]*) .*\| ([\d.,]+) \| ([\d.,]+) \| ([\d.e+-]+) \| n/a \| ([\d.,]+|n/a) \|$",
                      out, flags=re.MULTILINE)
    assert len(rows) == 5, out  # BERT: ours fused, ours explicit, keras_hub; ViT: ours, keras_hub
    for _, milliseconds, per_second, tflops, _memory in rows:
        assert float(milliseconds.replace(",", "")) > 0 and float(per_second.replace(",", "")) > 0
        assert float(tflops) > 0
    assert re.search(r"Ours \(fused\) ÷ keras_hub: \d+\.\d\dx", out)
    accuracy = float(re.search(r"Test metrics: accuracy (\d\.\d+)", out).group(1))
    assert 0.0 <= accuracy <= 1.0


def test_flop_count_matches_the_stated_formula():
    from bench import gpu

    s = dict(num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072,
             vocabulary=30522, length=512, batch=1)
    blocks = 12 * (4 * 768**2 + 2 * 768 * 3072)  # 84.9 M kernel weights in the blocks
    assert blocks == 84_934_656
    expected = 6 * blocks * 512 + 12 * 12 * 512**2 * 768 + 6 * 76 * (768**2 + 768 * 30522)
    assert gpu.bert_flops(s, 76) == expected  # about 0.30 TFLOP per sequence
    assert 0.29e12 < expected < 0.31e12
    assert gpu.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert gpu.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert gpu.peak_flops("cpu") is None
