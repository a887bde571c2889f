"""TweetEval sentiment: mean pooling vs attention pooling, beside TF-IDF +
logistic regression measured in the same run and the TweetEval paper's
published baselines. (The next rungs, `tweets-sentiment-encoder` and
`tweets-sentiment-bert`, are recipes too slow to train on this CPU.)

    python -m bench tweets            # about 10 min on an idle 2-core CPU
    python -m bench tweets --quick    # a few hundred tweets, to check it runs

Every rung is trained by the zoo recipe of the same name (`zoo.training.train`,
what `python -m zoo train NAME` runs): SemEval-2017 4A train.tsv, epoch chosen
on TweetEval sentiment val by macro-averaged recall, scored on TweetEval
sentiment test (12,284 tweets). The attention rung is written to
`zoo/presets/tweets-sentiment`, and a figure of its pooling weights to
`docs/images/tweet_highlights.png`.
"""

import os
import tempfile
import time

from bench import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET_DIR = os.path.join(ROOT, "zoo", "presets", "tweets-sentiment")
FIGURE = os.path.join(ROOT, "docs", "images", "tweet_highlights.png")
RUNGS = [
    ("mean pooling", "tweets-sentiment-mean"),
    ("attention pooling", "tweets-sentiment"),
]
PUBLISHED = [  # TweetEval paper (Barbieri et al., 2020), sentiment test macro recall
    ("FastText (published)", 0.629),
    ("LSTM (published)", 0.583),
    ("RoBERTa-base (published)", 0.713),
    ("RoBERTa-retrained (published)", 0.726),
]
EXAMPLE_TWEETS = [
    "@user I absolutely love this new album, best thing all year! 😍",
    "Worst customer service ever. Never flying with them again #fail",
    "The meeting has been moved to Thursday at 3pm http://t.co/abc",
    "not bad at all, but the ending was a bit disappointing",
]


def tfidf_logistic_regression(quick):
    """The ANCHORS peer: TF-IDF word 1-2 + char 2-5 grams, logistic regression."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from zoo import recipes
    from zoo.tweets.recipes import load_task, macro_recall_and_accuracy

    splits = load_task("sentiment", recipes.Options(quick=quick))
    start = time.perf_counter()
    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    train_texts, train_labels, _ = splits["train"]
    x_train = hstack([words.fit_transform(train_texts), characters.fit_transform(train_texts)]).tocsr()
    classifier = LogisticRegression(max_iter=1000, C=1.0)
    classifier.fit(x_train, train_labels)
    test_texts, test_labels, _ = splits["test"]
    x_test = hstack([words.transform(test_texts), characters.transform(test_texts)]).tocsr()
    metrics = macro_recall_and_accuracy(test_labels, classifier.predict_proba(x_test))
    return metrics, time.perf_counter() - start


def save_highlight_figure(model, texts, path):
    """A PNG of each tweet's tokens on a background as dark as its pooling weight."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    explained = model.explain(texts)
    labels = model.classify(texts)
    figure, ax = plt.subplots(figsize=(11, 0.75 * len(texts) + 0.4))
    ax.set_axis_off()
    renderer = figure.canvas.get_renderer()
    for row, ((tokens, weights), label) in enumerate(zip(explained, labels)):
        y = 1.0 - (row + 0.5) / len(texts)
        x = 0.01
        text = ax.text(x, y, f"{label}:", fontsize=10, weight="bold", va="center", transform=ax.transAxes)
        x += text.get_window_extent(renderer).width / ax.get_window_extent(renderer).width + 0.01
        largest = max(float(weights.max()), 1e-9)
        for token, weight in zip(tokens, weights):
            text = ax.text(
                x, y, token, fontsize=10, va="center", transform=ax.transAxes,
                bbox={"facecolor": (0.90, 0.38, 0.0, float(weight) / largest),
                      "edgecolor": "none", "pad": 1.5},
            )
            x += text.get_window_extent(renderer).width / ax.get_window_extent(renderer).width + 0.006
    ax.set_title("Attention-pooling weights of the tweets-sentiment preset (darker = more weight)", fontsize=10)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)


def run(quick=False):
    import concurrent.futures

    from zoo import recipes, training

    # The peer runs in a second process while the rungs train.
    with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
        peer = pool.submit(tfidf_logistic_regression, quick)
        results, rows = {}, []
        with tempfile.TemporaryDirectory() as scratch:
            for title, recipe in RUNGS:
                output = PRESET_DIR if (recipe == "tweets-sentiment" and not quick) else os.path.join(scratch, recipe)
                start = time.perf_counter()
                result = training.train(
                    recipe,
                    recipes.Options(seed=0, quick=quick),
                    output=output,
                    workdir=os.path.join(scratch, recipe + "-training"),
                    command=f"python -m zoo train {recipe}" + (" --quick" if quick else ""),
                    verbose=0,
                )
                seconds = time.perf_counter() - start
                results[recipe] = result
                epochs = len(result.history.history["loss"])
                rows.append([f"{title} (`{recipe}`)", result.metrics["macro_recall"],
                             result.metrics["accuracy"], f"{result.metrics['val_macro_recall']:.3f}",
                             f"{result.model.count_params():,} / {epochs}", f"{seconds / 60:.1f}"])
            if not quick:
                save_highlight_figure(results["tweets-sentiment"].model, EXAMPLE_TWEETS, FIGURE)
        peer_metrics, peer_seconds = peer.result()
    rows.insert(0, ["TF-IDF word 1-2 + char 2-5 grams, logistic regression (scikit-learn, this run)",
                    peer_metrics["macro_recall"], peer_metrics["accuracy"], "", "", f"{peer_seconds / 60:.1f}"])
    for name, recall in PUBLISHED:
        rows.append([name, recall, "", "", "", ""])
    rows.append(["Keras TextVectorization -> Embedding 128 -> mean pooling (ANCHORS, idle machine)",
                 0.600, 0.576, "", "", "0.6"])

    mean = results["tweets-sentiment-mean"].metrics["macro_recall"]
    attention = results["tweets-sentiment"].metrics["macro_recall"]
    peer_recall = peer_metrics["macro_recall"]
    header = ["model", "test macro recall", "test accuracy", "val macro recall", "params / epochs", "wall min"]
    lines = [
        "## Tweet sentiment: attention pooling vs mean pooling (TweetEval sentiment test)",
        "",
        "Train: SemEval-2017 4A `train.tsv` (47,466 tweets; TweetEval's own train texts are not "
        "available). Test: TweetEval sentiment test, 12,284 tweets. Macro-averaged recall is the "
        "benchmark's official metric. Both rungs share the WordPiece vocabulary (8k), width 128, "
        "dropout 0.3, class-balanced loss weights, Adam 5e-3, batch 256, at most 4 epochs, keeping "
        "the epoch with the best val macro recall. One seed (0) each. The first rung's wall time "
        "includes learning the vocabulary; the peer ran in a parallel process, and the CPU was "
        "shared with other jobs (see the load average), so times are indicative only.",
        "",
        common.table(header, rows),
        "",
        f"Attention pooling vs mean pooling, everything else equal: {attention:.3f} vs {mean:.3f} "
        f"({attention - mean:+.3f}). Attention pooling vs TF-IDF + logistic regression measured in "
        f"this run: {attention:.3f} vs {peer_recall:.3f} ({attention - peer_recall:+.3f}).",
        "",
        "Not in this table: the encoder rung (`python -m zoo train tweets-sentiment-encoder`, one "
        "transformer block before the pooling) and fine-tuned MiniLM (`tweets-sentiment-bert`) "
        "are recipes, tested at --quick sizes, but were not trained on the full data here: on the "
        "shared 2-core CPU one epoch of either takes far longer than this benchmark's budget.",
    ]
    if not quick:
        lines += ["", "![pooling weights](docs/images/tweet_highlights.png)"]
    return "\n".join(lines)
