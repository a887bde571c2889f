"""BertTokenizer: same ids as Hugging Face's tokenizer, packing, edge cases."""

import numpy as np
import pytest

from tests.conftest import require_module
from tests.zoo.bert.conftest import VARIED_SENTENCES
from zoo.bert import BertTokenizer

SMALL_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "##s", ".", "on", "mat"]


@pytest.fixture(scope="module")
def hf_tokenizer(minilm_path):
    transformers = require_module("transformers", "reference tokenizer")
    return transformers.AutoTokenizer.from_pretrained(minilm_path)


def test_same_ids_as_hugging_face_on_varied_sentences(minilm_tokenizer, hf_tokenizer):
    tokenizer = minilm_tokenizer
    ours = tokenizer.encode(VARIED_SENTENCES)
    theirs = hf_tokenizer(
        VARIED_SENTENCES, padding="max_length", truncation=True,
        max_length=tokenizer.sequence_length, return_tensors="np",
    )
    np.testing.assert_array_equal(ours["token_ids"], theirs["input_ids"])
    np.testing.assert_array_equal(ours["segment_ids"], theirs["token_type_ids"])
    np.testing.assert_array_equal(ours["padding_mask"], theirs["attention_mask"].astype(bool))
    # The sentences do exercise unknown words and accents.
    assert (ours["token_ids"] == tokenizer.unk_id).any()


def test_same_ids_as_hugging_face_on_sentence_pairs(minilm_tokenizer, hf_tokenizer):
    tokenizer = minilm_tokenizer
    first, second = VARIED_SENTENCES[:10], VARIED_SENTENCES[10:]
    ours = tokenizer.encode(first, pairs=second)
    theirs = hf_tokenizer(
        first, second, padding="max_length", max_length=tokenizer.sequence_length,
        truncation=True, return_tensors="np",
    )
    np.testing.assert_array_equal(ours["token_ids"], theirs["input_ids"])
    np.testing.assert_array_equal(ours["segment_ids"], theirs["token_type_ids"])


def test_edge_cases_match_hugging_face(minilm_tokenizer, hf_tokenizer):
    tokenizer = minilm_tokenizer
    long_text = "word " * 500 + "end"
    cases = ["", long_text, "🤖 ☃", "\u200b\u200b", "   "]
    ours = tokenizer.encode(cases)["token_ids"]
    theirs = hf_tokenizer(
        cases, padding="max_length", truncation=True,
        max_length=tokenizer.sequence_length, return_tensors="np",
    )["input_ids"]
    np.testing.assert_array_equal(ours, theirs)
    cls, sep, pad, unk = tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id, tokenizer.unk_id
    # Empty (and invisible-only) strings: just [CLS] [SEP].
    for row in (0, 3, 4):
        assert ours[row, :2].tolist() == [cls, sep] and (ours[row, 2:] == pad).all()
    # Very long input: truncated to the length, still closed by [SEP].
    assert ours[1, 0] == cls and ours[1, -1] == sep and pad not in ours[1]
    # Only unknown characters: one [UNK] per unknown word.
    assert ours[2, :4].tolist() == [cls, unk, unk, sep]


def test_small_vocabulary_packs_pairs_with_segments():
    tokenizer = BertTokenizer(SMALL_VOCAB, sequence_length=11)
    batch = tokenizer.encode(["The cats sat."], pairs=["on the mat"])
    assert batch["token_ids"].tolist() == [[2, 5, 6, 8, 7, 9, 3, 10, 5, 11, 3]]
    assert batch["segment_ids"].tolist() == [[0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]]
    assert batch["padding_mask"].all()
    single = tokenizer("the cat")  # calling is `encode`; one string, no batch axis
    assert single["token_ids"].tolist() == [2, 5, 6, 3] + [0] * 7


def test_long_pairs_lose_tokens_from_the_longer_segment():
    tokenizer = BertTokenizer(SMALL_VOCAB, sequence_length=8)
    batch = tokenizer.encode(["the cat " * 10], pairs=["mat"])
    ids = batch["token_ids"][0].tolist()
    # 8 = [CLS] + 4 of the first + [SEP] + "mat" + [SEP]
    assert ids == [2, 5, 6, 5, 6, 3, 11, 3]


def test_detokenize_joins_word_pieces():
    tokenizer = BertTokenizer(SMALL_VOCAB, sequence_length=8)
    ids = tokenizer.encode(["The cats sat."])["token_ids"][0]
    assert tokenizer.detokenize(ids) == "[CLS] the cats sat . [SEP]"


def test_from_corpus_puts_special_tokens_first_and_covers_the_corpus():
    corpus = ["the cat sat on the mat", "the dog sat on the log", "cats and dogs"] * 20
    tokenizer = BertTokenizer.from_corpus(corpus, vocabulary_size=60, sequence_length=12)
    assert tokenizer.vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    ids = [i for row in tokenizer.tokenize(corpus) for i in row]
    assert tokenizer.unk_id not in ids


def test_vocabulary_file_round_trip(tmp_path):
    tokenizer = BertTokenizer(SMALL_VOCAB)
    tokenizer.save_vocabulary(str(tmp_path))
    restored = BertTokenizer.from_config(tokenizer.get_config())
    restored.load_vocabulary(str(tmp_path))
    assert restored.vocabulary == SMALL_VOCAB
    assert restored.sequence_length == tokenizer.sequence_length


def test_bad_vocabulary_names_the_missing_tokens():
    with pytest.raises(ValueError, match=r"`vocabulary`.*missing \['\[MASK\]'\]"):
        BertTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"])
    with pytest.raises(ValueError, match="no vocabulary"):
        BertTokenizer().tokenize(["a"])
