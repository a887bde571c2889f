"""GPT: training, saving, and generation (cached equals uncached, samplers, attention)."""

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import to_numpy
from zoo.gpt import GPT, WordTokenizer

SIZES = dict(vocabulary_size=31, num_layers=2, num_heads=2, hidden_dim=16,
             intermediate_dim=32, max_sequence_length=40)


def small_gpt(**overrides):
    model = GPT(**{**SIZES, **overrides})
    model.build()
    return model


def test_logits_shape_and_causality():
    model = small_gpt()
    ids = np.random.default_rng(0).integers(0, 31, (2, 10))
    logits = to_numpy(model(ids))
    assert logits.shape == (2, 10, 31) and logits.dtype == np.float32
    changed = ids.copy()
    changed[:, 6:] = (changed[:, 6:] + 1) % 31  # change the future only
    np.testing.assert_allclose(to_numpy(model(changed))[:, :6], logits[:, :6], atol=1e-5)
    assert not np.allclose(to_numpy(model(changed))[:, 6:], logits[:, 6:], atol=1e-3)


def test_output_projection_is_the_token_embedding():
    model = small_gpt()
    names = [v.path for v in model.weights]
    assert sum("embeddings" in n and "token" in n for n in names) == 1
    assert not any("output" in n and "projection" in n for n in names)
    h = np.random.default_rng(1).normal(size=(1, 3, 16)).astype("float32")
    table = to_numpy(model.embedding.token_embedding.embeddings)
    expected = to_numpy(model.final_norm(h)) @ table.T
    np.testing.assert_allclose(to_numpy(model.logits(h)), expected, atol=1e-5)


def test_fit_learns_a_repeating_sequence():
    model = small_gpt()
    stream = np.tile(np.arange(7), 40)
    x = np.stack([stream[i : i + 16] for i in range(0, 200, 3)])
    y = np.stack([stream[i + 1 : i + 17] for i in range(0, 200, 3)])
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # 30 epochs: the loss sits near log(7) for the first ~10 (which 10 depends on the seed)
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.05
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    tokens = model.generate([[0, 1, 2]], max_new_tokens=8)
    assert tokens[0].tolist() == [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3]


@pytest.mark.parametrize("sampler", ["greedy", "top_k", "top_p"])
def test_cached_generation_equals_uncached(sampler):
    model = small_gpt()
    prompts = np.random.default_rng(2).integers(0, 31, (3, 4))
    options = dict(max_new_tokens=12, sampler=sampler, seed=7, temperature=2.0)
    cached, cached_attention = model.generate(prompts, return_attention=True, **options)
    uncached, uncached_attention = model.generate(prompts, use_cache=False, return_attention=True,
                                                  **options)
    np.testing.assert_array_equal(cached, uncached)
    np.testing.assert_array_equal(model.generate(prompts, use_cache=False, **options), cached)
    np.testing.assert_array_equal(cached[:, :4], prompts)
    for ours, reference in zip(cached_attention, uncached_attention):
        np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_generation_equals_argmax_of_full_passes():
    """Greedy decoding done by hand, one full causal pass per new token."""
    model = small_gpt()
    tokens = [5, 9, 2]
    for _ in range(6):
        logits = to_numpy(model(np.array([tokens])))
        tokens.append(int(np.argmax(logits[0, -1])))
    np.testing.assert_array_equal(model.generate([[5, 9, 2]], max_new_tokens=6)[0], tokens)
    assert list(model.stream([5, 9, 2], max_new_tokens=6)) == tokens[3:]


def test_prompts_of_different_lengths():
    model = small_gpt()
    together = model.generate([[1, 2, 3, 4, 5], [6, 7]], max_new_tokens=5)
    assert [len(row) for row in together] == [10, 7]
    alone = [model.generate([row], max_new_tokens=5)[0] for row in ([1, 2, 3, 4, 5], [6, 7])]
    for a, b in zip(together, alone):
        np.testing.assert_array_equal(a, b)


def test_attention_of_generated_tokens():
    model = small_gpt()
    prompts = np.array([[3, 1, 4, 1]])
    tokens, attention = model.generate(prompts, max_new_tokens=5, return_attention=True)
    (scores,) = attention
    assert scores.shape == (2, 2, 5, 8)  # (layers, heads, new tokens, tokens before the last)
    np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
    # New token i was produced by the query at position 3 + i: it sees positions <= 3 + i.
    for i in range(5):
        assert np.all(scores[:, :, i, 4 + i :] == 0)
    # The same rows as a full causal pass over the final sequence.
    _, full = model(tokens[:, :-1], return_attention_scores=True)
    full = np.stack([to_numpy(s)[0] for s in full])  # (layers, H, 8, 8)
    np.testing.assert_allclose(scores, full[:, :, 3:8, :], atol=1e-5)


def test_sampling_is_reproducible_with_a_seed_and_temperature_matters():
    model = small_gpt()
    prompts = [[1, 2]] * 4
    a = model.generate(prompts, max_new_tokens=10, sampler="top_k", top_k=20, seed=3, temperature=5.0)
    b = model.generate(prompts, max_new_tokens=10, sampler="top_k", top_k=20, seed=3, temperature=5.0)
    np.testing.assert_array_equal(a, b)
    assert len({tuple(row) for row in a}) > 1  # rows sample differently
    cold = model.generate(prompts, max_new_tokens=10, sampler="top_p", top_p=0.9, seed=3,
                          temperature=1e-3)
    greedy = model.generate(prompts, max_new_tokens=10)
    np.testing.assert_array_equal(cold, greedy)  # a frozen temperature is greedy


def test_text_prompts_with_a_tokenizer_and_preset_round_trip(tmp_path):
    tokenizer = WordTokenizer.from_texts(["the cat sat on the mat", "a dog ran"])
    model = small_gpt(vocabulary_size=tokenizer.vocabulary_size, tokenizer=tokenizer)
    texts = model.generate(["the cat", "a dog ran"], max_new_tokens=3)
    assert texts[0].startswith("the cat ") and len(texts[0].split()) == 5
    folder = zoo.save(model, str(tmp_path / "preset"))
    restored = zoo.load(folder)
    assert restored.generate(["the cat", "a dog ran"], max_new_tokens=3) == texts
    model.save(str(tmp_path / "model.keras"))
    reloaded = keras.saving.load_model(str(tmp_path / "model.keras"))
    ids = np.array([[1, 2, 3]])
    np.testing.assert_allclose(to_numpy(reloaded(ids)), to_numpy(model(ids)), atol=1e-6)
    assert reloaded.tokenizer.vocabulary == tokenizer.vocabulary


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="num_key_value_heads"):
        GPT(**SIZES, num_key_value_heads=3).build()  # does not divide num_heads
    with pytest.raises(ValueError, match="position"):
        GPT(**SIZES, position="sinusoid")
    with pytest.raises(ValueError, match="hidden_dim"):
        GPT(**{**SIZES, "hidden_dim": 15})
    assert GPT(**SIZES, num_key_value_heads=2).get_config()["num_key_value_heads"] == 2
    model = small_gpt()
    with pytest.raises(ValueError, match="max_sequence_length"):
        model.generate([[1] * 30], max_new_tokens=20)
    with pytest.raises(ValueError, match="sampler"):
        model.generate([[1]], max_new_tokens=2, sampler="beam")
    with pytest.raises(ValueError, match="tokenizer"):
        model.generate(["words"], max_new_tokens=2)
    with pytest.raises(ValueError, match="token ids"):
        model.generate([[1, 99]], max_new_tokens=2)


@pytest.mark.parametrize("options", [dict(position="rotary"), dict(num_key_value_heads=1),
                                     dict(position="rotary", num_key_value_heads=1)])
def test_rotary_and_grouped_query_variants_cache_and_learn(options):
    model = small_gpt(**options)
    names = [v.path for v in model.weights]
    assert any("position_embedding" in n for n in names) == (options.get("position") != "rotary")
    key_value_heads = options.get("num_key_value_heads") or SIZES["num_heads"]
    assert tuple(model.empty_cache(1, 5)[0].shape)[3] == key_value_heads
    ids = np.random.default_rng(3).integers(0, SIZES["vocabulary_size"], (2, 6))
    cached = model.generate(ids, max_new_tokens=4)
    uncached = model.generate(ids, max_new_tokens=4, use_cache=False)
    np.testing.assert_array_equal(cached, uncached)
    stream = np.tile(np.arange(7), 40)
    x = np.stack([stream[i : i + 16] for i in range(0, 200, 3)])
    y = np.stack([stream[i + 1 : i + 17] for i in range(0, 200, 3)])
    model.compile(keras.optimizers.Adam(1e-2),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_model_card_input_names_the_length_limit_and_unknown_words():
    from zoo.gpt import WordTokenizer
    from zoo.presets import input_description

    tokenizer = WordTokenizer.from_texts(["a b c"])
    model = GPT(tokenizer.vocabulary_size, 1, 2, 8, 16, max_sequence_length=12, tokenizer=tokenizer)
    text = input_description(model)
    assert "at most 12 tokens" in text and "`<unk>`" in text and "(N, T, 5)" in text
