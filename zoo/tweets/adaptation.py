"""Adapting a pretrained BERT to tweets before fine-tuning it.

MiniLM was pretrained on Wikipedia, books, Reddit and question-answer sites;
tweets write differently (mentions, hashtags, slang, emoji). Domain-adaptive
pretraining (Gururangan et al., 2020, "Don't Stop Pretraining") continues the
masked-LM task on text of the target domain, then fine-tunes as usual. The
TweetEval paper's "RoBERTa-retrained" did this with 60M tweets (0.726 vs
0.713 for RoBERTa-base on sentiment). Here the text is what we have: the
training tweets with their labels hidden, and the training tweets of the
other TweetEval tasks (`adaptation_corpus`, 74,501 tweets, none of them in
TweetEval sentiment val or test).

    tweets -> documents of 16 tweets -> BERT pretraining batches (15 % masked)
           -> BertPretrainer.fit (masked LM; next sentence weighted 0) -> backbone

The tweets of a document are unrelated, so the next-sentence task would
teach nothing: its loss weight is 0 and only the masked LM trains.

Measured (`python -m bench tweets_bert --variant adapted`, BENCHMARKS.md):
one pass over the 74,501 tweets, then the `tweets-sentiment-bert`
fine-tuning, scored 0.690 test macro recall against 0.688 without it,
within seed noise. A thousand
times fewer tweets than RoBERTa-retrained's 60M is too few to move MiniLM.

Example, a few steps on a tiny backbone:

>>> from zoo.bert import BertBackbone, BertTokenizer
>>> from zoo.tweets.adaptation import adapt_to_tweets
>>> texts = ["i love this", "what a day", "so tired today", "best show ever"] * 8
>>> tokenizer = BertTokenizer.from_corpus(texts, 50, sequence_length=16)
>>> backbone = BertBackbone(tokenizer.vocabulary_size(), num_layers=1, num_heads=2,
...                         hidden_dim=8, intermediate_dim=16, max_sequence_length=16)
>>> history = adapt_to_tweets(backbone, tokenizer, texts, steps=2, sequence_length=16,
...                           batch_size=4, verbose=0)
>>> len(history.history["mlm_loss"])
1
"""

import keras
import numpy as np

from zoo.schedules import warmup_cosine_schedule
from zoo.tweets import data

# The other TweetEval tasks whose training tweets join the adaptation text.
OTHER_TASKS = ("emotion", "hate", "irony", "offensive")
TWEETS_PER_DOCUMENT = 16


def adaptation_corpus(train_texts, seed=0):
    """`train_texts` plus the training tweets of `OTHER_TASKS`, shuffled (labels unused)."""
    texts = list(train_texts)
    for task in OTHER_TASKS:
        texts += list(data.load_tweeteval(task, "train")[0])
    order = np.random.default_rng(seed).permutation(len(texts))
    return [texts[i] for i in order]


def adapt_to_tweets(backbone, tokenizer, texts, steps=None, learning_rate=1e-4, warmup=0.06,
                    sequence_length=64, batch_size=32, seed=0, verbose="auto"):
    """Masked-LM training of `backbone` (in place) on `texts`; returns the Keras History.

    Args:
        backbone: a `zoo.bert.BertBackbone`, e.g. from `load_hf_checkpoint`.
        tokenizer: its `BertTokenizer`.
        texts: tweets (strings).
        steps: optimizer steps; None for one pass over the packed examples.
        learning_rate: AdamW's peak rate (weight decay 0.01), reached after
            a linear warm-up over the first `warmup` share of the steps, then
            cosine decay to 0.
        sequence_length: tokens per packed example (tweets are short: two or
            three fit in 64).
    """
    from zoo.bert.pretrainer import BertPretrainer
    from zoo.bert.pretraining_data import pretraining_dataset

    texts = list(texts)
    if not texts:
        raise ValueError("`texts` must hold at least one tweet; received none.")
    documents = [
        texts[i : i + TWEETS_PER_DOCUMENT] for i in range(0, len(texts), TWEETS_PER_DOCUMENT)
    ]
    batches = pretraining_dataset(
        documents, tokenizer, sequence_length=sequence_length, batch_size=batch_size, seed=seed
    )
    if steps is None:  # one pass
        if isinstance(batches, keras.utils.PyDataset):  # NumPy batches (no TensorFlow)
            steps = max(1, len(batches))
        else:
            steps = max(1, int(batches.reduce(0, lambda count, _: count + 1)))
    pretrainer = BertPretrainer(backbone)
    pretrainer.compile(
        optimizer=keras.optimizers.AdamW(
            warmup_cosine_schedule(learning_rate, steps, 1, warmup), weight_decay=0.01
        ),
        loss_weights={"mlm": 1.0, "nsp": 0.0},
    )
    # The batches come shuffled (seeded) from `pretraining_dataset`.
    return pretrainer.fit(
        batches.repeat(), steps_per_epoch=steps, epochs=1, shuffle=False, verbose=verbose
    )
