"""zoo.tweets.AttentionPoolingClassifier: masking, explain, a learned rule,
NumPy references, and saving with raw-string inputs."""

import warnings

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import to_numpy
from zoo.tweets import AttentionPoolingClassifier, TweetTokenizer

FILLER = ["the", "a", "day", "was", "my", "today", "game", "just", "so",
          "really", "we", "they", "it", "very", "movie", "phone"]
KEYWORDS = ["awful", "great", "funny", "boring"]  # the label is the index


def keyword_task(num_examples, seed=0):
    """Five filler words with one keyword at a random place; the keyword is the label."""
    rng = np.random.default_rng(seed)
    texts, labels, positions = [], [], []
    for _ in range(num_examples):
        words = list(rng.choice(FILLER, size=5))
        label, position = int(rng.integers(len(KEYWORDS))), int(rng.integers(6))
        words.insert(position, KEYWORDS[label])
        texts.append(" ".join(words))
        labels.append(label)
        positions.append(position)
    return texts, np.array(labels), np.array(positions)


@pytest.fixture(scope="module")
def tokenizer():
    texts, _, _ = keyword_task(200, seed=1)
    return TweetTokenizer.train(texts, vocabulary_size=200, sequence_length=10)


def small_model(tokenizer, **kwargs):
    settings = dict(embedding_dim=8, dropout=0.0, sequence_length=10,
                    label_names=KEYWORDS, tokenizer=tokenizer)
    settings.update(kwargs)
    model = AttentionPoolingClassifier(tokenizer.vocabulary_size, len(KEYWORDS), **settings)
    model.build((None, 10))
    return model


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("kwargs", [{}, {"pooling_units": 4}, {"num_layers": 1, "num_heads": 2,
                                                                "intermediate_dim": 16, "position": "sinusoidal"}])
def test_pooling_weights_are_exactly_zero_on_padding(tokenizer, kwargs):
    model = small_model(tokenizer, **kwargs)
    ids = tokenizer(["great day", "the movie was awful today"])  # (2, 10), padded
    probabilities, weights = model(ids, return_attention_scores=True)
    weights = to_numpy(weights)
    assert (weights[ids == 0] == 0.0).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    # More padding changes nothing.
    longer = np.concatenate([ids, np.zeros((2, 5), "int32")], axis=1)
    np.testing.assert_allclose(to_numpy(model(longer)), to_numpy(probabilities), atol=1e-6)


def test_explain_weights_sum_to_one_per_tweet(tokenizer):
    model = small_model(tokenizer)
    texts = ["great", "the day was great", "my phone is really awful today"]
    explained = model.explain(texts)
    assert [tokens for tokens, _ in explained] == tokenizer.tokens(texts)
    for tokens, weights in explained:
        assert len(weights) == len(tokens)
        np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-6)


def test_attention_pooling_matches_a_numpy_reference(tokenizer):
    model = small_model(tokenizer, pooling_units=4)
    ids = tokenizer(["great day", "the movie was awful today"])
    table = to_numpy(model.embedding.embeddings)
    hidden_kernel, hidden_bias = (to_numpy(w) for w in model.pool.hidden_dense.weights)
    score_kernel = to_numpy(model.pool.score_dense.kernel)
    head_kernel, head_bias = (to_numpy(w) for w in model.head.weights)

    x = table[ids]  # (B, T, D)
    scores = (np.tanh(x @ hidden_kernel + hidden_bias) @ score_kernel)[..., 0]  # (B, T)
    scores = np.where(ids != 0, scores, -np.inf)
    weights = softmax(scores)
    expected = softmax((weights[..., None] * x).sum(1) @ head_kernel + head_bias)
    np.testing.assert_allclose(to_numpy(model(ids)), expected, rtol=1e-5, atol=1e-6)


def test_mean_pooling_baseline_matches_a_numpy_reference(tokenizer):
    model = small_model(tokenizer, pooling="mean")
    ids = tokenizer(["great day", "the movie was awful today"])
    table = to_numpy(model.embedding.embeddings)
    head_kernel, head_bias = (to_numpy(w) for w in model.head.weights)
    real = (ids != 0)[..., None]
    pooled = (table[ids] * real).sum(1) / real.sum(1)  # average of the real tokens
    expected = softmax(pooled @ head_kernel + head_bias)
    np.testing.assert_allclose(to_numpy(model(ids)), expected, rtol=1e-5, atol=1e-6)
    _, weights = model.explain(["great day"])[0]
    np.testing.assert_allclose(weights, [0.5, 0.5])


def test_a_tiny_model_learns_the_keyword_rule_and_attends_to_the_keyword(tokenizer):
    texts, labels, positions = keyword_task(256)
    model = small_model(tokenizer)
    model.compile(keras.optimizers.Adam(0.03), "sparse_categorical_crossentropy", metrics=["accuracy"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(tokenizer(texts), labels, batch_size=32, epochs=6, verbose=0)
    assert not [w for w in caught if "mask" in str(w.message)]  # no mask warnings

    test_texts, test_labels, test_positions = keyword_task(100, seed=7)
    predicted = model.classify(test_texts)
    assert np.mean([p == KEYWORDS[y] for p, y in zip(predicted, test_labels)]) >= 0.95
    explained = model.explain(test_texts)
    assert all(tokens[p] == KEYWORDS[y] for (tokens, _), p, y in zip(explained, test_positions, test_labels))
    on_keyword = np.array([weights[p] for (_, weights), p in zip(explained, test_positions)])
    assert on_keyword.mean() > 0.8  # uniform weights would give 1/6
    assert np.mean([np.argmax(w) == p for (_, w), p in zip(explained, test_positions)]) >= 0.95


def test_preset_round_trip_gives_identical_predictions_on_raw_strings(tokenizer, tmp_path):
    model = small_model(tokenizer, pooling_units=4)
    texts = ["the game was great", "my phone is awful", "an unseen word: zebra 😂"]
    zoo.save(model, str(tmp_path / "preset"), metrics={"macro_recall": 0.5})
    restored = zoo.load(str(tmp_path / "preset"))
    assert isinstance(restored, AttentionPoolingClassifier)
    assert restored.tokenizer.vocabulary == tokenizer.vocabulary
    np.testing.assert_array_equal(restored.predict(texts, verbose=0), model.predict(texts, verbose=0))
    assert restored.classify(texts) == model.classify(texts)

    model.save(str(tmp_path / "model.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "model.keras"))
    np.testing.assert_array_equal(reloaded.predict(texts, verbose=0), model.predict(texts, verbose=0))


def test_clear_errors(tokenizer):
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        small_model(tokenizer, pooling="max")
    with pytest.raises(ValueError, match="`label_names` must have num_classes=4"):
        small_model(tokenizer, label_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="`vocabulary_size` and `the tokenizer's vocabulary`"):
        AttentionPoolingClassifier(tokenizer.vocabulary_size + 1, 4, tokenizer=tokenizer)
    without_tokenizer = AttentionPoolingClassifier(tokenizer.vocabulary_size, 4, embedding_dim=8)
    with pytest.raises(ValueError, match="takes token ids, not strings"):
        without_tokenizer.predict(["a tweet"])
    with pytest.raises(ValueError, match="`token_ids` must have shape"):
        without_tokenizer(np.zeros((2, 3, 4), "int32"))


def test_token_dropout_drops_whole_tokens_in_training_only(tokenizer):
    model = small_model(tokenizer, token_dropout=0.5)
    ids = np.tile(tokenizer(["the day was really great today"]), (200, 1))  # (200, 10)
    real = ids != 0
    _, weights = model(ids, training=True, return_attention_scores=True)
    dropped = (to_numpy(weights) == 0.0) & real  # a dropped token gets no pooling weight
    assert 0.35 < dropped.sum() / real.sum() < 0.65
    assert len({row.tobytes() for row in dropped}) > 50  # different tokens per tweet
    # At inference every token counts, and the output does not change between calls.
    first, weights = model(ids, return_attention_scores=True)
    assert (to_numpy(weights)[real] > 0).all()
    np.testing.assert_array_equal(to_numpy(model(ids)), to_numpy(first))
    assert AttentionPoolingClassifier.from_config(model.get_config()).token_dropout == 0.5
    with pytest.raises(ValueError, match="token_dropout"):
        small_model(tokenizer, token_dropout=1.5)
