"""pretraining_dataset: masking and next-sentence statistics, pair structure."""

import keras
import numpy as np
import pytest

from zoo.bert import BertTokenizer, pretraining_dataset
from zoo.bert.pretraining_data import make_sentence_pairs, read_documents, tokenize_documents

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
DOCUMENTS, SENTENCES, WORDS_PER_SENTENCE, WORDS_PER_DOCUMENT = 640, 14, 12, 40


@pytest.fixture(scope="module")
def corpus():
    """Documents with disjoint word sets: document d only uses words `d<d>w<i>`.

    So a token tells which document it came from.
    """
    rng = np.random.default_rng(0)
    words = [[f"d{d}w{i}" for i in range(WORDS_PER_DOCUMENT)] for d in range(DOCUMENTS)]
    documents = [
        [" ".join(rng.choice(words[d], WORDS_PER_SENTENCE)) for _ in range(SENTENCES)]
        for d in range(DOCUMENTS)
    ]
    tokenizer = BertTokenizer(SPECIAL + [w for ws in words for w in ws], sequence_length=64)
    return documents, tokenizer


def _document_of(tokenizer, token_ids):
    """The document index of each word id (-1 for special tokens)."""
    return np.where(token_ids >= len(SPECIAL), (token_ids - len(SPECIAL)) // WORDS_PER_DOCUMENT, -1)


def test_masking_and_next_sentence_statistics_over_100k_tokens(corpus):
    documents, tokenizer = corpus
    data = pretraining_dataset(documents, tokenizer, sequence_length=64, batch_size=256, seed=1)
    special = np.array(tokenizer.special_ids)
    candidates = chosen = masked = random = kept = 0
    labels = []
    for batch in data:
        inputs, targets, weights = keras.tree.map_structure(np.asarray, batch)
        token_ids, positions = inputs["token_ids"], inputs["mask_positions"]
        real = weights["mlm"] > 0  # (B, P)
        original = targets["mlm"]
        # Reconstruct the unmasked sequence and count its candidates.
        restored = token_ids.copy()
        rows = np.nonzero(real)[0]
        restored[rows, positions[real]] = original[real]
        candidates += int((~np.isin(restored, special)).sum())
        chosen += int(real.sum())
        at_positions = token_ids[rows, positions[real]]
        masked += int((at_positions == tokenizer.mask_id).sum())
        kept += int((at_positions == original[real]).sum())
        random += int(((at_positions != tokenizer.mask_id) & (at_positions != original[real])).sum())
        # Special tokens and padding are never chosen.
        assert not np.isin(original[real], special).any()
        # [CLS] / [SEP] / [PAD] sit where they were packed.
        assert (token_ids[:, 0] == tokenizer.cls_id).all()
        assert ((restored == tokenizer.sep_id).sum(axis=1) == 2).all()
        np.testing.assert_array_equal(inputs["padding_mask"], restored != tokenizer.pad_id)
        labels.extend(targets["nsp"].tolist())
    assert candidates >= 100_000
    assert abs(chosen / candidates - 0.15) <= 0.01
    assert abs(masked / chosen - 0.8) <= 0.01
    assert abs(random / chosen - 0.1) <= 0.01
    assert abs(kept / chosen - 0.1) <= 0.01
    assert abs(np.mean(labels) - 0.5) <= 0.02


def test_true_pairs_continue_the_document_and_random_pairs_do_not(corpus):
    documents, tokenizer = corpus
    tokenized = tokenize_documents(documents[:40], tokenizer)
    pairs = make_sentence_pairs(tokenized, budget=61, seed=3)
    assert {label for _, _, label in pairs} == {0, 1}
    for a, b, is_next in pairs:
        assert 0 < len(a) + len(b) <= 61
        a_documents = set(_document_of(tokenizer, np.array(a)).tolist())
        b_documents = set(_document_of(tokenizer, np.array(b)).tolist())
        assert len(a_documents) == 1 and len(b_documents) == 1
        assert (a_documents == b_documents) == bool(is_next)
    # A true pair is the text itself: A's words then B's, in order.
    flat = [t for s in tokenized[0] for t in s]
    a, b, _ = next(p for p in pairs if p[2] == 1)
    joined = a + b
    starts = [i for i in range(len(flat)) if flat[i : i + len(joined)] == joined]
    assert starts, "a true pair must be a contiguous span of its document"


def test_segments_and_batches_have_the_documented_shapes(corpus):
    documents, tokenizer = corpus
    data = pretraining_dataset(documents[:20], tokenizer, sequence_length=40, batch_size=4)
    inputs, targets, weights = keras.tree.map_structure(np.asarray, next(iter(data)))
    assert tuple(inputs["token_ids"].shape) == (4, 40)
    assert tuple(inputs["mask_positions"].shape) == (4, 6)  # ceil(40 * 0.15)
    assert tuple(targets["nsp"].shape) == (4,) and tuple(weights["nsp"].shape) == (4,)
    segments = inputs["segment_ids"]
    first_sep = np.argmax(inputs["token_ids"] == tokenizer.sep_id, axis=1)
    for row in range(4):
        # segment 0 up to the first [SEP] included, then segment 1
        assert (segments[row, : first_sep[row] + 1] == 0).all()
        assert segments[row, first_sep[row] + 1] == 1


def test_read_documents_handles_wikitext_and_plain_text(tmp_path):
    wikitext = tmp_path / "wiki.txt"
    wikitext.write_text(
        " = Lobster = \n\n Lobsters are big . They live in the sea .\n\n"
        " = = Biology = = \n\n They weigh 1 @,@ 000 grams .\n\n = Cat = \n\n Cats purr .\n"
    )
    documents = read_documents(str(wikitext))
    assert documents == [
        ["Lobsters are big .", "They live in the sea .", "They weigh 1,000 grams ."],
        ["Cats purr ."],
    ]
    plain = tmp_path / "plain.txt"
    plain.write_text("One. Two!\nThree?\n\nFour.\n")
    assert read_documents(str(plain)) == [["One.", "Two!", "Three?"], ["Four."]]


def test_one_document_is_not_enough_for_random_pairs():
    with pytest.raises(ValueError, match="at least 2 non-empty documents"):
        make_sentence_pairs([[[5, 6], [7, 8]]], budget=10)
