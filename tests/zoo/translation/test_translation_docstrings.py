"""The examples in zoo.translation's docstrings run and print what they say."""

import pytest

from tests import docstring_examples

MODULES = ["zoo.translation", "zoo.translation.data", "zoo.translation.dates",
           "zoo.translation.tokenizers", "zoo.translation.decoding", "zoo.translation.training",
           "zoo.translation.rnn", "zoo.translation.transformer"]


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES))
def test_docstring_example(module_name, test_name):
    docstring_examples.check(module_name, test_name)
