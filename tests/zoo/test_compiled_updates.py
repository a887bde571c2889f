"""zoo.compiled_updates: the optimizer's update as one XLA computation gives
the plain update's weights, and only runs where it should."""

import keras
import numpy as np
import pytest

from kattn import config
from zoo import compiled_updates
from zoo.compiled_updates import compile_updates

ON_TF = keras.backend.backend() == "tensorflow"


def _model():
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    embedded = keras.layers.Embedding(20, 4)(keras.ops.cast(inputs[:, :2] * 0 + 3, "int32"))
    outputs = keras.layers.Dense(3)(keras.layers.Concatenate()([hidden, keras.layers.Flatten()(embedded)]))
    return keras.Model(inputs, outputs)


def _fit(optimizer, steps=3):
    keras.utils.set_random_seed(0)
    model = _model()
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 3, 32)
    model.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)
    return model


@pytest.fixture
def any_size(monkeypatch):
    """Let the tiny test model compile its updates (real ones are >= 1M weights)."""
    monkeypatch.setattr(compiled_updates, "MIN_WEIGHTS", 1)


@pytest.mark.skipif(not ON_TF, reason="XLA-compiled updates are TensorFlow-only")
@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.AdamW(1e-2, weight_decay=0.01),
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-2, 10), clipnorm=1.0),
    lambda: keras.optimizers.SGD(0.1, momentum=0.9),
], ids=["adamw", "adam-schedule-clipnorm", "sgd-momentum"])
def test_compiled_updates_give_the_plain_updates_weights(make, any_size):
    compiled = compile_updates(make())
    trained = _fit(compiled)
    assert compiled._compiled_apply is not None  # the compiled path ran
    plain = _fit(make())
    assert int(compiled.iterations.numpy()) == int(plain.optimizer.iterations.numpy()) == 3
    for a, b in zip(trained.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(trained.get_weights()[0], _model().get_weights()[0])  # it trained


@pytest.mark.skipif(not ON_TF, reason="XLA-compiled updates are TensorFlow-only")
def test_small_models_eager_calls_and_off_keep_the_plain_update(any_size, monkeypatch):
    monkeypatch.setattr(compiled_updates, "MIN_WEIGHTS", 10**9)
    small = compile_updates(keras.optimizers.Adam(1e-2))
    _fit(small)
    assert small._compiled_apply is None  # too few weights
    monkeypatch.setattr(compiled_updates, "MIN_WEIGHTS", 1)
    off = compile_updates(keras.optimizers.Adam(1e-2))
    config.set_block_compilation("off")
    try:
        _fit(off)
    finally:
        config.set_block_compilation("auto")
    assert off._compiled_apply is None  # turned off
    eager = compile_updates(keras.optimizers.Adam(1e-2))
    weight = keras.Variable(np.ones((3,), "float32"))
    eager.apply([keras.ops.ones((3,))], [weight])
    assert eager._compiled_apply is None
    assert float(weight.numpy()[0]) < 1.0
    again = eager.apply
    assert compile_updates(eager) is eager and eager.apply is again  # not wrapped twice


@pytest.mark.skipif(not ON_TF, reason="XLA-compiled updates are TensorFlow-only")
def test_a_whole_step_under_jit_compile_is_not_compiled_again(any_size):
    optimizer = compile_updates(keras.optimizers.Adam(1e-2))
    keras.utils.set_random_seed(0)
    model = _model()
    model.compile(optimizer, keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    x, y = np.ones((8, 6), "float32"), np.zeros((8,), "int32")
    model.fit(x, y, epochs=2, verbose=0)
    assert optimizer._compiled_apply is None
    assert int(optimizer.iterations.numpy()) == 2


@pytest.mark.skipif(not ON_TF, reason="XLA-compiled updates are TensorFlow-only")
def test_mixed_float16_loss_scaling_trains_through_the_compiled_update(any_size):
    from zoo.bert import BertBackbone, BertClassifier

    keras.config.set_dtype_policy("mixed_float16")
    try:
        keras.utils.set_random_seed(0)
        backbone = BertBackbone(30, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16,
                                max_sequence_length=8)
        model = BertClassifier(backbone, num_classes=2)
        model.compile(optimizer=keras.optimizers.AdamW(1e-2))
    finally:
        keras.config.set_dtype_policy("float32")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    inputs = {"token_ids": np.tile(np.arange(2, 10), (4, 1)).astype("int32"),
              "segment_ids": np.zeros((4, 8), "int32"), "padding_mask": np.ones((4, 8), bool)}
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(inputs, np.array([0, 1, 0, 1]), epochs=3, verbose=0)
    assert model.optimizer._compiled_apply is not None
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))


def test_zoo_models_compile_their_updates():
    from zoo.bert import BertBackbone, BertPretrainer

    model = BertPretrainer(BertBackbone(30, num_layers=1, num_heads=2, hidden_dim=8, intermediate_dim=16))
    model.compile()
    assert model.optimizer._plain_apply is not None
