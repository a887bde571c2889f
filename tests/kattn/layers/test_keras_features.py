"""Keras features that live in the sub-layers work on kattn's attention,
because `MultiHeadAttention` calls its `EinsumDense` sub-layers: int8
quantization and LoRA."""

import keras
import numpy as np
import pytest

import kattn

from tests.conftest import to_numpy

RNG = np.random.default_rng(0)


def _trained_model(make_layer):
    """A small sequence regressor trained a few steps on random data."""
    inputs = keras.Input((12, 32))
    x = make_layer()(inputs)
    outputs = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-3), "mse")
    x_train = RNG.normal(size=(64, 12, 32)).astype("float32")
    y_train = RNG.normal(size=(64, 4)).astype("float32")
    model.fit(x_train, y_train, batch_size=16, epochs=2, verbose=0)
    return model, x_train[:16]


class _SelfAttention(keras.layers.Layer):
    """kattn's MultiHeadAttention as self-attention with a residual."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = kattn.layers.MultiHeadAttention(num_heads=4, key_dim=8)

    def call(self, x):
        return x + self.attention(x, x)


LAYERS = {
    "multi_head_attention": _SelfAttention,
    "encoder_block": lambda: kattn.layers.TransformerEncoderBlock(num_heads=4, intermediate_dim=64),
}


@pytest.mark.parametrize("make_layer", list(LAYERS.values()), ids=list(LAYERS))
def test_int8_quantized_model_stays_within_5_percent_of_float(make_layer):
    model, x = _trained_model(make_layer)
    expected = to_numpy(model(x))
    model.quantize("int8")
    int8_kernels = [v.path for v in model.weights if keras.backend.standardize_dtype(v.dtype) == "int8"]
    for name in ("query", "key", "value", "attention_output"):  # the projections were quantized
        assert any(f"/{name}/kernel" in path for path in int8_kernels), int8_kernels
    got = to_numpy(model(x))
    relative_error = np.linalg.norm(got - expected) / np.linalg.norm(expected)
    assert relative_error < 0.05, relative_error


def test_enable_lora_on_the_attention_sub_layers_trains_only_the_lora_weights():
    attention = kattn.layers.MultiHeadAttention(num_heads=4, key_dim=8, use_bias=False)
    inputs = keras.Input((12, 32))
    model = keras.Model(inputs, attention(inputs, inputs))
    x = RNG.normal(size=(32, 12, 32)).astype("float32")
    y = RNG.normal(size=(32, 12, 32)).astype("float32")
    before = to_numpy(model(x))
    sub_layers = (attention.query_dense, attention.key_dense, attention.value_dense, attention.output_dense)
    for dense in sub_layers:
        dense.enable_lora(4)
    trainable = sorted(v.path.rsplit("/", 1)[-1] for v in model.trainable_weights)
    assert trainable == ["lora_kernel_a"] * 4 + ["lora_kernel_b"] * 4
    np.testing.assert_allclose(to_numpy(model(x)), before, atol=1e-6)  # B starts at zero

    kernels = [to_numpy(dense._kernel) for dense in sub_layers]
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    for dense, kernel in zip(sub_layers, kernels):
        np.testing.assert_array_equal(to_numpy(dense._kernel), kernel)  # frozen
        assert np.abs(to_numpy(dense.lora_kernel_b)).max() > 0  # trained
    assert not np.allclose(to_numpy(model(x)), before, atol=1e-4)  # the adapters are used
