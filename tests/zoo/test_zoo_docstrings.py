"""The examples in the zoo infrastructure's docstrings run and print what they say.

(`zoo.training.train`'s example trains a model; test_training.py covers it.)
"""

import doctest
import importlib

import pytest

MODULES = ["zoo.presets", "zoo.recipes", "zoo.cli", "zoo.training", "zoo.classifier", "zoo.classifier.data",
           "zoo.classifier.model"]
SKIP = {"zoo.training"}  # the module example: a training run


def _cases():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for name in MODULES:
        for test in finder.find(importlib.import_module(name), name, globs={}):
            if test.examples and test.name not in SKIP:
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
