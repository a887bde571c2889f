"""The examples in zoo.vit's docstrings run and print what they say."""

import pytest

from tests import docstring_examples

MODULES = ["zoo.vit.augment", "zoo.vit.model", "zoo.vit.data", "zoo.vit.training",
           "zoo.vit.recipes", "zoo.vit.checkpoint", "zoo.vit.attention_map"]


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES))
def test_docstring_example(module_name, test_name):
    docstring_examples.check(module_name, test_name)
