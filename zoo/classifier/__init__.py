"""The zoo's generic family: a small transformer-encoder text classifier.

>>> from zoo.classifier import EncoderClassifier, data
>>> texts, labels = data.first_colour_task(4)
"""

from zoo.classifier import data
from zoo.classifier.model import EncoderClassifier

__all__ = ["EncoderClassifier", "data"]
