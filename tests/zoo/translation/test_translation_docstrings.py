"""The examples in zoo.translation's docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["zoo.translation", "zoo.translation.data", "zoo.translation.dates",
           "zoo.translation.tokenizers", "zoo.translation.decoding", "zoo.translation.training",
           "zoo.translation.rnn", "zoo.translation.transformer"]


def _cases():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in MODULES:
        for test in finder.find(importlib.import_module(name), name, globs={}):
            if test.examples:
                yield pytest.param(name, test.name, id=test.name)


@pytest.mark.parametrize("module_name, test_name", list(_cases()))
def test_docstring_example(module_name, test_name):
    finder = doctest.DocTestFinder(exclude_empty=True)
    module = importlib.import_module(module_name)
    (test,) = [t for t in finder.find(module, module_name, globs={}) if t.name == test_name]
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
