"""TweetEval sentiment: MiniLM adapted to tweets by masked LM, then fine-tuned.

    python -m bench tweets_bert_adapted           # about 90 min on an idle 2-core CPU
    python -m bench tweets_bert_adapted --quick   # a tiny subset, to check it runs

The recipe `tweets-sentiment-bert-adapted`, run as `python -m bench
tweets_bert` runs `tweets-sentiment-bert` (`bench.tweets_bert.run_recipe`):
the same fine-tuning, after one pass of masked-LM training on 74,501 tweets
(`zoo.tweets.adaptation`). Compare its test macro recall with the
`tweets_bert` section. The model goes to `runs/tweets-sentiment-bert-adapted`.
"""

from bench.tweets_bert import run_recipe


def run(quick=False):
    return run_recipe("tweets-sentiment-bert-adapted", "tweets_bert_adapted", adapted=True, quick=quick)
