"""zoo.tweets.data: normalisation examples and the TweetEval / SemEval loaders."""

import os

import numpy as np
import pytest

from tests.conftest import require_dataset
from zoo.tweets import data


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("@Bob LOVED it", "@user loved it"),  # mentions -> @user, lower case
        ("see https://t.co/AbC and www.x.org now", "see <url> and <url> now"),
        ("Neo-Nazi.https://t.co/4fP", "neo-nazi. <url>"),  # glued URL
        ("#Putin has #Obama", "#putin has #obama"),  # hashtags keep their #
        ("ok 😂", "ok face with tears of joy"),  # emoji -> its name in words
        ("👍🏽 ❤️", "thumbs up sign heavy black heart"),  # skin tone, selector dropped
        ("🇺🇸 yes", "yes"),  # flags (regional indicators) dropped
        ("soooooo goooood!!!!", "sooo goood!!!!"),  # long letter runs cut to 3
        ("Tom &amp; Jerry &lt;3 I’m", "tom & jerry heart i'm"),  # HTML entities, quotes
        ("great :) :-)) ;) :D xD", "great smiling face smiling face winking face grinning face grinning face"),
        ("sad :( =[ :'( :/ :P", "sad frowning face frowning face crying face confused face face with tongue"),
        ("hey:) ok", "hey smiling face ok"),  # emoticons glued to a word
        ("boxD :Done 10:30) (Reuters): http://t.co/a", "boxd :done 10:30) (reuters): <url>"),  # not emoticons
        ("  a \t b  ", "a b"),
    ],
)
def test_normalize_tweet_examples(raw, expected):
    assert data.normalize_tweet(raw) == expected


def _write_split(folder, task, split, texts, labels, mapping=("0\tno", "1\tyes")):
    task_dir = os.path.join(folder, task)
    os.makedirs(task_dir, exist_ok=True)
    with open(os.path.join(task_dir, f"{split}_text.txt"), "w") as f:
        f.write("\n".join(texts) + "\n")
    with open(os.path.join(task_dir, f"{split}_labels.txt"), "w") as f:
        f.write("\n".join(str(label) for label in labels) + "\n")
    with open(os.path.join(task_dir, "mapping.txt"), "w") as f:
        f.write("\n".join(mapping) + "\n")


def test_load_tweeteval_reads_a_written_split(tmp_path):
    _write_split(tmp_path, "irony", "val", ["a tweet ", "another"], [1, 0])
    texts, labels, names = data.load_tweeteval("irony", "val", path=str(tmp_path))
    assert texts == ["a tweet", "another"]
    assert labels.tolist() == [1, 0] and labels.dtype == np.int32
    assert names == ["no", "yes"]


def test_load_tweeteval_rejects_files_of_different_lengths(tmp_path):
    _write_split(tmp_path, "irony", "test", ["one", "two", "three"], [0, 1])
    with pytest.raises(ValueError, match=r"same number of lines; received 3 texts and 2 labels"):
        data.load_tweeteval("irony", "test", path=str(tmp_path))


def test_load_tweeteval_rejects_labels_outside_the_mapping(tmp_path):
    _write_split(tmp_path, "irony", "val", ["one", "two"], [0, 2])
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        data.load_tweeteval("irony", "val", path=str(tmp_path))


def test_load_tweeteval_rejects_unknown_task_and_split(tmp_path):
    with pytest.raises(ValueError, match="`task` must be one of"):
        data.load_tweeteval("sarcasm", "val", path=str(tmp_path))
    with pytest.raises(ValueError, match="`split` must be one of"):
        data.load_tweeteval("irony", "dev", path=str(tmp_path))


def test_real_tweeteval_sentiment_splits():
    require_dataset("tweeteval")
    texts, labels, names = data.load_tweeteval("sentiment", "test")
    assert names == ["negative", "neutral", "positive"]
    assert len(texts) == len(labels) == 12284
    assert np.bincount(labels).tolist() == [3972, 5937, 2375]  # data README
    with pytest.raises(FileNotFoundError, match="load_semeval_train"):
        data.load_tweeteval("sentiment", "train")


def test_load_semeval_train():
    require_dataset("semeval2017-4a")
    require_dataset("tweeteval")
    texts, labels, names = data.load_semeval_train()
    assert len(texts) == 47466
    assert np.bincount(labels).tolist() == [7400, 21277, 18789]  # SOURCE.md
    assert names == ["negative", "neutral", "positive"]


def test_load_semeval_train_rejects_a_malformed_line(tmp_path):
    require_dataset("tweeteval", "sentiment/mapping.txt")
    path = tmp_path / "train.tsv"
    path.write_text("2\tgood\nno label here\n")
    with pytest.raises(ValueError, match="line 2: expected `label<TAB>text`"):
        data.load_semeval_train(str(path))
