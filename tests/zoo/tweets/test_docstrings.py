"""The examples in zoo.tweets' docstrings run and print what they say."""

import pytest

from tests import docstring_examples
from tests.conftest import require_dataset

MODULES = ["zoo.tweets", "zoo.tweets.data", "zoo.tweets.tokenizer", "zoo.tweets.model", "zoo.tweets.batching",
           "zoo.tweets.metrics", "zoo.tweets.recipes", "zoo.tweets.adaptation", "zoo.tweets.semeval"]


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES))
def test_docstring_example(module_name, test_name):
    require_dataset("tweeteval")  # the loaders' examples read them
    require_dataset("semeval2017-4a")
    docstring_examples.check(module_name, test_name)
