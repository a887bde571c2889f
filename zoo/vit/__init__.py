"""Vision Transformer: model, named sizes, data, augmentation, checkpoints.

>>> from zoo.vit import ViT, vit_tiny
>>> vit_tiny(image_size=32, patch_size=16, num_classes=10).num_tokens
5
"""

from zoo.vit.checkpoint import load_hf_checkpoint
from zoo.vit.data import load_cifar10
from zoo.vit.data import load_digits
from zoo.vit.data import load_fashion_mnist
from zoo.vit.data import load_mnist
from zoo.vit.model import SIZES
from zoo.vit.model import ViT
from zoo.vit.model import interpolate_position_embeddings
from zoo.vit.model import resize_model
from zoo.vit.model import vit_base
from zoo.vit.model import vit_small
from zoo.vit.model import vit_tiny
