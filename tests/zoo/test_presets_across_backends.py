"""Every shipped preset (saved on TensorFlow) loads on JAX and torch, without
TensorFlow, and gives TensorFlow's outputs on fixed inputs: within 1e-5,
relative to the output's size where it exceeds 1 (the translators' logits
reach 20, where float32 itself steps by 2e-6)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.conftest import require_module

pytestmark = pytest.mark.tensorflow  # TensorFlow's outputs are the reference

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRESETS = sorted(os.listdir(os.path.join(ROOT, "zoo", "presets")))

# Loads one preset and prints its outputs on fixed inputs as JSON. With
# BLOCK_TENSORFLOW set, `import tensorflow` fails in that process.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys

    if os.environ.get("BLOCK_TENSORFLOW"):  # `import tensorflow` now fails, as if absent
        sys.modules["tensorflow"] = sys.modules["tensorflow_text"] = None

    import keras
    import numpy as np
    import zoo

    def outputs(name):
        model = zoo.load(name)
        x = inputs(name, model)
        y = np.asarray(model.predict(x, verbose=0), "float64")
        if name.startswith("gpt-"):
            y = y[:, -1]  # the next-word logits; the whole (3, 5, vocabulary) is 10 MB of JSON
        return y.tolist()

    def inputs(name, model):
        if name.startswith("dates-"):
            from zoo.translation import data
            pairs = data.load_dates(seed=0, train_size=10, validation_size=10, test_size=8).test
            return model.make_arrays(pairs)[0]
        if name.startswith("spa-eng-"):
            pairs = [("¿Dónde está la estación de tren más cercana?", "Where is the nearest station?"),
                     ("Tom no sabe nadar.", "Tom can't swim.")]
            return model.make_arrays(pairs)[0]
        if name.startswith("vit-"):  # fixed images of the preset's size
            shape = (4, *model.image_size, model.channels)
            low, high = model.pixel_range or (0, 255)
            return np.random.default_rng(0).uniform(low, high, shape).astype("float32")
        if name.startswith("tweets-"):
            return model.tokenizer(["i love it @bob :)", "worst day ever http://t.co/x", "meh"])
        if name.startswith("gpt-"):
            texts = ["the film was released in", "he was born in the", "the game is played on"]
            return np.asarray([model.tokenizer.encode(text)[:5] for text in texts], "int32")
        return model.tokenize(["the cat saw red then a blue car", "green dog", "yellow and red sat"])

    results = {name: outputs(name) for name in sys.argv[1:]}
    print(json.dumps({"backend": keras.backend.backend(), "outputs": results}))
    """
)


def outputs_on(backend):
    """`{preset: outputs}` from a fresh process on `backend` (JAX and torch: no TensorFlow)."""
    environment = dict(os.environ, KERAS_BACKEND=backend, PYTHONPATH=ROOT)
    if backend != "tensorflow":
        environment["BLOCK_TENSORFLOW"] = "1"
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT, *PRESETS], env=environment, cwd=ROOT,
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    return {name: np.asarray(values) for name, values in result["outputs"].items()}


@pytest.fixture(scope="module")
def outputs():
    require_module("tensorflow", "TensorFlow-only path: TensorFlow's outputs are the reference")
    require_module("jax", "one of the backends compared")
    require_module("torch", "one of the backends compared")
    return {backend: outputs_on(backend) for backend in ("tensorflow", "jax", "torch")}


@pytest.mark.parametrize("name", PRESETS)
def test_preset_gives_tensorflow_outputs_on_jax_and_torch(outputs, name):
    reference = outputs["tensorflow"][name]
    assert reference.size and np.isfinite(reference).all()
    for backend in ("jax", "torch"):
        np.testing.assert_allclose(outputs[backend][name], reference, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name} on {backend}")
