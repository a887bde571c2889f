"""zoo.tweets.tokenizer.TweetTokenizer: WordPiece ids for raw tweets."""

import numpy as np
import pytest

from zoo import wordpiece
from zoo.tweets.tokenizer import RESERVED_TOKENS, TweetTokenizer

TEXTS = [
    "I love this phone @apple http://t.co/x",
    "I hate this phone so much #fail",
    "what a day 😂 lol",
] * 10


@pytest.fixture(scope="module")
def tokenizer():
    return TweetTokenizer.train(TEXTS, vocabulary_size=100, sequence_length=8)


def test_vocabulary_starts_with_the_reserved_tokens(tokenizer):
    assert tokenizer.vocabulary[:4] == RESERVED_TOKENS == ["[PAD]", "[UNK]", "@user", "<url>"]
    assert tokenizer.vocabulary_size <= 100


def test_frequent_words_the_learner_left_out_fill_the_vocabulary():
    # Words seen 2 to 9 times: keras_hub's learner keeps none of them whole.
    texts = [f"word{i} common" for i in range(300) for _ in range(2 + i % 8)]
    learned = TweetTokenizer.train(texts, vocabulary_size=250, sequence_length=4)
    assert learned.vocabulary_size == 250
    assert len(set(learned.vocabulary)) == 250
    assert learned.tokens(["word7 common"]) == [["word7", "common"]]  # seen 9 times: whole
    if wordpiece.use_tensorflow_text():  # keras_hub's learner; the `tokenizers` one keeps them
        rare = [f"word{i}" for i in range(300) if i % 8 == 0]  # seen twice each
        assert not set(rare) & set(learned.vocabulary[:200])


def test_placeholders_hashtags_and_emoji_are_tokens(tokenizer):
    longer = TweetTokenizer(tokenizer.vocabulary, sequence_length=16)  # no cut at 8
    tokens = longer.tokens(["i love this @someone http://x.co #fail 😂"])[0]
    assert tokens == ["i", "love", "this", "@user", "<url>", "#", "fail",
                      "face", "with", "tears", "of", "joy"]


def test_ids_are_padded_with_zero_and_cut_to_sequence_length(tokenizer):
    ids = tokenizer(["i love", "i love this phone so much what a day lol"])
    assert ids.shape == (2, 8) and ids.dtype == np.int32
    assert ids[0, 2:].tolist() == [0] * 6 and (ids[0, :2] > 0).all()
    assert (ids[1] > 0).all()  # 10 tokens cut to 8
    assert [tokenizer.vocabulary[i] for i in ids[0, :2]] == ["i", "love"]


def test_unknown_words_fall_back_to_pieces_or_unk(tokenizer):
    ids = tokenizer(["zzzq"])[0]
    assert ids[0] != 0  # something, never padding


def test_assets_round_trip(tokenizer, tmp_path):
    tokenizer.save_assets(str(tmp_path))
    restored = TweetTokenizer(**tokenizer.get_config())
    restored.load_assets(str(tmp_path))
    assert restored.vocabulary == tokenizer.vocabulary
    np.testing.assert_array_equal(restored(TEXTS[:3]), tokenizer(TEXTS[:3]))


def test_clear_errors():
    empty = TweetTokenizer(sequence_length=8)
    with pytest.raises(ValueError, match="no vocabulary"):
        empty(["a tweet"])
    with pytest.raises(ValueError, match="`vocabulary` must start with"):
        TweetTokenizer(["a", "b"])
    with pytest.raises(FileNotFoundError, match="vocabulary.txt"):
        empty.load_assets("/nonexistent-folder")


def test_a_single_string_is_rejected(tokenizer):
    with pytest.raises(ValueError, match="`texts` must be a list of strings"):
        tokenizer("one tweet")
