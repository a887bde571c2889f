"""TweetEval sentiment, the last rung of the ladder: MiniLM fine-tuned in full.

    python -m bench tweets_bert           # about 40 min on an idle 2-core CPU
    python -m bench tweets_bert --quick   # a tiny subset, to check it runs

Runs the recipe `tweets-sentiment-bert` exactly as `python -m zoo train
tweets-sentiment-bert` does (`zoo.training.train`): the `all-MiniLM-L6-v2`
checkpoint read by `zoo.bert.load_hf_checkpoint`, mean pooling, every tweet of
SemEval-2017 4A `train.tsv` seen once per epoch, the epoch kept by TweetEval
sentiment val macro recall, then scored on all 12,284 TweetEval sentiment test
tweets. The trained model is written to `runs/tweets-sentiment-bert` (about
90 MB, not shipped). `python -m bench bert` measures a short step budget of
the same fine-tuning; this is the full recipe. `python -m bench
tweets_bert --variant adapted` runs `tweets-sentiment-bert-adapted` (MiniLM adapted to
tweets by masked LM first) with `--variant adapted`.
"""

import os
import tempfile
import time

from bench import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = [  # test macro recall: ../shared/ANCHORS.md and the TweetEval paper
    ("TF-IDF + logistic regression (ANCHORS, this machine)", 0.635),
    ("RoBERTa-base (TweetEval paper, published)", 0.713),
    ("RoBERTa-retrained (TweetEval paper, published)", 0.726),
]


VARIANTS = {"adapted": dict(adapted=True)}


def run(quick=False, adapted=False):
    """Train the recipe in full (`zoo.training.train`) and describe the result in Markdown.

    `adapted`: run `tweets-sentiment-bert-adapted`, which adapts MiniLM by
    masked LM before the same fine-tuning.
    """
    from zoo import recipes
    from zoo import training
    from zoo.tweets.recipes import MINILM

    recipe = "tweets-sentiment-bert-adapted" if adapted else "tweets-sentiment-bert"
    command = "python -m bench tweets_bert" + (" --variant adapted" if adapted else "")
    output = tempfile.mkdtemp() if quick else os.path.join(ROOT, "runs", recipe)
    started = time.perf_counter()
    result = training.train(
        recipe, recipes.Options(quick=quick), output=output,
        workdir=tempfile.mkdtemp(), command=command, verbose=2,
    )
    minutes = (time.perf_counter() - started) / 60
    load_at_end = os.getloadavg()[0]
    metrics = result.metrics
    history = result.history.history
    val_by_epoch = history.get("val_macro_recall", [])
    best = 1 + max(range(len(val_by_epoch)), key=val_by_epoch.__getitem__) if val_by_epoch else 1
    rows = [[
        f"MiniLM-L6 {'adapted, then ' if adapted else ''}fine-tuned (`{recipe}`)",
        f"**{metrics['macro_recall']:.3f}**",
        f"{metrics['macro_f1']:.3f}", f"{metrics['accuracy']:.3f}",
        f"{metrics['val_macro_recall']:.3f}", f"{best} of {len(val_by_epoch)}", f"{minutes:.0f}",
    ]]
    rows += [[name, f"{value:.3f}", "", "", "", "", ""] for name, value in PEERS]
    table = common.table(
        ["model", "test macro recall", "test macro F1", "test accuracy", "val macro recall",
         "best epoch", "wall min"],
        rows,
    )
    settings = (
        f"AdamW {MINILM['learning_rate']:g} (weight decay 0.01), warm-up over the first "
        f"{MINILM['warmup_epochs']:g} epoch then cosine decay to 0 at epoch {MINILM['epochs']}, "
        f"batches of {MINILM['batch_size']} tweets of similar length, class-balanced loss "
        "weights, truncation at 128 WordPiece tokens"
    )
    if adapted:
        settings = (
            "First, masked-LM adaptation (`zoo.tweets.adaptation`): one pass over 74,501 "
            "unlabelled tweets (the training tweets and those of TweetEval emotion, hate, irony "
            f"and offensive train) packed into {MINILM['adapt_sequence_length']}-token examples, "
            f"15 % masked, AdamW {MINILM['adapt_learning_rate']:g}. Then fine-tuning as "
            f"`tweets-sentiment-bert`: {settings}"
        )
    title = "MiniLM adapted to tweets, then fine-tuned" if adapted else "MiniLM fine-tuned"
    return (
        f"## {title} on TweetEval sentiment, full recipe\n\n"
        f"Train: SemEval-2017 4A `train.tsv` (47,466 tweets). {settings}. The epoch is kept "
        "by TweetEval sentiment val (2,000 tweets) macro recall; test: TweetEval sentiment "
        f"test, 12,284 tweets, macro-averaged recall (the official metric). Wall time includes "
        "loading the checkpoint, tokenizing and scoring; the load average was "
        f"{load_at_end:.1f} at the end (the header gives it at the start).\n\n{table}\n"
    )
