"""WikiText-2 word level: the published counts, windows, the tokenizer."""

import numpy as np
import pytest

from tests.conftest import require_dataset, require_shared_data
from zoo.gpt import WordTokenizer, data, load_wikitext2


def test_the_published_wikitext2_counts():
    folder = require_shared_data("wikitext-2/train.txt").rsplit("/", 1)[0]
    splits = load_wikitext2(folder)
    # Merity et al. 2016 / PyTorch's word_language_model: tokens with one <eos> per line.
    assert splits.tokenizer.vocabulary_size == 33278
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (2088628, 217646, 245569)
    eos = splits.tokenizer.eos_id
    assert int(np.sum(splits.test == eos)) == 4358  # one per line
    assert splits.tokenizer.decode(splits.test[1:5]) == "= Robert <unk> ="


def test_default_path_is_the_public_dataset():
    require_dataset("wikitext-2")
    splits = load_wikitext2(max_lines=20)
    assert splits.tokenizer.vocabulary[:2] == ["<eos>", "<unk>"]
    assert int(np.sum(splits.train == splits.tokenizer.eos_id)) == 20


def test_a_folder_of_its_own(tmp_path):
    (tmp_path / "train.txt").write_text(" \n the cat sat \n the dog \n")
    (tmp_path / "valid.txt").write_text(" the bird \n")
    (tmp_path / "test.txt").write_text(" cat \n")
    splits = load_wikitext2(str(tmp_path))
    t = splits.tokenizer
    assert t.decode(splits.train) == "<eos> the cat sat <eos> the dog <eos>"
    assert t.decode(splits.valid) == "the <unk> <eos>"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_wikitext2(str(tmp_path / "nowhere"))


def test_windows_shift_targets_by_one():
    x, y = data.windows(np.arange(20), 6)
    assert x.shape == y.shape == (3, 6)
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    np.testing.assert_array_equal(x.ravel(), np.arange(18))


def test_tokenizer_checks_its_vocabulary():
    with pytest.raises(ValueError, match="<unk>"):
        WordTokenizer(["<eos>", "a"])
    with pytest.raises(ValueError, match="repeat"):
        WordTokenizer(["<eos>", "<unk>", "a", "a"])
    t = WordTokenizer.from_config(WordTokenizer.from_texts(["b a"]).get_config())
    assert t.vocabulary == ["<eos>", "<unk>", "b", "a"]
