"""kattn: attention layers for Keras 3 that show what attention does.

Imports keras and numpy only, so it runs on the TensorFlow, JAX and PyTorch
backends. Plots live in `kattn.viz` (needs matplotlib: `pip install kattn[viz]`).
"""

from kattn import config
from kattn import layers
from kattn import ops

__version__ = "0.1.0"
