"""kattn.viz: rollout against a hand-computed example, escaping, figure contents."""

import math

import numpy as np
import pytest

from tests.conftest import require_module

matplotlib = require_module("matplotlib", "kattn.viz draws with matplotlib")
matplotlib.use("Agg")

from kattn import viz  # noqa: E402

# ----------------------------------------------------------------------------
# attention_rollout
# ----------------------------------------------------------------------------


def test_rollout_matches_hand_computed_two_layer_example():
    # Layer 1: two heads, identity and swap -> head mean [[.5, .5], [.5, .5]];
    # + I and renormalised: A1 = [[.75, .25], [.25, .75]].
    layer1 = np.array([[[[1, 0], [0, 1]], [[0, 1], [1, 0]]]], dtype="float32")
    # Layer 2: both heads look at token 0 -> mean [[1, 0], [1, 0]];
    # + I = [[2, 0], [1, 1]], renormalised: A2 = [[1, 0], [.5, .5]].
    layer2 = np.array([[[[1, 0], [1, 0]], [[1, 0], [1, 0]]]], dtype="float32")
    # Rollout = A2 @ A1 = [[.75, .25], [.5, .5]] (later layers on the left).
    rollout = viz.attention_rollout([layer1, layer2])
    assert rollout.shape == (1, 2, 2)
    np.testing.assert_allclose(rollout[0], [[0.75, 0.25], [0.5, 0.5]], atol=1e-7)


def test_rollout_rows_sum_to_one_and_batch_is_independent():
    rng = np.random.default_rng(0)
    scores = [rng.dirichlet(np.ones(5), size=(3, 4, 5)) for _ in range(3)]  # (B, H, T, T)
    rollout = viz.attention_rollout(scores)
    assert rollout.shape == (3, 5, 5)
    np.testing.assert_allclose(rollout.sum(-1), 1.0, atol=1e-6)
    alone = viz.attention_rollout([s[1:2] for s in scores])
    np.testing.assert_allclose(rollout[1:2], alone, atol=1e-7)


@pytest.mark.parametrize(
    "scores, message",
    [
        ([], "non-empty"),
        ([np.ones((1, 3, 3))], r"scores_per_layer\[0\].*\(1, 3, 3\)"),
        ([np.ones((1, 1, 3, 3)), np.ones((1, 1, 4, 4))], r"scores_per_layer\[1\].*T = 3"),
    ],
)
def test_rollout_rejects_bad_input(scores, message):
    with pytest.raises(ValueError, match=message):
        viz.attention_rollout(scores)


# ----------------------------------------------------------------------------
# highlight_tokens
# ----------------------------------------------------------------------------


def test_highlight_escapes_tokens_and_shades_by_weight():
    tokens = ["<script>", "a&b", '"q"', "fine"]
    out = viz.highlight_tokens(tokens, np.array([0.4, 0.2, 0.0, 0.8]))
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "a&amp;b" in out and "&quot;q&quot;" in out
    # Shade = weight / largest weight: 0.5, 0.25, 0, 1.
    shades = [float(s.split(")")[0]) for s in out.split("rgba(230, 97, 1, ")[1:]]
    assert shades == [0.5, 0.25, 0.0, 1.0]
    assert out.count("<span") == 4 and 'title="0.800"' in out


def test_highlight_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="`tokens` and `weights`.*2 tokens and 3"):
        viz.highlight_tokens(["a", "b"], [0.1, 0.2, 0.7])


# ----------------------------------------------------------------------------
# plot_attention / plot_positional_encoding
# ----------------------------------------------------------------------------


def test_plot_attention_draws_the_weights_with_labels(tmp_path):
    weights = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    fig = viz.plot_attention(weights[None], x_labels=["a", "b", "c"], y_labels=["x", "y"])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]
    assert ax.get_ylabel() == "outputs (queries)"
    path = tmp_path / "alignment.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_attention_draws_into_a_given_axes():
    figure = matplotlib.figure.Figure()
    left, right = figure.subplots(1, 2)
    returned = viz.plot_attention(np.eye(2), ax=right)
    assert returned is figure
    assert len(right.get_images()) == 1 and len(left.get_images()) == 0


@pytest.mark.parametrize(
    "weights, kwargs, message",
    [
        (np.ones(3), {}, r"`weights`.*\(queries, keys\).*\(3,\)"),
        (np.ones((2, 3)), {"x_labels": ["a", "b"]}, "`x_labels` must have 3"),
        (np.ones((2, 3)), {"y_labels": ["a"]}, "`y_labels` must have 2"),
    ],
)
def test_plot_attention_rejects_bad_input(weights, kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.plot_attention(weights, **kwargs)


def test_positional_encoding_matches_the_formula():
    length, depth = 7, 6
    expected = np.zeros((length, depth))
    for p in range(length):
        for i in range(depth // 2):
            expected[p, 2 * i] = math.sin(p / 10000 ** (2 * i / depth))
            expected[p, 2 * i + 1] = math.cos(p / 10000 ** (2 * i / depth))
    np.testing.assert_allclose(viz.positional_encoding(length, depth), expected, atol=1e-6)
    # By hand: position 1, i = 0 gives sin(1) and cos(1).
    np.testing.assert_allclose(viz.positional_encoding(2, 4)[1, :2], [0.841471, 0.540302], atol=1e-6)

    fig = viz.plot_positional_encoding(length, depth)
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), expected, atol=1e-6)
    assert fig.axes[0].get_ylabel() == "position"
