"""Every example in a kattn docstring runs and prints what it says.

The collector walks the whole `kattn` package, so layers added later are
checked without touching this file. Examples must carry their own imports:
each runs with empty globals, like a user pasting it into a fresh session.
"""

import doctest
import importlib
import pkgutil

import pytest

import kattn


def _kattn_modules():
    names = ["kattn"]
    for info in pkgutil.walk_packages(kattn.__path__, prefix="kattn."):
        names.append(info.name)
    return sorted(names)


def _examples(module_name):
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:  # an optional extra, e.g. kattn.viz without matplotlib
        return [pytest.param(module_name, None, marks=pytest.mark.skip(reason=str(error)))]
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = [t for t in finder.find(module, module_name, globs={}) if t.examples]
    return [pytest.param(module_name, t.name, id=t.name) for t in tests]


CASES = [case for name in _kattn_modules() for case in _examples(name)]


def test_the_collector_finds_the_core_examples():
    ids = {case.id for case in CASES}
    for name in (
        "kattn.ops.masked_softmax",
        "kattn.config",
        "kattn.layers.attention.Attention",
        "kattn.layers.multi_head_attention.MultiHeadAttention",
    ):
        assert name in ids


@pytest.mark.parametrize("module_name, test_name", CASES)
def test_docstring_example(module_name, test_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    (test,) = [t for t in finder.find(module, module_name, globs={}) if t.name == test_name]
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
