"""Grouped-query attention (`num_key_value_heads`) and rotary positions
(`rotary=True`) in kattn.layers.MultiHeadAttention and TransformerDecoderBlock,
against keras.layers.GroupQueryAttention and keras_hub's RotaryEmbedding."""

import os

import keras
import numpy as np
import pytest

import kattn
from tests.conftest import require_module, to_numpy

RNG = np.random.default_rng(0)
PATHS = ["explicit", "fused"]


def _inputs(*shape):
    return RNG.normal(size=shape).astype("float32")


def _layer(num_heads=4, key_dim=4, shape=(2, 6, 8), **kwargs):
    layer = kattn.layers.MultiHeadAttention(num_heads, key_dim, **kwargs)
    layer.build(shape, shape)
    return layer


def _decode_token_by_token(layer, x, cache):
    steps = []
    for index in range(x.shape[1]):
        token = x[:, index : index + 1]
        step, cache = layer(token, token, use_causal_mask=True, cache=cache, cache_update_index=index)
        steps.append(to_numpy(step))
    return np.concatenate(steps, axis=1), cache


# -- grouped-query attention ------------------------------------------------------


def test_as_many_key_value_heads_as_heads_is_plain_multi_head_attention():
    plain, grouped = _layer(), _layer(num_key_value_heads=4)
    grouped.set_weights(plain.get_weights())
    x = _inputs(2, 6, 8)
    expected, expected_scores = plain(x, x, use_causal_mask=True, return_attention_scores=True)
    output, scores = grouped(x, x, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_array_equal(to_numpy(output), to_numpy(expected))
    np.testing.assert_array_equal(to_numpy(scores), to_numpy(expected_scores))


def test_grouped_heads_equal_plain_heads_whose_key_value_kernels_are_shared():
    """Key/value head j serves query heads 2j and 2j+1 (keras' order)."""
    grouped, plain = _layer(num_key_value_heads=2), _layer()
    weights = grouped.get_weights()  # q kernel, q bias, k kernel, k bias, v kernel, v bias, out kernel, out bias
    repeated = [np.repeat(w, 2, axis=-2) if i in (2, 3, 4, 5) else w for i, w in enumerate(weights)]
    plain.set_weights(repeated)
    x = _inputs(2, 6, 8)
    np.testing.assert_allclose(to_numpy(grouped(x, x)), to_numpy(plain(x, x)), atol=1e-6)


def _keras_pair(num_key_value_heads, query_shape=(2, 6, 8)):
    theirs = keras.layers.GroupQueryAttention(
        head_dim=4, num_query_heads=4, num_key_value_heads=num_key_value_heads
    )
    theirs.build(query_shape, query_shape)
    ours = _layer(num_key_value_heads=num_key_value_heads, shape=query_shape)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    ours.set_weights(theirs.get_weights())
    return theirs, ours


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("num_key_value_heads", [1, 2])
def test_matches_keras_group_query_attention_with_the_same_weights(num_key_value_heads, path):
    theirs, ours = _keras_pair(num_key_value_heads)
    x = _inputs(2, 6, 8)
    keys_present = np.array([[True] * 6, [True] * 4 + [False] * 2])
    their_output, their_scores = theirs(
        x, x, value_mask=keys_present, use_causal_mask=True, return_attention_scores=True
    )
    with kattn.config.use_attention_implementation(path):
        output = ours(x, x, value_mask=keys_present, use_causal_mask=True)
        _, scores = ours(x, x, value_mask=keys_present, use_causal_mask=True, return_attention_scores=True)
    assert scores.shape == (2, 4, 6, 6)
    np.testing.assert_allclose(to_numpy(output), to_numpy(their_output), atol=1e-5)
    np.testing.assert_allclose(to_numpy(scores), to_numpy(their_scores), atol=1e-5)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("num_key_value_heads", [1, 2])
def test_one_training_step_matches_keras_group_query_attention(num_key_value_heads, path):
    """The same SGD step on both layers leaves the same weights: every
    gradient equals Keras'."""
    theirs, ours = _keras_pair(num_key_value_heads)
    before = ours.get_weights()
    x, target = _inputs(2, 6, 8), _inputs(2, 6, 8)
    weights_after = []
    for layer in (theirs, ours):
        inputs = keras.Input((6, 8))
        model = keras.Model(inputs, layer(inputs, inputs, use_causal_mask=True))
        model.compile(keras.optimizers.SGD(1.0), "mse")
        with kattn.config.use_attention_implementation(path):
            model.train_on_batch(x, target)
        weights_after.append(layer.get_weights())
    for theirs_after, ours_after in zip(*weights_after):
        np.testing.assert_allclose(ours_after, theirs_after, atol=1e-5)
    assert all(not np.allclose(a, b) for a, b in zip(weights_after[1][::2], before[::2]))  # kernels moved


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("num_key_value_heads, rotary", [(1, False), (2, False), (2, True), (4, True)])
def test_the_cache_holds_only_key_value_heads_and_decoding_equals_the_full_pass(num_key_value_heads, rotary, path):
    layer = _layer(num_key_value_heads=num_key_value_heads, rotary=rotary)
    x = _inputs(2, 6, 8)
    with kattn.config.use_attention_implementation(path):
        full = to_numpy(layer(x, x, use_causal_mask=True))
        steps, cache = _decode_token_by_token(layer, x, np.zeros((2, 2, 6, num_key_value_heads, 4), "float32"))
    np.testing.assert_allclose(steps, full, atol=1e-5)
    plain_cache_size = 2 * 2 * 6 * 4 * 4  # (B, 2, max_length, num_heads, key_dim)
    assert np.size(to_numpy(cache)) * (4 // num_key_value_heads) == plain_cache_size
    with pytest.raises(ValueError, match="`cache` must have shape"):  # a full-size cache is refused
        layer(x[:, :1], x[:, :1], cache=np.zeros((2, 2, 6, 4 * num_key_value_heads + 1, 4), "float32"),
              cache_update_index=0)


def test_prefill_then_decode_with_a_tensor_index_in_a_compiled_function():
    layer = _layer(num_key_value_heads=2, rotary=True)
    x = _inputs(2, 6, 8)
    full = to_numpy(layer(x, x, use_causal_mask=True))

    def step(token, cache, index):
        return layer(token, token, use_causal_mask=True, cache=cache, cache_update_index=index)

    if keras.backend.backend() == "jax":
        import jax

        step = jax.jit(step)
    elif keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        step = tf.function(step, jit_compile=True)
    prompt_out, cache = layer(
        x[:, :3], x[:, :3], use_causal_mask=True, cache=np.zeros((2, 2, 6, 2, 4), "float32"), cache_update_index=0
    )
    outputs = [to_numpy(prompt_out)]
    for index in range(3, 6):
        out, cache = step(x[:, index : index + 1], cache, keras.ops.convert_to_tensor(index, "int32"))
        outputs.append(to_numpy(out))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)


# -- rotary positions --------------------------------------------------------------


@pytest.mark.parametrize("shift", [1, 7])
def test_rotary_scores_depend_only_on_the_distance_between_positions(shift):
    """The same tokens at positions shift..shift+5 (written into a cache at
    `shift`, the first `shift` slots masked) get the scores they get at 0..5."""
    layer = _layer(num_key_value_heads=2, rotary=True)
    x = _inputs(2, 6, 8)
    _, at_zero = layer(x, x, return_attention_scores=True)
    keys_present = np.array([[False] * shift + [True] * 6] * 2)
    _, shifted, _ = layer(
        x, x, value_mask=keys_present, return_attention_scores=True,
        cache=np.zeros((2, 2, shift + 6, 2, 4), "float32"), cache_update_index=shift,
    )
    np.testing.assert_allclose(to_numpy(shifted)[..., shift:], to_numpy(at_zero), atol=1e-5)
    # ... and positions do matter: the same weights without RoPE score differently.
    no_rope = _layer(num_key_value_heads=2)
    no_rope.set_weights(layer.get_weights())
    _, without = no_rope(x, x, return_attention_scores=True)
    assert np.max(np.abs(to_numpy(without) - to_numpy(at_zero))) > 1e-2


def test_rotary_embedding_dot_products_depend_only_on_the_distance():
    q, k = _inputs(1, 1, 3, 8), _inputs(1, 1, 3, 8)

    def dot(m, n):
        rotated_q = kattn.ops.rotary_embedding(q, np.array([m]))
        rotated_k = kattn.ops.rotary_embedding(k, np.array([n]))
        return np.sum(to_numpy(rotated_q) * to_numpy(rotated_k), axis=-1)  # (1, 1, heads)

    np.testing.assert_allclose(dot(5, 2), dot(105, 102), atol=1e-4)
    np.testing.assert_allclose(dot(0, 0), np.sum(q * k, axis=-1), atol=1e-5)  # position 0: no rotation
    assert not np.allclose(dot(5, 2), dot(5, 3), atol=1e-3)


@pytest.mark.parametrize("shape, positions", [
    ((2, 5, 3, 8), np.arange(5) + 3),  # (B, T, heads, head_dim), positions (T,)
    ((2, 5, 6), np.arange(5)),  # (B, T, D)
    ((2, 5, 3, 8), np.array([[0, 1, 2, 3, 4], [9, 4, 2, 7, 100]])),  # (B, T) positions
])
def test_rotary_embedding_matches_keras_hub(shape, positions):
    keras_hub = require_module("keras_hub", "keras_hub is the reference for RoPE")
    x = _inputs(*shape)
    expected = keras_hub.layers.RotaryEmbedding(max_wavelength=500)(x, positions=positions)
    output = kattn.ops.rotary_embedding(x, positions, max_wavelength=500)
    np.testing.assert_allclose(to_numpy(output), to_numpy(expected), atol=1e-5)


def test_rotary_embedding_angles_stay_float32_for_half_precision_inputs():
    x = _inputs(1, 2, 1, 8)
    expected = to_numpy(kattn.ops.rotary_embedding(x, np.array([4000, 4001])))
    for dtype in ("float16", "bfloat16"):
        output = kattn.ops.rotary_embedding(keras.ops.cast(x, dtype), np.array([4000, 4001]))
        assert keras.backend.standardize_dtype(output.dtype) == dtype
        np.testing.assert_allclose(to_numpy(keras.ops.cast(output, "float32")), expected, atol=5e-2)


# -- errors, the decoder block, saving, mixed precision ----------------------------


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_key_value_heads=3), "`num_key_value_heads` must divide `num_heads`; received num_key_value_heads=3 and num_heads=4"),
    (dict(num_key_value_heads=0), "`num_key_value_heads` must be a positive int; received 0"),
    (dict(key_dim=5, rotary=True), "`rotary=True` needs an even `key_dim`; received key_dim=5"),
])
def test_bad_arguments_raise_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kattn.layers.MultiHeadAttention(**{"num_heads": 4, "key_dim": 4, **kwargs})
    with pytest.raises(ValueError, match="`x` must have an even last axis"):
        kattn.ops.rotary_embedding(_inputs(1, 2, 5), np.arange(2))


def test_decoder_block_gives_both_options_to_self_attention_only():
    block = kattn.layers.TransformerDecoderBlock(4, 16, num_key_value_heads=2, rotary=True)
    block(_inputs(1, 3, 8), _inputs(1, 5, 8))
    assert (block.self_attention.num_key_value_heads, block.self_attention.rotary) == (2, True)
    assert (block.cross_attention_layer.num_key_value_heads, block.cross_attention_layer.rotary) == (4, False)
    assert block.self_attention.key_dense.kernel.shape == (8, 2, 2)
    with pytest.raises(ValueError, match="`num_key_value_heads` must divide `num_heads`"):
        kattn.layers.TransformerDecoderBlock(4, 16, num_key_value_heads=3, cross_attention=False)(_inputs(1, 3, 8))


def test_decoder_only_block_decodes_with_a_grouped_rotary_cache_like_the_full_pass():
    block = kattn.layers.TransformerDecoderBlock(
        4, 16, cross_attention=False, norm_first=True, num_key_value_heads=1, rotary=True
    )
    x = _inputs(2, 5, 8)
    full = to_numpy(block(x))
    cache, steps = np.zeros((2, 2, 5, 1, 2), "float32"), []
    for index in range(5):
        step, cache = block(x[:, index : index + 1], self_attention_cache=cache, self_attention_cache_update_index=index)
        steps.append(to_numpy(step))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_config_round_trips_and_the_saved_model_file_gives_identical_outputs(tmp_path):
    layer = kattn.layers.MultiHeadAttention(4, 4, num_key_value_heads=2, rotary=True, rotary_max_wavelength=500)
    clone = kattn.layers.MultiHeadAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.num_key_value_heads, clone.rotary, clone.rotary_max_wavelength) == (2, True, 500)
    block = kattn.layers.TransformerDecoderBlock(4, 16, cross_attention=False, num_key_value_heads=1, rotary=True)
    assert kattn.layers.TransformerDecoderBlock.from_config(block.get_config()).get_config() == block.get_config()

    inputs = keras.Input((None, 8))
    output, scores = layer(inputs, inputs, use_causal_mask=True, return_attention_scores=True)
    model = keras.Model(inputs, [block(output), scores])
    x = _inputs(2, 5, 8)
    path = os.path.join(tmp_path, "gqa_rope.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    loaded_layer = [w for w in loaded.layers if isinstance(w, kattn.layers.MultiHeadAttention)][0]
    assert (loaded_layer.num_key_value_heads, loaded_layer.rotary, loaded_layer.rotary_max_wavelength) == (2, True, 500)
    for ours, theirs in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 1e-2), ("mixed_bfloat16", 5e-2)])
@pytest.mark.parametrize("path", PATHS)
def test_mixed_precision_with_both_options_stays_close_to_float32(policy, tolerance, path):
    x = _inputs(2, 6, 8)
    mask = np.array([[True] * 6, [True] * 3 + [False] * 3])
    reference = _layer(num_key_value_heads=2, rotary=True)
    keras.mixed_precision.set_global_policy(policy)
    layer = _layer(num_key_value_heads=2, rotary=True)
    layer.set_weights(reference.get_weights())
    with kattn.config.use_attention_implementation(path):
        output = layer(x, x, value_mask=mask, use_causal_mask=True)
        steps, _ = _decode_token_by_token(layer, x, np.zeros((2, 2, 6, 2, 4), "float16"))
        keras.mixed_precision.set_global_policy("float32")
        expected = to_numpy(reference(x, x, value_mask=mask, use_causal_mask=True))
    assert keras.backend.standardize_dtype(output.dtype) == policy.split("_")[1]
    assert np.all(np.isfinite(to_numpy(keras.ops.cast(output, "float32"))))
    np.testing.assert_allclose(to_numpy(keras.ops.cast(output, "float32")), expected, atol=tolerance)
    expected_causal = to_numpy(reference(x, x, use_causal_mask=True))
    np.testing.assert_allclose(steps.astype("float32"), expected_causal, atol=tolerance)
