"""`python -m zoo explain PRESET INPUT`: a preset's attention as an interactive page.

    python -m zoo explain dates-transformer "Thursday, March 3rd, 1979"
    python -m zoo explain dates-rnn "3 May 1979"
    python -m zoo explain tweets-sentiment "worst customer service ever"
    python -m zoo explain vit-tiny-digits 7            # the 8th digits test image
    python -m zoo explain vit-tiny-digits my_digit.png # an image file
    python -m zoo explain vit-fashion-mnist 0          # the first Fashion-MNIST test image

`attention_page(model, input)` runs the model once on one input and gives
its `kattn.viz.attention_view` page:

- a Transformer translator: encoder self-attention, decoder (causal)
  self-attention and cross-attention of every block and head, on the source
  text and the model's own (greedy) translation, fed back teacher-forced;
- the RNN translator: its one additive-attention alignment (output
  characters x source characters);
- a tweet classifier: its encoder blocks' self-attention, if it has blocks,
  and the attention pooling weights ("[pool]" is the pooling's query);
- a ViT: every block's self-attention over the class token and the patches,
  with the image beside it. INPUT is an index into the test split of the
  dataset of the model's image size (`TEST_IMAGES`: 8 x 8 the scikit-learn
  digits, 28 x 28 Fashion-MNIST, 32 x 32 x 3 CIFAR-10) or the path of an
  image file, resized to the model's size (grayscale for one channel).
"""

import os

import numpy as np

from kattn import viz


def _numpy(x):
    from keras import ops

    return np.asarray(ops.convert_to_numpy(x), dtype="float32")


def _first(per_layer):
    """Example 0 of each layer's `(B, ...)` scores."""
    return [_numpy(scores)[0] for scores in per_layer]


def _token_strings(tokenizer, ids):
    """The strings of one row of translator ids, padding left out."""
    return [tokenizer.vocabulary[i] for i in ids if i != 0]


def _transformer_page(model, text):
    translation = model.translate([text])[0]
    source_ids = model.encode_source([text])  # (1, S)
    target_ids = model.target_tokenizer.encode([translation], model.target_length, start=True)
    scores = model.attention_scores({"source": source_ids, "target": target_ids})
    source = _token_strings(model.source_tokenizer, source_ids[0])
    target = _token_strings(model.target_tokenizer, target_ids[0])  # "[START]", then the output
    s, t = len(source), len(target)
    return viz.attention_view(
        {
            "encoder self-attention": [a[:, :s, :s] for a in _first(scores["encoder"])],
            "decoder self-attention": [a[:, :t, :t] for a in _first(scores["decoder"])],
            "cross-attention": [a[:, :t, :s] for a in _first(scores["cross"])],
        },
        query_tokens={
            "encoder self-attention": source,
            "decoder self-attention": target,
            "cross-attention": target,
        },
        key_tokens={"cross-attention": source},
        title=f"{type(model).__name__}: {text!r} -> {translation!r}",
    )


def _rnn_page(model, text):
    (translation,), (alignment,) = model.translate([text], return_attention=True)
    source = _token_strings(model.source_tokenizer, model.encode_source([text])[0])
    target = _token_strings(model.target_tokenizer, model.target_tokenizer.encode([translation], model.target_length)[0])
    return viz.attention_view(
        {"additive attention": [alignment[None]]},  # (1 head, outputs, sources)
        query_tokens=target[: len(alignment)],
        key_tokens=source,
        title=f"{type(model).__name__}: {text!r} -> {translation!r}",
    )


def _tweets_page(model, text):
    token_ids = model.tokenizer([text])  # (1, T)
    tokens = model.tokenizer.tokens([text])[0]
    n = len(tokens)
    if n == 0:
        raise ValueError(f"the input {text!r} has no token this model knows.")
    scores = model.attention_scores(token_ids)
    kinds = {"attention pooling": [_numpy(scores["pooling"])[0:1, :n]]}  # (1 query, T)
    queries = {"attention pooling": ["[pool]"]}
    if scores["encoder"]:
        kinds = {"encoder self-attention": [a[:, :n, :n] for a in _first(scores["encoder"])], **kinds}
        queries["encoder self-attention"] = tokens
    label = model.classify([text])[0]
    return viz.attention_view(
        kinds, queries, key_tokens=tokens, title=f"{type(model).__name__}: {text!r}, predicted {label}"
    )


# A ViT's (height, width, channels) -> the dataset whose test images an index picks.
TEST_IMAGES = {(8, 8, 1): "digits", (28, 28, 1): "fashion-mnist", (32, 32, 3): "cifar10"}


def load_image(model, value):
    """A `(height, width, channels)` image from a test index or a file path."""
    dataset = TEST_IMAGES.get((*model.image_size, model.channels))
    if str(value).isdigit():
        if dataset is None:
            raise ValueError(
                f"INPUT: this model takes {model.image_size} x {model.channels} images, which "
                f"no dataset of {sorted(TEST_IMAGES.values())} has; pass an image file."
            )
        from zoo.vit import data

        _, (images, _), _ = data.load(dataset)
        index = int(value)
        if index >= len(images):
            raise ValueError(
                f"INPUT: a {dataset} test image index must be below {len(images)}; received {index}."
            )
        return images[index]
    if not os.path.exists(value):
        raise FileNotFoundError(
            f"INPUT: expected a {dataset or 'test'} image index or an image file; no such file: {value}"
        )
    from PIL import Image

    height, width = model.image_size
    with Image.open(value) as picture:
        picture = picture.convert("L" if model.channels == 1 else "RGB").resize((width, height))
        image = np.asarray(picture)
    return image.reshape(height, width, model.channels)


def _vit_page(model, value):
    image = load_image(model, value)
    scores = model.features(image[None].astype("float32"), return_attention_scores=True)
    rows, cols = model.grid_size
    tokens = ["[CLS]"] + [f"patch {r},{c}" for r in range(rows) for c in range(cols)]
    label = model.classify(image[None])[0]
    return viz.attention_view(
        _first(scores["attention_scores"]), tokens, image=(image, (rows, cols)),
        title=f"{type(model).__name__}: image {value}, predicted {label}",
    )


def attention_page(model, value):
    """The `kattn.viz.AttentionView` of `model` on one input `value`."""
    from zoo.translation import RNNAttentionTranslator, TransformerTranslator
    from zoo.tweets import AttentionPoolingClassifier
    from zoo.vit import ViT

    pages = (
        (TransformerTranslator, _transformer_page),
        (RNNAttentionTranslator, _rnn_page),
        (AttentionPoolingClassifier, _tweets_page),
        (ViT, _vit_page),
    )
    for model_class, page in pages:
        if isinstance(model, model_class):
            return page(model, value)
    raise ValueError(
        "explain works on translators, tweet classifiers and ViTs; received a "
        f"{type(model).__name__}."
    )
