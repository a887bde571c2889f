"""A decoder-only language model (GPT) from kattn's decoder blocks.

    from zoo.gpt import GPT, load_hf_checkpoint, load_wikitext2
"""

from zoo.gpt.checkpoint import load_hf_checkpoint
from zoo.gpt.data import load_wikitext2
from zoo.gpt.model import GPT
from zoo.gpt.tokenizer import WordTokenizer

__all__ = ["GPT", "WordTokenizer", "load_hf_checkpoint", "load_wikitext2"]
