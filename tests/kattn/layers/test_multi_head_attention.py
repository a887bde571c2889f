"""kattn.layers.MultiHeadAttention against keras.layers.MultiHeadAttention
(same weights), its masks, its key/value cache, saving and mixed precision."""

import os
import warnings

import keras
import numpy as np
import pytest

import kattn
from kattn import checks

from tests.conftest import to_numpy

RNG = np.random.default_rng(0)
PATHS = ["explicit", "fused"]


def _inputs(*shape):
    return RNG.normal(size=shape).astype("float32")


def _pair(num_heads=2, key_dim=4, query_shape=(2, 5, 8), value_shape=None, key_shape=None, **kwargs):
    """Keras's layer and ours, built on the same shapes, with the same weights."""
    value_shape = value_shape or query_shape
    their_kwargs = dict(kwargs)
    if "output_dim" in their_kwargs:  # Keras calls it output_shape
        their_kwargs["output_shape"] = their_kwargs.pop("output_dim")
    theirs = keras.layers.MultiHeadAttention(num_heads, key_dim, **their_kwargs)
    theirs.build(query_shape, value_shape, key_shape)
    ours = kattn.layers.MultiHeadAttention(num_heads, key_dim, **kwargs)
    ours.build(query_shape, value_shape, key_shape)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _compiled(function):
    """`function` compiled by the backend (XLA on TensorFlow, jit on JAX)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(function, jit_compile=True)
    if backend == "jax":
        import jax

        return jax.jit(function)
    return function


# -- parity with keras.layers.MultiHeadAttention ---------------------------------

PARITY_CASES = {
    "self": dict(),
    "cross, key != value": dict(query_shape=(2, 3, 8), value_shape=(2, 6, 5), key_shape=(2, 6, 7)),
    "value_dim and output_dim": dict(value_dim=3, output_dim=6),
    "no bias": dict(use_bias=False),
    "causal": dict(call=dict(use_causal_mask=True)),
    "causal cross": dict(query_shape=(2, 4, 8), value_shape=(2, 6, 8), call=dict(use_causal_mask=True)),
    "attention_mask": dict(masks=("attention",)),
    "padding masks": dict(query_shape=(2, 4, 8), value_shape=(2, 6, 8), masks=("query", "value")),
    "all masks and causal": dict(masks=("query", "value", "attention"), call=dict(use_causal_mask=True)),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(PARITY_CASES.values()), ids=list(PARITY_CASES))
def test_matches_keras_multi_head_attention_with_the_same_weights(case, path):
    case = dict(case)
    call = case.pop("call", {})
    masks = case.pop("masks", ())
    theirs, ours = _pair(**case)
    query_shape = case.get("query_shape", (2, 5, 8))
    value_shape = case.get("value_shape") or query_shape
    key_shape = case.get("key_shape")
    query, value = _inputs(*query_shape), _inputs(*value_shape)
    key = None if key_shape is None else _inputs(*key_shape)
    batch, query_length, key_length = query_shape[0], query_shape[1], value_shape[1]

    our_masks = {}
    attention_mask = np.ones((batch, query_length, key_length), bool)
    if "query" in masks:
        our_masks["query_mask"] = np.array([[True] * (query_length - 1) + [False], [True] * query_length])
        attention_mask &= our_masks["query_mask"][:, :, None]
    if "value" in masks:
        our_masks["value_mask"] = np.array([[True] * key_length, [True] * 2 + [False] * (key_length - 2)])
        attention_mask &= our_masks["value_mask"][:, None, :]
    if "attention" in masks:
        our_masks["attention_mask"] = RNG.random((batch, query_length, key_length)) > 0.3
        our_masks["attention_mask"][0, 1] = False  # a fully masked query row
        attention_mask &= our_masks["attention_mask"]
    # Keras reads the query mask only from the tensor's Keras mask, so it gets
    # the merged mask as `attention_mask`. Asking for its scores selects its
    # explicit path, where a fully masked row gets zero weights, as ours does.
    their_output, their_scores = theirs(
        query, value, key, attention_mask=attention_mask if masks else None,
        return_attention_scores=True, **call,
    )
    with kattn.config.use_attention_implementation(path):
        output = ours(query, value, key, **our_masks, **call)
        output_again, scores = ours(query, value, key, return_attention_scores=True, **our_masks, **call)

    assert np.max(np.abs(to_numpy(output) - to_numpy(their_output))) <= 1e-5
    assert np.max(np.abs(to_numpy(output_again) - to_numpy(their_output))) <= 1e-5
    assert np.max(np.abs(to_numpy(scores) - to_numpy(their_scores))) <= 1e-5
    assert scores.shape == (batch, 2, query_length, key_length)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("causal", [False, True])
def test_one_training_step_matches_keras_so_the_gradients_do(path, causal):
    """The same SGD step (learning rate 1) on both layers leaves the same
    weights, on any backend: every weight's gradient equals Keras'."""
    theirs, ours = _pair(query_shape=(2, 6, 8))
    x, target = _inputs(2, 6, 8), _inputs(2, 6, 8)
    mask = np.array([[True] * 6, [True] * 4 + [False] * 2])
    weights_after = []
    for layer in (theirs, ours):
        inputs, keys_present = keras.Input((6, 8)), keras.Input((6,), dtype="bool")
        if layer is theirs:
            masks = {"attention_mask": keras.ops.expand_dims(keys_present, 1)}  # (B, 1, Tk)
        else:
            masks = {"value_mask": keys_present}
        outputs = layer(inputs, inputs, use_causal_mask=causal, **masks)
        model = keras.Model([inputs, keys_present], outputs)
        model.compile(keras.optimizers.SGD(1.0), "mse")
        with kattn.config.use_attention_implementation(path):
            model.train_on_batch([x, mask], target)
        weights_after.append(layer.get_weights())
    for theirs_after, ours_after in zip(*weights_after):
        np.testing.assert_allclose(ours_after, theirs_after, atol=1e-5)
    assert not np.allclose(weights_after[1][0], _pair(query_shape=(2, 6, 8))[0].get_weights()[0])


def test_in_a_functional_model_with_unknown_length():
    inputs = keras.Input((None, 8))
    outputs = kattn.layers.MultiHeadAttention(2, 4)(inputs, inputs, use_causal_mask=True)
    model = keras.Model(inputs, outputs)
    for length in (3, 7):
        assert model.predict(_inputs(2, length, 8), verbose=0).shape == (2, length, 8)


def test_weights_have_keras_names_shapes_and_order():
    theirs, ours = _pair(value_dim=3, output_dim=6)
    assert [w.shape for w in ours.weights] == [w.shape for w in theirs.weights]
    assert [w.path.split("/", 1)[1] for w in ours.weights] == [w.path.split("/", 1)[1] for w in theirs.weights]


def test_keras_implicit_masks_are_used_like_keras_does():
    """Embedding(mask_zero=True) -> MHA: Keras fills query_mask / value_mask."""
    ids = np.array([[4, 9, 2, 0, 0], [7, 0, 0, 0, 0]])
    tokens = keras.Input((None,), dtype="int32")
    embedded = keras.layers.Embedding(12, 8, mask_zero=True)(tokens)
    theirs = keras.layers.MultiHeadAttention(2, 4)
    ours = kattn.layers.MultiHeadAttention(2, 4)
    their_model = keras.Model(tokens, theirs(embedded, embedded, return_attention_scores=True)[0])
    our_model = keras.Model(tokens, ours(embedded, embedded))
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(our_model.predict(ids, verbose=0), their_model.predict(ids, verbose=0), atol=1e-5)


def test_padding_does_not_change_what_real_tokens_see_and_the_mask_flows_on():
    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(12, 8, mask_zero=True)(tokens)
    x = kattn.layers.MultiHeadAttention(2, 4)(x, x)
    assert checks.keras_mask(x) is not None  # the query's mask, for the next layer
    pooled = kattn.layers.AttentionPooling()(x)
    model = keras.Model(tokens, pooled)
    short = model.predict(np.array([[4, 9, 2]]), verbose=0)
    padded = model.predict(np.array([[4, 9, 2, 0, 0, 0]]), verbose=0)
    np.testing.assert_allclose(padded, short, atol=1e-5)


def test_the_input_keeps_its_keras_mask():
    x = keras.ops.convert_to_tensor(_inputs(2, 3, 8))
    mask = keras.ops.convert_to_tensor(np.array([[True, True, False], [True, False, False]]))
    checks.set_keras_mask(x, mask)
    kattn.layers.MultiHeadAttention(2, 4)(x, x)
    assert checks.keras_mask(x) is mask


def test_model_fit_with_masked_inputs_prints_no_warnings():
    ids = RNG.integers(1, 20, size=(16, 6))
    ids[::2, 3:] = 0
    labels = RNG.integers(0, 2, size=(16,))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tokens = keras.Input((None,), dtype="int32")
        x = keras.layers.Embedding(20, 8, mask_zero=True)(tokens)
        y = kattn.layers.MultiHeadAttention(2, 4, dropout=0.1)(x, x, use_causal_mask=True)
        x = keras.layers.LayerNormalization()(keras.layers.Add()([x, y]))
        x = kattn.layers.AttentionPooling()(x)
        model = keras.Model(tokens, keras.layers.Dense(2)(x))
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(ids, labels, batch_size=8, epochs=1, verbose=0)
        model.evaluate(ids, labels, verbose=0)
    messages = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    assert messages == []


# -- properties ------------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
def test_self_attention_is_permutation_equivariant(path):
    layer = kattn.layers.MultiHeadAttention(2, 4)
    x = _inputs(2, 6, 8)
    permutation = RNG.permutation(6)
    with kattn.config.use_attention_implementation(path):
        out = to_numpy(layer(x, x))
        out_permuted = to_numpy(layer(x[:, permutation], x[:, permutation]))
    np.testing.assert_allclose(out_permuted, out[:, permutation], atol=1e-5)


@pytest.mark.parametrize("path", PATHS)
def test_causal_output_at_t_ignores_later_tokens(path):
    layer = kattn.layers.MultiHeadAttention(2, 4)
    x = _inputs(2, 6, 8)
    changed = x.copy()
    changed[:, 4:] = 50.0
    with kattn.config.use_attention_implementation(path):
        before = to_numpy(layer(x, x, use_causal_mask=True))
        after = to_numpy(layer(changed, changed, use_causal_mask=True))
    np.testing.assert_allclose(after[:, :4], before[:, :4], atol=1e-5)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_masked_keys_get_zero_weight_and_fully_masked_rows_zero_output(policy):
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.MultiHeadAttention(2, 4, use_bias=False)
    x = _inputs(2, 4, 8)
    value_mask = np.array([[True, True, False, True], [False, False, False, False]])
    output, scores = layer(x, x, value_mask=value_mask, return_attention_scores=True)
    output = to_numpy(keras.ops.cast(output, "float32"))
    scores = to_numpy(keras.ops.cast(scores, "float32"))  # (B, H, Tq, Tk)
    assert not np.isnan(output).any() and not np.isnan(scores).any()
    assert np.all(scores[0, :, :, 2] == 0.0)
    np.testing.assert_allclose(scores[0].sum(-1), 1.0, atol=1e-2)
    assert np.all(scores[1] == 0.0) and np.all(output[1] == 0.0)  # no bias: zeros


# -- key/value cache ---------------------------------------------------------------


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("causal", [True, False], ids=["causal", "unwritten-positions-masked"])
def test_decoding_one_token_at_a_time_equals_the_full_causal_pass(path, causal):
    layer = kattn.layers.MultiHeadAttention(2, 4)
    x = _inputs(2, 6, 8)
    with kattn.config.use_attention_implementation(path):
        full = to_numpy(layer(x, x, use_causal_mask=True))
        cache = np.zeros((2, 2, 6, 2, 4), "float32")
        steps = []
        for index in range(6):
            token = x[:, index : index + 1]
            step, cache = layer(token, token, use_causal_mask=causal, cache=cache, cache_update_index=index)
            steps.append(to_numpy(step))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # The cache now holds every key and value, as the full pass computed them.
    keys = to_numpy(layer.key_dense(x))
    np.testing.assert_allclose(to_numpy(cache)[:, 0], keys, atol=1e-6)


def test_prefill_a_prompt_then_decode_with_a_tensor_index_in_a_compiled_function():
    layer = kattn.layers.MultiHeadAttention(2, 4)
    x = _inputs(2, 6, 8)
    full = to_numpy(layer(x, x, use_causal_mask=True))

    def step(token, cache, index):
        return layer(token, token, use_causal_mask=True, cache=cache, cache_update_index=index)

    compiled = _compiled(step)
    prompt_out, cache = layer(
        x[:, :3], x[:, :3], use_causal_mask=True, cache=np.zeros((2, 2, 6, 2, 4), "float32"), cache_update_index=0
    )
    outputs = [to_numpy(prompt_out)]
    for index in range(3, 6):
        out, cache = compiled(x[:, index : index + 1], cache, keras.ops.convert_to_tensor(index, "int32"))
        outputs.append(to_numpy(out))
    np.testing.assert_allclose(np.concatenate(outputs, axis=1), full, atol=1e-5)


def test_precomputed_cross_attention_cache_equals_normal_cross_attention():
    layer = kattn.layers.MultiHeadAttention(2, 4)
    decoder_states, encoder_states = _inputs(2, 3, 8), _inputs(2, 7, 8)
    expected = to_numpy(layer(decoder_states, encoder_states))
    cache = keras.ops.stack(
        [layer.key_dense(encoder_states), layer.value_dense(encoder_states)], axis=1
    )  # (B, 2, Tk, H, key_dim)
    output, same_cache = layer(decoder_states, encoder_states, cache=cache)
    np.testing.assert_allclose(to_numpy(output), expected, atol=1e-5)
    np.testing.assert_array_equal(to_numpy(same_cache), to_numpy(cache))


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(num_heads=0, key_dim=4), "`num_heads` must be a positive int; received 0"),
        (dict(num_heads=2, key_dim=2.5), "`key_dim` must be a positive int; received 2.5"),
        (dict(num_heads=2, key_dim=4, value_dim=-1), "`value_dim`"),
        (dict(num_heads=2, key_dim=4, dropout=1.5), "`dropout` must be in \\[0, 1\\)"),
    ],
)
def test_bad_constructor_arguments_raise_value_errors_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kattn.layers.MultiHeadAttention(**kwargs)


@pytest.mark.parametrize(
    "call, message",
    [
        (dict(query=(2, 5, 8), value=(3, 5, 8)), "`query` and `value` must have the same batch size; received 2 and 3"),
        (dict(query=(2, 5, 6), value=(2, 5, 8)), "`query` and `query projection input` must have the same feature size"),
        (dict(query=(2, 5, 8), value=(2, 5, 8), key=(2, 4, 8)), "`key` and `value` must have the same length"),
        (dict(query=(2, 8), value=(2, 5, 8)), "`query` must have shape \\(batch, length, features\\); received shape \\(2, 8\\)"),
        (dict(query=(2, 5, 8), value=(2, 5, 8), query_mask=(2, 4)), "`query_mask` must have shape \\(2, 5\\); received shape \\(2, 4\\)"),
        (dict(query=(2, 5, 8), value=(2, 5, 8), value_mask=(5,)), "`value_mask` must have shape \\(2, 5\\)"),
        (dict(query=(2, 5, 8), value=(2, 5, 8), attention_mask=(2, 5, 4)), "`attention_mask` must have shape \\(2, 5, 5\\)"),
        (dict(query=(2, 1, 8), value=(2, 1, 8), cache=(2, 2, 6, 3, 4)), "`cache` must have shape \\(2, 2, \\?, 2, 4\\); received shape \\(2, 2, 6, 3, 4\\)"),
        (dict(query=(2, 1, 8), value=(2, 1, 8), cache_update_index=0), "`cache_update_index` was given without a `cache`"),
    ],
    ids=["batch", "features", "key length", "rank", "query_mask", "value_mask", "attention_mask", "cache", "index"],
)
def test_bad_inputs_raise_value_errors_naming_the_argument(call, message):
    layer = kattn.layers.MultiHeadAttention(2, 4)
    layer.build((2, 5, 8), (2, 5, 8))
    arguments = {}
    for name, value in call.items():
        if name == "cache_update_index":
            arguments[name] = value
        elif name.endswith("mask"):
            arguments[name] = np.ones(value, bool)
        else:
            arguments[name] = _inputs(*value)
    with pytest.raises(ValueError, match=message):
        layer(**arguments)


def test_cache_needs_value_dim_equal_to_key_dim():
    layer = kattn.layers.MultiHeadAttention(2, 4, value_dim=3)
    x = _inputs(2, 1, 8)
    layer(x, x)
    with pytest.raises(ValueError, match="`cache` needs `value_dim == key_dim`"):
        layer(x, x, cache=np.zeros((2, 2, 5, 2, 4), "float32"), cache_update_index=0)


# -- dropout, saving, mixed precision ------------------------------------------------


def test_dropout_is_active_only_while_training():
    layer = kattn.layers.MultiHeadAttention(2, 4, dropout=0.5)
    x = _inputs(2, 5, 8)
    inference = [to_numpy(layer(x, x, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.allclose(to_numpy(layer(x, x, training=True)), inference[0])


def test_config_round_trip_keeps_every_argument():
    layer = kattn.layers.MultiHeadAttention(
        3, 5, value_dim=2, dropout=0.25, use_bias=False, output_dim=7,
        kernel_initializer="he_normal", bias_initializer="ones", name="mha",
    )
    clone = kattn.layers.MultiHeadAttention.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.num_heads, clone.key_dim, clone.value_dim, clone.output_dim) == (3, 5, 2, 7)


def test_saved_model_file_round_trips_with_identical_outputs(tmp_path):
    query, value = keras.Input((None, 8)), keras.Input((None, 6))
    output, scores = kattn.layers.MultiHeadAttention(2, 4, value_dim=3, output_dim=5)(
        query, value, use_causal_mask=True, return_attention_scores=True
    )
    model = keras.Model([query, value], [output, scores])
    inputs = [_inputs(2, 4, 8), _inputs(2, 4, 6)]
    path = os.path.join(tmp_path, "x.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.layers[-1], kattn.layers.MultiHeadAttention)
    for ours, theirs in zip(model.predict(inputs, verbose=0), loaded.predict(inputs, verbose=0)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("policy, tolerance", [("mixed_float16", 1e-2), ("mixed_bfloat16", 5e-2)])
@pytest.mark.parametrize("path", PATHS)
def test_mixed_precision_computes_in_half_and_stays_close_to_float32(policy, tolerance, path):
    x = _inputs(2, 5, 8)
    mask = np.array([[True] * 5, [True] * 3 + [False] * 2])
    reference = kattn.layers.MultiHeadAttention(2, 4)
    reference.build(x.shape, x.shape)
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.MultiHeadAttention(2, 4)
    layer.build(x.shape, x.shape)
    layer.set_weights(reference.get_weights())
    with kattn.config.use_attention_implementation(path):
        output = layer(x, x, value_mask=mask, use_causal_mask=True)
        keras.mixed_precision.set_global_policy("float32")
        expected = reference(x, x, value_mask=mask, use_causal_mask=True)
    assert keras.backend.standardize_dtype(output.dtype) == policy.split("_")[1]
    assert layer.variable_dtype == "float32"
    np.testing.assert_allclose(to_numpy(keras.ops.cast(output, "float32")), to_numpy(expected), atol=tolerance)
