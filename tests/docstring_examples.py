"""Run docstring examples as tests: each example is one pytest case.

Examples carry their own imports: each runs with empty globals, like a user
pasting it into a fresh session.
"""

import doctest
import importlib

import pytest

_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _find(module_name):
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, module_name, globs={}) if t.examples]


def cases(module_names, skip=()):
    """`pytest.param(module_name, test_name)` for every example in the modules."""
    params = []
    for name in module_names:
        try:
            tests = _find(name)
        except ImportError as error:  # an optional extra, e.g. kattn.viz without matplotlib
            params.append(pytest.param(name, None, marks=pytest.mark.skip(reason=str(error))))
            continue
        params += [pytest.param(name, t.name, id=t.name) for t in tests if t.name not in skip]
    return params


def check(module_name, test_name):
    """Run one example; fail with doctest's report if it prints something else."""
    (test,) = [t for t in _find(module_name) if t.name == test_name]
    report = []
    runner = doctest.DocTestRunner(optionflags=_FLAGS)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
