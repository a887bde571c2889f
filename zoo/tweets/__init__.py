"""Tweet classification with attention pooling (TweetEval / SemEval-2017).

>>> from zoo.tweets import AttentionPoolingClassifier, TweetTokenizer, load_tweeteval
>>> texts, labels, names = load_tweeteval("irony", "val")
>>> len(texts), names
(955, ['non_irony', 'irony'])
"""

from zoo.tweets.data import load_semeval_train, load_tweeteval, normalize_tweet
from zoo.tweets.metrics import MacroRecall
from zoo.tweets.model import AttentionPoolingClassifier
from zoo.tweets.tokenizer import TweetTokenizer

__all__ = [
    "AttentionPoolingClassifier",
    "MacroRecall",
    "TweetTokenizer",
    "load_semeval_train",
    "load_tweeteval",
    "normalize_tweet",
]
