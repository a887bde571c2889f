"""kattn must import and run with TensorFlow absent (GPU runs use JAX or torch)."""

import os
import subprocess
import sys
import textwrap

import keras

from tests.conftest import require_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    sys.modules["tensorflow"] = None  # `import tensorflow` raises ImportError

    import numpy as np
    import keras
    import kattn

    # Every kattn module imports (optional extras like matplotlib may be absent).
    for info in pkgutil.walk_packages(kattn.__path__, prefix="kattn."):
        try:
            importlib.import_module(info.name)
        except ImportError as error:
            if "tensorflow" in str(error):
                raise

    x = np.random.rand(2, 4, 8).astype("float32")
    mha = kattn.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    out = mha(x, x, use_causal_mask=True)
    pooled = kattn.layers.AttentionPooling()(out)
    context = kattn.layers.AdditiveAttention(units=3)(x[:, 0], x)
    assert keras.backend.backend() in ("jax", "torch"), keras.backend.backend()
    assert sys.modules["tensorflow"] is None and not any(m.startswith("tensorflow.") for m in sys.modules)
    print("ok", tuple(pooled.shape), tuple(context.shape))
    """
)


def test_kattn_imports_and_runs_with_tensorflow_blocked():
    # The backend at hand (make test-jax / test-torch), JAX next to TensorFlow.
    backend = "jax" if keras.backend.backend() == "tensorflow" else keras.backend.backend()
    require_module(backend, "kattn's TensorFlow-free path runs on JAX or torch")
    environment = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT)
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.strip().splitlines()[-1] == "ok (2, 8) (2, 8)"
