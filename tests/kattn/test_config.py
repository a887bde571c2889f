"""kattn.config: the attention-path policy and that it really picks the path."""

import keras
import numpy as np
import pytest

import kattn
from kattn import config, ops


def test_default_is_auto_and_auto_means_explicit_on_cpu():
    assert config.attention_implementation() == "auto"
    # The test machines have no accelerator: "auto" resolves to the path that
    # measured faster on CPU (BENCHMARKS.md, section attention (c)).
    assert config.resolved_attention_implementation() == "explicit"


def test_auto_is_fused_only_where_the_backend_has_a_flash_kernel():
    # Keras has no flash kernel on TensorFlow, whatever the device.
    assert config._has_flash_kernel("tensorflow") is False
    assert config._has_flash_kernel("numpy") is False


def test_auto_is_not_decided_while_keras_infers_shapes(monkeypatch):
    # On torch, Keras infers a symbolic call's shapes on the "meta" device.
    # That is no accelerator, and it once decided "auto" for every later call.
    monkeypatch.setattr(config, "_flash_kernel", {})
    x = keras.Input((3, 8))
    kattn.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    assert config.resolved_attention_implementation() == "explicit"


@pytest.mark.parametrize("name", ["fused", "explicit"])
def test_explicit_choices_are_used_as_given(name):
    config.set_attention_implementation(name)
    assert config.attention_implementation() == name
    assert config.resolved_attention_implementation() == name


def test_unknown_name_is_a_value_error_naming_the_argument():
    with pytest.raises(ValueError, match="`name` must be one of .*received 'flash'"):
        config.set_attention_implementation("flash")
    assert config.attention_implementation() == "auto"


def test_context_manager_restores_the_previous_choice_even_on_error():
    config.set_attention_implementation("explicit")
    with pytest.raises(RuntimeError):
        with config.use_attention_implementation("fused"):
            assert config.attention_implementation() == "fused"
            raise RuntimeError("boom")
    assert config.attention_implementation() == "explicit"


def _count_fused_calls(monkeypatch):
    calls = []
    original = keras.ops.dot_product_attention

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", counting)
    return calls


@pytest.mark.parametrize(
    "name, scores, training, fused_expected",
    [
        ("fused", False, False, True),
        ("explicit", False, False, False),
        ("auto", False, False, False),  # CPU
        ("fused", True, False, False),  # weights requested: explicit only
        ("fused", False, True, False),  # dropout active: explicit only
    ],
)
def test_policy_selects_the_path_that_runs(monkeypatch, name, scores, training, fused_expected):
    calls = _count_fused_calls(monkeypatch)
    x = np.random.rand(1, 3, 2, 4).astype("float32")
    with config.use_attention_implementation(name):
        ops.scaled_dot_product_attention(
            x, x, x, dropout_rate=0.1, training=training, return_attention_scores=scores, seed=0
        )
    assert bool(calls) == fused_expected


def test_layers_follow_the_policy(monkeypatch):
    calls = _count_fused_calls(monkeypatch)
    x = np.random.rand(2, 3, 8).astype("float32")
    layer = kattn.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    with config.use_attention_implementation("fused"):
        layer(x, x)
    assert len(calls) == 1
    with config.use_attention_implementation("explicit"):
        layer(x, x)
    assert len(calls) == 1
