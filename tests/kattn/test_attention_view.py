"""kattn.viz.attention_view: the page holds the layer's own weights, and bad input is refused."""

import json
import re

import keras
import numpy as np
import pytest

import kattn
from kattn import viz

DATA = re.compile(r'<script type="application/json" id="kattn-attention-data">(.*?)</script>', re.S)


def embedded_data(page_html):
    """The numbers a viewer page carries, read back from its HTML."""
    return json.loads(DATA.search(page_html).group(1))


def test_page_holds_the_weights_multi_head_attention_returns():
    layer = kattn.layers.MultiHeadAttention(num_heads=3, key_dim=4)
    x = np.random.default_rng(0).normal(size=(1, 5, 8)).astype("float32")
    _, scores = layer(x, x, return_attention_scores=True)  # (1, 3, 5, 5)
    tokens = ["the", "cat", "sat", "</script>", "mat"]
    view = viz.attention_view([scores, scores * 0.5], tokens, title="two <layers>")

    page = view.html
    assert page.startswith("<!DOCTYPE html>")
    assert "two &lt;layers&gt;" in page and "two <layers>" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing to fetch
    assert "<script src" not in page and "<link" not in page
    data = embedded_data(page)
    (kind,) = data["kinds"]
    assert kind["query_tokens"] == tokens == kind["key_tokens"]  # "</script>" survives, escaped
    expected = keras.ops.convert_to_numpy(scores)[0]
    np.testing.assert_allclose(kind["layers"][0], expected, atol=1e-6)
    np.testing.assert_allclose(kind["layers"][1], expected * 0.5, atol=1e-6)
    np.testing.assert_allclose(np.sum(kind["layers"][0], axis=-1), 1.0, atol=1e-6)


def test_cross_attention_kinds_take_their_own_tokens(tmp_path):
    encoder = np.full((2, 3, 3), 1 / 3)                      # (heads, S, S)
    cross = np.full((1, 2, 2, 3), 1 / 3)                     # (1, heads, T, S)
    view = viz.attention_view(
        {"encoder": [encoder], "cross": [cross, cross]},
        query_tokens={"encoder": list("abc"), "cross": ["x", "y"]},
        key_tokens={"cross": list("abc")},
    )
    kinds = {k["name"]: k for k in view.data["kinds"]}
    assert kinds["encoder"]["key_tokens"] == list("abc")
    assert kinds["cross"]["query_tokens"] == ["x", "y"] and len(kinds["cross"]["layers"]) == 2
    path = view.save(str(tmp_path / "view.html"))
    assert embedded_data(open(path, encoding="utf-8").read()) == view.data
    notebook = view._repr_html_()
    assert notebook.startswith("<iframe srcdoc=") and "&lt;!DOCTYPE html&gt;" in notebook


def test_image_is_embedded_as_pixels_on_its_patch_grid():
    image = np.arange(16, dtype="float32").reshape(4, 4) / 15.0  # values 0..1
    weights = np.full((1, 5, 5), 0.2)                            # [CLS] + 2x2 patches
    view = viz.attention_view(weights, ["[CLS]", "p0", "p1", "p2", "p3"], image=(image, (2, 2)))
    picture = view.data["image"]
    assert picture["grid"] == [2, 2] and picture["channels"] == 1
    assert picture["pixels"][0] == 0 and picture["pixels"][-1] == 255


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scores=np.ones((2, 3)), query_tokens=["a", "b", "c"]), r"`scores` has 2 queries and 3 keys.*3 query tokens"),
        (dict(scores=np.ones((2, 1, 3, 3)), query_tokens=list("abc")), r"one example.*\(2, 1, 3, 3\)"),
        (dict(scores=np.ones((1, 1, 1, 3, 3)), query_tokens=list("abc")), r"`scores` must have shape"),
        (dict(scores={}, query_tokens=[]), "at least one kind"),
        (dict(scores={"self": [np.ones((3, 3))]}, query_tokens={"other": list("abc")}), "`query_tokens` must give the tokens of 'self'"),
        (dict(scores=np.ones((3, 3)), query_tokens=list("abc"), image=np.ones((4, 4))), r"`image` must be a pair"),
        (dict(scores=np.ones((3, 3)), query_tokens=list("abc"), image=(np.ones((4, 4)), (2, 2))), r"2 x 2 patches.*only 3 key tokens"),
    ],
)
def test_bad_input_is_a_clear_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        viz.attention_view(**kwargs)
