"""The examples in zoo.tweets' docstrings run and print what they say."""

import doctest
import importlib

import pytest

from tests.conftest import require_shared_data

MODULES = ["zoo.tweets", "zoo.tweets.data", "zoo.tweets.tokenizer", "zoo.tweets.model",
           "zoo.tweets.metrics", "zoo.tweets.recipes"]


def _cases():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in MODULES:
        for test in finder.find(importlib.import_module(name), name, globs={}):
            if test.examples:
                yield pytest.param(name, test.name, id=test.name)


@pytest.mark.parametrize("module_name, test_name", list(_cases()))
def test_docstring_example(module_name, test_name):
    require_shared_data("tweeteval/datasets")  # the loaders' examples read it
    finder = doctest.DocTestFinder(exclude_empty=True)
    module = importlib.import_module(module_name)
    (test,) = [t for t in finder.find(module, module_name, globs={}) if t.name == test_name]
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
