"""zoo.tweets.metrics.MacroRecall against scikit-learn."""

import numpy as np
from sklearn.metrics import recall_score

from tests.conftest import to_numpy
from zoo.tweets.metrics import MacroRecall
from zoo.tweets.recipes import balanced_sample_weights


def test_macro_recall_matches_scikit_learn_over_several_batches():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=200)
    scores = rng.random((200, 3)).astype("float32")
    metric = MacroRecall(num_classes=3)
    for start in range(0, 200, 64):  # streaming, as during fit
        metric.update_state(labels[start : start + 64], scores[start : start + 64])
    expected = recall_score(labels, scores.argmax(-1), average="macro")
    np.testing.assert_allclose(float(to_numpy(metric.result())), expected, rtol=1e-6)
    metric.reset_state()
    assert float(to_numpy(metric.result())) == 0.0


def test_macro_recall_skips_classes_absent_from_the_labels():
    metric = MacroRecall(num_classes=4)
    metric.update_state(np.array([0, 1, 1]), np.eye(4)[[0, 1, 0]])
    expected = recall_score([0, 1, 1], [0, 1, 0], labels=[0, 1], average="macro")  # 0.75
    np.testing.assert_allclose(float(to_numpy(metric.result())), expected)


def test_balanced_sample_weights_give_every_class_the_same_total():
    labels = np.array([0] * 6 + [1] * 3 + [2] * 1)
    weights = balanced_sample_weights(labels, 3)
    totals = [weights[labels == c].sum() for c in range(3)]
    np.testing.assert_allclose(totals, [10 / 3] * 3, rtol=1e-6)
