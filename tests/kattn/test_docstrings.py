"""Every example in a kattn docstring runs and prints what it says.

The collector walks the whole `kattn` package, so layers added later are
checked without touching this file.
"""

import pkgutil

import pytest

import kattn
from tests import docstring_examples

MODULES = ["kattn"] + sorted(info.name for info in pkgutil.walk_packages(kattn.__path__, prefix="kattn."))
CASES = docstring_examples.cases(MODULES)


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
    docstring_examples.check(module_name, test_name)
