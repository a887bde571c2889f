"""Every example in a zoo.gpt docstring runs and prints what it says."""

import pytest

from tests import docstring_examples
from tests.conftest import require_dataset, require_module

MODULES = ["zoo.gpt", "zoo.gpt.model", "zoo.gpt.tokenizer", "zoo.gpt.data", "zoo.gpt.checkpoint",
           "zoo.gpt.recipes"]
NEEDS_TRANSFORMERS = ("zoo.gpt.checkpoint",)


@pytest.mark.parametrize("module_name, test_name", docstring_examples.cases(MODULES))
def test_docstring_example(module_name, test_name):
    if module_name in NEEDS_TRANSFORMERS:
        require_module("transformers", "the example writes a tiny GPT-2 with transformers")
    if module_name == "zoo.gpt.data":
        require_dataset("wikitext-2")  # load_wikitext2's example reads it
    docstring_examples.check(module_name, test_name)
