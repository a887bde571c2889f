"""TweetEval sentiment: the from-scratch ladder (mean pooling, attention
pooling, one encoder block + attention pooling) beside TF-IDF + logistic
regression measured in the same run and the TweetEval paper's published
baselines.

    python -m bench tweets            # about 15 min on an idle 2-core CPU
    python -m bench tweets --quick    # a few hundred tweets, to check it runs

Every rung is trained by the zoo recipe of the same name (`zoo.training.train`,
what `python -m zoo train NAME` runs): SemEval-2017 4A train.tsv, epoch chosen
on TweetEval sentiment val by macro-averaged recall, scored on TweetEval
sentiment test (12,284 tweets). Everything runs one after the other in this
process, so the wall times are comparable. The attention rung is written to
`zoo/presets/tweets-sentiment`, and a figure of its pooling weights to
`docs/images/tweet_highlights.png`. The fine-tuned MiniLM rung is measured by
`python -m bench tweets_bert` (and a short step budget by `python -m bench bert`);
this section only points to them. Each rung is trained again with seeds 1
and 2 (`SEEDS`), so that the differences between rungs can be read against
the spread between seeds.
"""

import os
import statistics
import tempfile
import time

from bench import common

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET_DIR = os.path.join(ROOT, "zoo", "presets", "tweets-sentiment")
FIGURE = os.path.join(ROOT, "docs", "images", "tweet_highlights.png")
SEEDS = (0, 1, 2)  # seed 0 is the main table's run (and the shipped preset)
RUNGS = [
    ("mean pooling", "tweets-sentiment-mean"),
    ("attention pooling", "tweets-sentiment"),
    ("1 encoder block + attention pooling", "tweets-sentiment-encoder"),
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
    """The ANCHORS peer: TF-IDF word 1-2 + char 2-5 grams, logistic regression.

    Fitted twice on the same features: as in ANCHORS (every tweet weighs the
    same) and with class-balanced weights, as our rungs' loss. Returns a list
    of `(title, metrics, seconds)`; metrics hold test and val figures.
    """
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

    def features(split):
        texts, labels, _ = splits[split]
        return hstack([words.transform(texts), characters.transform(texts)]).tocsr(), labels

    (x_test, test_labels), (x_val, val_labels) = features("test"), features("val")
    featurising = time.perf_counter() - start
    results = []
    for title, class_weight in [("", None), (", class-balanced", "balanced")]:
        start = time.perf_counter()
        classifier = LogisticRegression(max_iter=1000, C=1.0, class_weight=class_weight)
        classifier.fit(x_train, train_labels)
        metrics = macro_recall_and_accuracy(test_labels, classifier.predict_proba(x_test))
        val = macro_recall_and_accuracy(val_labels, classifier.predict_proba(x_val))
        metrics["val_macro_recall"] = val["macro_recall"]
        results.append((title, metrics, featurising + time.perf_counter() - start))
    return results


def minilm_note():
    """Where the fine-tuned MiniLM rung is measured; never a number of its own."""
    return ("Fine-tuned MiniLM, the next rung, is measured by `python -m bench tweets_bert` "
            "(the full recipe `tweets-sentiment-bert`, section \"MiniLM fine-tuned on TweetEval "
            "sentiment, full recipe\") and, for a short budget in training steps, by "
            "`python -m bench bert`; both score the same 12,284 test tweets. "
            "`python -m bench tweets_bert --variant adapted` runs the same fine-tuning after masked-LM "
            "adaptation of MiniLM to 74,501 tweets (`tweets-sentiment-bert-adapted`).")


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


def train_rung(recipe, quick, output, scratch, seed=0):
    """Train one rung with its recipe's settings; returns (result, wall seconds)."""
    from zoo import recipes, training

    start = time.perf_counter()
    result = training.train(
        recipe,
        recipes.Options(seed=seed, quick=quick),
        output=output,
        workdir=os.path.join(scratch, f"{recipe}-seed{seed}-training"),
        command=f"python -m zoo train {recipe}" + (" --quick" if quick else ""),
        verbose=0,
    )
    return result, time.perf_counter() - start


def rung_row(title, recipe, result, seconds):
    history = result.history.history
    trained = len(history["loss"])
    best = max(range(trained), key=lambda e: history["val_macro_recall"][e]) + 1
    return [f"{title} (`{recipe}`)", result.metrics["macro_recall"], result.metrics["accuracy"],
            f"{result.metrics['val_macro_recall']:.3f}", f"{result.model.count_params():,}",
            f"{best} of {trained}", f"{seconds / 60:.1f}"]


def run(quick=False):
    from zoo import recipes
    from zoo.tweets import recipes as tweet_recipes

    results, rows = {}, []
    for title, metrics, seconds in tfidf_logistic_regression(quick):
        rows.append([f"TF-IDF word 1-2 + char 2-5 grams, logistic regression{title} (scikit-learn, this run)",
                     metrics["macro_recall"], metrics["accuracy"], f"{metrics['val_macro_recall']:.3f}",
                     "", "", f"{seconds / 60:.1f}"])
        results["peer" + title] = metrics
    with tempfile.TemporaryDirectory() as scratch:
        for title, recipe in RUNGS:
            output = PRESET_DIR if (recipe == "tweets-sentiment" and not quick) else os.path.join(scratch, recipe)
            result, seconds = train_rung(recipe, quick, output, scratch)
            results[recipe] = result.metrics
            rows.append(rung_row(title, recipe, result, seconds))
            if recipe == "tweets-sentiment" and not quick:
                save_highlight_figure(result.model, EXAMPLE_TWEETS, FIGURE)
        by_seed = {recipe: [results[recipe]["macro_recall"]] for _, recipe in RUNGS}
        for seed in SEEDS[1:]:
            for _, recipe in RUNGS:
                result, _ = train_rung(recipe, quick, os.path.join(scratch, f"{recipe}-{seed}"), scratch, seed)
                by_seed[recipe].append(result.metrics["macro_recall"])
                print(recipe, seed, by_seed[recipe][-1], flush=True)
    for name, recall in PUBLISHED:
        rows.append([name, recall, "", "", "", "", ""])
    rows.append(["TF-IDF + logistic regression (ANCHORS, idle machine)", 0.635, 0.618, "", "", "", "1.5"])
    rows.append(["Keras TextVectorization -> Embedding 128 -> mean pooling (ANCHORS, idle machine)",
                 0.600, 0.576, "", "", "", "0.6"])

    seed_rows = [
        [f"{title} (`{recipe}`)"] + [f"{v:.3f}" for v in by_seed[recipe]]
        + [f"{statistics.mean(by_seed[recipe]):.3f} ± {statistics.stdev(by_seed[recipe]):.3f}"]
        for title, recipe in RUNGS
    ]
    mean, attention, encoder = (
        statistics.mean(by_seed[recipe]) for recipe in
        ("tweets-sentiment-mean", "tweets-sentiment", "tweets-sentiment-encoder")
    )
    peer = max(results["peer"]["macro_recall"], results["peer, class-balanced"]["macro_recall"])
    options = recipes.Options(seed=0, quick=quick)
    model, train = tweet_recipes.settings_for("attention", options)
    encoder_model, _ = tweet_recipes.settings_for("encoder", options)
    header = ["model", "test macro recall", "test accuracy", "val macro recall", "params",
              "best epoch", "wall min"]
    lines = [
        "## Tweet sentiment: mean pooling, attention pooling, encoder + attention pooling (TweetEval sentiment test)",
        "",
        "Train: SemEval-2017 4A `train.tsv` (47,466 tweets; TweetEval's own train texts are not "
        "available). Val (epoch selection): TweetEval sentiment val, 2,000 tweets. Test: TweetEval "
        "sentiment test, 12,284 tweets. Macro-averaged recall is the benchmark's official metric. "
        f"Every rung shares the tweet normalisation (mentions, URLs, emoji and emoticons as words), "
        f"the WordPiece vocabulary ({train['vocabulary_size']:,} learned on train), width "
        f"{model['embedding_dim']}, dropout {model['dropout']}, token dropout "
        f"{model['token_dropout']}, class-balanced loss weights, batches of {train['batch_size']} "
        f"tweets of similar length padded to a multiple of 8, Adam with a "
        f"{train['warmup_epochs']}-epoch warm-up to {train['learning_rate']:g} and cosine decay over "
        f"at most {train['epochs']} epochs, early stopping after {train['patience']} epochs without "
        "progress in val macro recall, keeping the best epoch. The encoder rung adds sinusoidal "
        f"positions and one post-norm transformer block ({encoder_model['num_heads']} heads, FFN "
        f"{encoder_model['intermediate_dim']}) before the pooling. Seed 0 in this table (its "
        "attention rung is the shipped preset); everything run one after the other in one process; "
        "the first rung's wall time includes learning the vocabulary, the peers' the TF-IDF features.",
        "",
        common.table(header, rows),
        "",
        f"Every rung trained with seeds {', '.join(map(str, SEEDS))} (test macro recall; the "
        "seed sets the initial weights, dropout and batch order):",
        "",
        common.table(["model"] + [f"seed {seed}" for seed in SEEDS] + ["mean ± sd"], seed_rows),
        "",
        "Means over the seeds. "
        f"Attention pooling vs mean pooling, everything else equal: {attention:.3f} vs {mean:.3f} "
        f"({attention - mean:+.3f}). One encoder block before the attention pooling: {encoder:.3f} "
        f"({encoder - attention:+.3f} over attention pooling alone). Best from-scratch rung vs the "
        f"better TF-IDF + logistic regression of this run: {max(attention, encoder):.3f} vs "
        f"{peer:.3f} ({max(attention, encoder) - peer:+.3f}).",
        "",
        minilm_note(),
    ]
    if not quick:
        lines += ["", "![pooling weights](docs/images/tweet_highlights.png)"]
    return "\n".join(lines)

