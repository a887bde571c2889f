"""The grouped self-attention path of kattn.layers.MultiHeadAttention (one
projection matmul, heads-first math) against the general path and against
keras.layers.MultiHeadAttention, outputs and gradients."""

import keras
import numpy as np
import pytest

import kattn

from tests.conftest import to_numpy

RNG = np.random.default_rng(1)
PATHS = ["explicit", "fused"]


def _layer_pair(**kwargs):
    """Keras's layer and ours with the same weights, built on (2, 6, 16)."""
    theirs = keras.layers.MultiHeadAttention(4, 4, **kwargs)
    theirs.build((2, 6, 16), (2, 6, 16))
    ours = kattn.layers.MultiHeadAttention(4, 4, **kwargs)
    ours.build((2, 6, 16), (2, 6, 16))
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def _x():
    return RNG.normal(size=(2, 6, 16)).astype("float32")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_self_attention_path_equals_the_general_path(path, causal, use_bias):
    _, layer = _layer_pair(use_bias=use_bias)
    x = _x()
    value_mask = np.array([[True] * 6, [True] * 4 + [False] * 2])
    with kattn.config.use_attention_implementation(path):
        grouped = layer(x, x, value_mask=value_mask, use_causal_mask=causal)  # query is value
        general = layer(x, np.array(x), value_mask=value_mask, use_causal_mask=causal)  # a copy
    np.testing.assert_allclose(to_numpy(grouped), to_numpy(general), atol=1e-5)


def test_self_attention_scores_equal_keras_scores():
    theirs, ours = _layer_pair()
    x = _x()
    their_output, their_scores = theirs(x, x, use_causal_mask=True, return_attention_scores=True)
    output, scores = ours(x, x, use_causal_mask=True, return_attention_scores=True)
    np.testing.assert_allclose(to_numpy(scores), to_numpy(their_scores), atol=1e-6)
    np.testing.assert_allclose(to_numpy(output), to_numpy(their_output), atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="uses tf.GradientTape")
@pytest.mark.parametrize("causal", [False, True])
def test_gradients_equal_keras_gradients(causal):
    import tensorflow as tf

    theirs, ours = _layer_pair()
    x = tf.constant(_x())

    def gradients(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, x, use_causal_mask=causal) ** 2)
        return tape.gradient(loss, [x] + layer.trainable_variables)

    for got, expected, name in zip(gradients(ours), gradients(theirs), ["input"] + [v.path for v in ours.trainable_variables]):
        np.testing.assert_allclose(to_numpy(got), to_numpy(expected), atol=1e-4, err_msg=name)


def test_self_attention_path_adds_no_weights():
    _, ours = _layer_pair()
    x = _x()
    before = [w.path for w in ours.weights]
    ours(x, x)
    assert [w.path for w in ours.weights] == before
    assert [w.path.split("/", 1)[1] for w in ours.weights] == [
        "query/kernel", "query/bias", "key/kernel", "key/bias",
        "value/kernel", "value/bias", "attention_output/kernel", "attention_output/bias",
    ]


def test_dropout_on_the_self_attention_path_is_active_only_while_training():
    layer = kattn.layers.MultiHeadAttention(4, 4, dropout=0.5)
    x = _x()
    inference = [to_numpy(layer(x, x, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.allclose(to_numpy(layer(x, x, training=True)), inference[0])


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_self_attention_path_computes_in_half_precision(policy):
    x = _x()
    reference = kattn.layers.MultiHeadAttention(4, 4)
    expected = reference(x, x, use_causal_mask=True)
    keras.mixed_precision.set_global_policy(policy)
    layer = kattn.layers.MultiHeadAttention(4, 4)
    layer.build(x.shape, x.shape)
    layer.set_weights(reference.get_weights())
    output = layer(x, x, use_causal_mask=True)
    assert keras.backend.standardize_dtype(output.dtype) == policy.split("_")[1]
    np.testing.assert_allclose(to_numpy(keras.ops.cast(output, "float32")), to_numpy(expected), atol=5e-2)


def test_self_attention_in_a_functional_model_with_unknown_length():
    inputs = keras.Input((None, 16))
    outputs = kattn.layers.MultiHeadAttention(4, 4)(inputs, inputs, use_causal_mask=True)
    model = keras.Model(inputs, outputs)
    for length in (3, 7):
        assert model.predict(RNG.normal(size=(2, length, 16)), verbose=0).shape == (2, length, 16)
