"""ViT: named sizes, errors, position interpolation, saving, mixed precision."""

import warnings

import keras
import numpy as np
import pytest

from tests.conftest import to_numpy
from zoo.vit import ViT, interpolate_position_embeddings, resize_model
from zoo.vit import vit_base, vit_small, vit_tiny


def tiny_vit(**overrides):
    arguments = dict(image_size=8, patch_size=2, num_layers=2, num_heads=2, hidden_dim=16,
                     mlp_dim=32, num_classes=5, channels=1)
    arguments.update(overrides)
    return ViT(**arguments)


def images(batch=3, size=8, channels=1, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (batch, size, size, channels)).astype("float32")


# Parameter counts of the published models at 224x224, patch 16, 1000 classes
# (as listed for timm's vit_{tiny,small,base}_patch16_224).
PUBLISHED_PARAMS = {vit_tiny: 5_717_416, vit_small: 22_050_664, vit_base: 86_567_656}


@pytest.mark.parametrize("size", [vit_tiny, vit_small, vit_base], ids=lambda f: f.__name__)
def test_named_sizes_have_published_parameter_counts(size):
    model = size()  # built at 224 x 224, never run
    assert model.count_params() == PUBLISHED_PARAMS[size]
    assert model.num_tokens == 1 + 14 * 14
    assert model.patch_embedding.position_embedding.embeddings.shape == (197, model.hidden_dim)


def test_small_named_size_runs_and_gives_probabilities():
    model = vit_tiny(image_size=32, patch_size=16, num_classes=10)  # 4 patches
    probabilities = to_numpy(model(images(2, 32, 3)))
    assert probabilities.shape == (2, 10)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    sequence = model.features(images(2, 32, 3))["sequence_output"]
    assert tuple(sequence.shape) == (2, 5, 192)


def test_forward_matches_a_numpy_reading_of_the_architecture():
    """Patch embedding and final head recomputed by hand with zero blocks' effect."""
    model = tiny_vit(num_layers=1, pixel_mean=[100.0], pixel_std=[50.0])
    x = images(2)
    # Silence the block: zero output projections make each residual branch 0.
    block = model.blocks[0]
    block.self_attention.output_dense.kernel.assign(np.zeros(block.self_attention.output_dense.kernel.shape))
    block.self_attention.output_dense.bias.assign(np.zeros(block.self_attention.output_dense.bias.shape))
    block.feedforward_output.kernel.assign(np.zeros(block.feedforward_output.kernel.shape))
    block.feedforward_output.bias.assign(np.zeros(block.feedforward_output.bias.shape))
    model.head.kernel.assign(np.random.default_rng(1).normal(size=model.head.kernel.shape))

    embedding = model.patch_embedding
    normalised = (x - 100.0) / 50.0
    patches = normalised.reshape(2, 4, 2, 4, 2, 1).transpose(0, 1, 3, 2, 4, 5).reshape(2, 16, 4)
    tokens = patches @ to_numpy(embedding.projection.kernel) + to_numpy(embedding.projection.bias)
    class_token = np.broadcast_to(to_numpy(embedding.class_token), (2, 1, 16))
    tokens = np.concatenate([class_token, tokens], axis=1) + to_numpy(embedding.position_embedding.embeddings)
    first = tokens[:, 0]
    mean, var = first.mean(-1, keepdims=True), first.var(-1, keepdims=True)
    normed = (first - mean) / np.sqrt(var + 1e-6) * to_numpy(model.encoder_norm.gamma) + to_numpy(model.encoder_norm.beta)
    logits = normed @ to_numpy(model.head.kernel) + to_numpy(model.head.bias)
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(to_numpy(model(x)), expected, atol=1e-5)


def test_attention_scores_per_layer_are_distributions():
    model = tiny_vit(num_layers=3)
    outputs = model.features(images(2), return_attention_scores=True)
    scores = outputs["attention_scores"]
    assert len(scores) == 3
    for layer_scores in scores:
        assert tuple(layer_scores.shape) == (2, 2, 17, 17)  # (B, heads, 1 + N, 1 + N)
        np.testing.assert_allclose(to_numpy(layer_scores).sum(-1), 1.0, rtol=1e-5)


def test_image_size_not_divisible_by_patch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"`image_size`.*`patch_size`.*30.*patch_size=4"):
        ViT(30, 4, 1, 2, 8, 16, 10)
    with pytest.raises(ValueError, match=r"width"):
        ViT((32, 30), 4, 1, 2, 8, 16, 10)


def test_wrong_channels_and_wrong_size_are_clear_errors():
    model = tiny_vit(channels=1)
    with pytest.raises(ValueError, match=r"`images`.*channels=1.*\(2, 8, 8, 3\)"):
        model(images(2, 8, 3))
    with pytest.raises(ValueError, match=r"`images` must be 8x8.*resize_model.*\(2, 12, 12, 1\)"):
        model(images(2, 12, 1))
    with pytest.raises(ValueError, match=r"`pixel_mean`.*one per channel \(3\)"):
        tiny_vit(channels=3, pixel_mean=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"`class_names`.*num_classes=5.*received 2"):
        tiny_vit(class_names=["a", "b"])


def test_interpolation_keeps_the_class_token_and_resizes_the_grid():
    rng = np.random.default_rng(0)
    table = rng.normal(size=(1 + 3 * 3, 4)).astype("float32")
    same = interpolate_position_embeddings(table, (3, 3), (3, 3))
    np.testing.assert_array_equal(same, table)

    bigger = interpolate_position_embeddings(table, (3, 3), (6, 5))
    assert bigger.shape == (1 + 6 * 5, 4)
    np.testing.assert_array_equal(bigger[0], table[0])  # class token untouched

    # A table that is constant over the grid stays constant; a ramp along
    # the rows stays a ramp along the rows (increasing, constant along columns).
    constant = np.concatenate([rng.normal(size=(1, 4)), np.ones((9, 4))]).astype("float32")
    np.testing.assert_allclose(interpolate_position_embeddings(constant, (3, 3), (5, 5))[1:], 1.0, atol=1e-5)
    rows = np.repeat(np.arange(3.0), 3)[:, None] * np.ones((1, 4))
    ramp = np.concatenate([np.zeros((1, 4)), rows]).astype("float32")
    grid = interpolate_position_embeddings(ramp, (3, 3), (6, 6))[1:].reshape(6, 6, 4)
    assert np.all(np.diff(grid[:, 0, 0]) > 0)
    np.testing.assert_allclose(grid, np.broadcast_to(grid[:, :1], grid.shape), atol=1e-5)
    assert grid[0, 0, 0] < 0.25 and grid[-1, 0, 0] > 1.75

    with pytest.raises(ValueError, match=r"`positions` must have 1 \+ 4\*4 rows"):
        interpolate_position_embeddings(table, (4, 4), (2, 2))


def test_resize_model_copies_weights_and_runs_at_the_new_size():
    model = tiny_vit()
    resized = resize_model(model, 12)
    assert resized.image_size == (12, 12) and resized.num_tokens == 37
    old = {w.path: to_numpy(w) for w in model.weights}
    for weight in resized.weights:
        if "position_embedding" in weight.path:
            np.testing.assert_array_equal(to_numpy(weight)[0], old[weight.path][0])
        else:
            np.testing.assert_array_equal(to_numpy(weight), old[weight.path])
    assert to_numpy(resized(images(2, 12))).shape == (2, 5)


def test_keras_save_and_load_round_trip(tmp_path):
    model = tiny_vit(pixel_mean=[3.0], pixel_std=[2.0], class_names=list("abcde"), dropout=0.1)
    model.head.kernel.assign(np.random.default_rng(0).normal(size=model.head.kernel.shape))
    path = str(tmp_path / "vit.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert isinstance(restored, ViT)
    assert restored.get_config() == model.get_config()
    np.testing.assert_allclose(to_numpy(restored(images())), to_numpy(model(images())), atol=1e-6)
    assert restored.classify(images()) == model.classify(images())


def test_zoo_save_and_load_round_trip(tmp_path):
    import zoo

    model = tiny_vit(class_names=list("abcde"))
    model.head.kernel.assign(np.random.default_rng(0).normal(size=model.head.kernel.shape))
    zoo.save(model, str(tmp_path / "preset"), metrics={"accuracy": 0.5}, data="random")
    restored = zoo.load(str(tmp_path / "preset"))
    np.testing.assert_allclose(
        restored.predict(images(), verbose=0), model.predict(images(), verbose=0), atol=1e-6
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision(policy):
    reference = tiny_vit()
    keras.mixed_precision.set_global_policy(policy)
    model = tiny_vit()
    model.set_weights(reference.get_weights())
    assert model.compute_dtype == policy.split("_")[1]
    assert all(w.dtype == "float32" for w in model.weights)
    x = images()
    model.head.kernel.assign(np.random.default_rng(0).normal(size=model.head.kernel.shape))
    reference.head.kernel.assign(to_numpy(model.head.kernel))
    probabilities = model(x)
    assert keras.backend.standardize_dtype(probabilities.dtype) == "float32"
    tolerance = 2e-2 if policy == "mixed_float16" else 6e-2
    np.testing.assert_allclose(to_numpy(probabilities), to_numpy(reference(x)), atol=tolerance)


def test_fit_learns_and_prints_no_warnings():
    """Two classes told apart by the brightness of the top half."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 100, (64, 8, 8, 1)).astype("float32")
    y = (np.arange(64) % 2).astype("int32")
    x[y == 1, :4] += 150.0
    model = tiny_vit(num_classes=2, pixel_mean=[120.0], pixel_std=[70.0])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert [str(w.message) for w in caught] == []
    assert history.history["accuracy"][-1] > 0.9


def test_compile_classifier_turns_xla_on_by_default_and_trains_alike():
    """`compile_classifier` compiles the whole step with XLA on TensorFlow
    (Keras' "auto" would not on a CPU); the result matches an uncompiled step."""
    from zoo.vit import training

    x = images(batch=4)
    y = keras.utils.to_categorical(np.arange(4) % 5, 5)
    models = []
    for jit_compile in ("auto", False):
        keras.utils.set_random_seed(3)
        model = tiny_vit()
        training.compile_classifier(model, learning_rate=0.1, jit_compile=jit_compile)
        model.train_on_batch(x, y)
        models.append(model)
    assert models[0].jit_compile is (keras.backend.backend() in ("tensorflow", "jax"))
    assert models[1].jit_compile is False
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)  # same update
