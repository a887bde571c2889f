"""kattn: attention layers for Keras 3 that show what attention does.

Imports keras and numpy only, so it runs on the TensorFlow, JAX and PyTorch
backends. One exception, on the TensorFlow backend only: the transformer
blocks XLA-compile themselves with `tf.function(jit_compile=True)`
(`kattn.compiled_call`), which Keras has no backend-neutral name for;
TensorFlow is then the backend Keras already loaded. Plots live in `kattn.viz` (needs matplotlib: `pip install kattn[viz]`).
"""

from kattn import config
from kattn import layers
from kattn import ops

__version__ = "0.1.0"
