"""python -m zoo explain: the page's numbers are the model's, for every shipped kind of model."""

import json
import os
import re

import numpy as np
import pytest

import zoo
from zoo import cli, explain
from zoo.vit.data import load_digits

from tests.conftest import require_dataset

DATA = re.compile(r'<script type="application/json" id="kattn-attention-data">(.*?)</script>', re.S)


def page_data(view):
    """The numbers embedded in the page, read back from its HTML."""
    data = json.loads(DATA.search(view.html).group(1))
    return {kind["name"]: kind for kind in data["kinds"]}, data


def numpy(x):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(x))


def test_transformer_page_holds_every_blocks_return_attention_scores():
    model = zoo.load("dates-transformer")
    text = "Thursday, March 3rd, 1979"
    kinds, data = page_data(explain.attention_page(model, text))

    # The same call, block by block, with return_attention_scores=True.
    translation = model.translate([text])[0]
    assert translation == "1979-03-03" and translation in data["title"]
    source_ids = model.encode_source([text])
    target_ids = model.target_tokenizer.encode([translation], model.target_length, start=True)
    s, t = len(text), len(translation) + 1  # characters; [START] + the date
    assert kinds["encoder self-attention"]["query_tokens"] == list(text)
    assert kinds["cross-attention"]["query_tokens"] == ["[START]", *translation]
    assert kinds["cross-attention"]["key_tokens"] == list(text)
    source_mask = source_ids != 0
    x = model.source_embedding(source_ids)
    for i, block in enumerate(model.encoder_blocks):
        x, scores = block(x, padding_mask=source_mask, return_attention_scores=True)
        np.testing.assert_allclose(
            kinds["encoder self-attention"]["layers"][i], numpy(scores)[0, :, :s, :s], atol=1e-6
        )
    memory, y = x, model.target_embedding(target_ids)
    for i, block in enumerate(model.decoder_blocks):
        y, scores = block(y, memory, decoder_padding_mask=target_ids != 0,
                          encoder_padding_mask=source_mask, return_attention_scores=True)
        np.testing.assert_allclose(
            kinds["decoder self-attention"]["layers"][i], numpy(scores["self"])[0, :, :t, :t], atol=1e-6
        )
        np.testing.assert_allclose(
            kinds["cross-attention"]["layers"][i], numpy(scores["cross"])[0, :, :t, :s], atol=1e-6
        )
    assert len(kinds["cross-attention"]["layers"]) == model.num_layers
    assert len(kinds["cross-attention"]["layers"][0]) == model.num_heads
    # Causal: no query looks ahead.
    decoder = np.array(kinds["decoder self-attention"]["layers"][0])
    assert np.all(np.triu(decoder, k=1) == 0)


def test_rnn_page_is_the_translate_alignment():
    model = zoo.load("dates-rnn")
    kinds, _ = page_data(explain.attention_page(model, "3 May 1979"))
    (translation,), (alignment,) = model.translate(["3 May 1979"], return_attention=True)
    (kind,) = kinds.values()
    assert kind["key_tokens"] == list("3 May 1979")
    assert "".join(kind["query_tokens"]) == translation
    np.testing.assert_allclose(kind["layers"][0][0], alignment, atol=1e-6)


def test_tweets_page_is_the_pooling_weights_of_explain():
    model = zoo.load("tweets-sentiment")
    text = "worst customer service ever"
    kinds, _ = page_data(explain.attention_page(model, text))
    ((tokens, weights),) = model.explain([text])
    pooling = kinds["attention pooling"]
    assert pooling["query_tokens"] == ["[pool]"] and pooling["key_tokens"] == tokens
    np.testing.assert_allclose(pooling["layers"][0][0][0], weights, atol=1e-6)


def test_vit_page_holds_features_attention_scores_and_the_image():
    model = zoo.load("vit-tiny-digits")
    kinds, data = page_data(explain.attention_page(model, "5"))
    _, (images, _) = load_digits()
    scores = model.features(images[5:6].astype("float32"), return_attention_scores=True)
    (kind,) = kinds.values()
    assert kind["query_tokens"][0] == "[CLS]" and len(kind["key_tokens"]) == model.num_tokens
    for page_layer, layer in zip(kind["layers"], scores["attention_scores"], strict=True):
        np.testing.assert_allclose(page_layer, numpy(layer)[0], atol=1e-6)
    assert data["image"]["pixels"] == images[5].reshape(-1).tolist()
    assert data["image"]["grid"] == list(model.grid_size)


def test_vit_reads_an_image_file(tmp_path):
    from PIL import Image

    model = zoo.load("vit-tiny-digits")
    _, (images, _) = load_digits()
    same_size, larger = str(tmp_path / "digit.png"), str(tmp_path / "large.png")
    Image.fromarray(images[3][..., 0]).save(same_size)
    Image.fromarray(images[3][..., 0]).convert("RGB").resize((32, 32), Image.NEAREST).save(larger)
    np.testing.assert_array_equal(explain.load_image(model, same_size), images[3])
    image = explain.load_image(model, larger)  # back to 8 x 8, one channel (smoothed)
    assert image.shape == (8, 8, 1)
    assert np.mean(np.abs(image.astype(int) - images[3])) < 12


def test_cli_writes_the_page_and_prints_its_path(tmp_path, capsys):
    output = str(tmp_path / "page.html")
    assert cli.main(["explain", "dates-rnn", "3 May 1979", "--output", output]) == 0
    assert capsys.readouterr().out.strip() == output
    assert os.path.getsize(output) > 5000


@pytest.mark.parametrize(
    "argv, message",
    [
        (["explain", "vit-tiny-digits", "100000"], "index must be below 360; received 100000"),
        (["explain", "vit-tiny-digits", "/no/such.png"], "no such file: /no/such.png"),
        (["explain", "classifier-first-colour", "the red cat"], "explain works on translators"),
    ],
)
def test_explain_mistakes_are_one_line_errors(argv, message, capsys, tmp_path):
    assert cli.main(argv + ["--output", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("zoo: error: ") and message in err


def test_an_index_picks_the_test_image_of_the_dataset_of_the_models_size():
    from zoo.vit import ViT, data

    require_dataset("fashion-mnist")
    fashion = ViT(image_size=28, patch_size=7, num_layers=1, num_heads=1, hidden_dim=8, mlp_dim=8,
                  num_classes=10, channels=1)
    _, (images, _), _ = data.load("fashion-mnist")
    np.testing.assert_array_equal(explain.load_image(fashion, "4"), images[4])
    odd = ViT(image_size=16, patch_size=4, num_layers=1, num_heads=1, hidden_dim=8, mlp_dim=8,
              num_classes=10, channels=1)
    with pytest.raises(ValueError, match=r"takes \(16, 16\) x 1 images.*pass an image file"):
        explain.load_image(odd, "4")
