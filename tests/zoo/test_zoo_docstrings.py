"""The examples in the zoo infrastructure's docstrings run and print what they say.

(`zoo.training`'s module example trains a model; test_training.py covers it.)
"""

import pytest

from tests import docstring_examples

MODULES = ["zoo.presets", "zoo.recipes", "zoo.cli", "zoo.training", "zoo.classifier", "zoo.classifier.data",
           "zoo.classifier.model", "zoo.batching", "zoo.data_paths", "zoo.text_inputs", "zoo.quiet_start",
           "zoo.distribution", "zoo.shipping", "zoo.compiling"]


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES, skip={"zoo.training"}))
def test_docstring_example(module_name, test_name):
    docstring_examples.check(module_name, test_name)
