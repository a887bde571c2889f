"""The examples in zoo.tweets' docstrings run and print what they say."""

import pytest

from tests import docstring_examples
from tests.conftest import require_shared_data

MODULES = ["zoo.tweets", "zoo.tweets.data", "zoo.tweets.tokenizer", "zoo.tweets.model", "zoo.tweets.batching",
           "zoo.tweets.metrics", "zoo.tweets.recipes", "zoo.tweets.adaptation"]


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES))
def test_docstring_example(module_name, test_name):
    require_shared_data("tweeteval/datasets")  # the loaders' examples read it
    docstring_examples.check(module_name, test_name)
