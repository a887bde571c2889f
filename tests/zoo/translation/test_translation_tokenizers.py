"""Tests for the character and WordPiece tokenizers."""

import numpy as np
import pytest

from zoo.translation import tokenizers
from zoo.translation.tokenizers import CharacterTokenizer, WordPieceTokenizer, join_english_words


def test_character_tokenizer_round_trip_and_special_ids():
    tokenizer = CharacterTokenizer.from_texts(["1979-05-03", "May"])
    ids = tokenizer.encode(["1979-05-03", "May?"], length=12, start=True, end=True)
    assert ids.shape == (2, 12) and ids.dtype == np.int32
    assert ids[0, 0] == tokenizers.START_ID and ids[0, 11] == tokenizers.END_ID
    assert ids[1, 4] == tokenizers.UNK_ID and ids[1, 5] == tokenizers.END_ID
    assert ids[1, 6:].tolist() == [tokenizers.PAD_ID] * 6
    assert tokenizer.decode(ids[:, 1:]) == ["1979-05-03", "May[UNK]"]
    assert CharacterTokenizer.from_config(tokenizer.get_config()).vocabulary == tokenizer.vocabulary


def test_encode_cuts_at_length():
    tokenizer = CharacterTokenizer.from_texts(["abc"])
    assert tokenizer.decode(tokenizer.encode(["abcabc"], length=4)) == ["abca"]


def test_vocabulary_must_start_with_the_special_tokens():
    with pytest.raises(ValueError, match="vocabulary"):
        CharacterTokenizer(["a", "b"])


@pytest.mark.parametrize("words, text", [
    (["I", "don", "'", "t", "know", ",", "Tom", "."], "I don't know, Tom."),
    (["Where", "'", "s", "the", "students", "'", "room", "?"], "Where's the students' room?"),
    (["It", "costs", "$", "3", ".", "50", "(", "plus", "tax", ")", "!"], "It costs $3.50 (plus tax)!"),
    (["He", "said", ",", '"', "Hi", '"', "."], 'He said, "Hi".'),
    (["A", "well", "-", "known", "e", "-", "mail", "at", "10", ":", "30", "."],
     "A well-known e-mail at 10:30."),
])
def test_join_english_words(words, text):
    assert join_english_words(words) == text


def test_wordpiece_keeps_case_and_detokenizes_english():
    sentences = ["I don't know, Tom.", "Tom isn't here!", "Where's Mary?", "It's 3.5 km away."] * 5
    tokenizer = WordPieceTokenizer.from_texts(sentences, vocabulary_size=200)
    assert tokenizer.vocabulary[:4] == tokenizers.SPECIAL_TOKENS
    assert "Tom" in tokenizer.vocabulary  # cased
    ids = tokenizer.encode(sentences[:4], length=16, end=True)
    assert tokenizer.decode(ids) == sentences[:4]
    restored = WordPieceTokenizer.from_config(tokenizer.get_config())
    assert np.array_equal(restored.encode(sentences[:4], length=16), tokenizer.encode(sentences[:4], length=16))
