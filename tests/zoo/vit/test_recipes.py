"""ViT recipes through `zoo.training.train`, the learning-rate schedule, the shipped preset."""

import math
import os

import keras
import numpy as np
import pytest

import zoo
from tests.conftest import to_numpy
from zoo import recipes, training
from zoo.vit import augment, data
from zoo.vit import recipes as vit_recipes
from zoo.vit import training as vit_training


def test_recipes_are_registered():
    assert {"vit-digits", "vit-fashion-mnist", "vit-cifar10"} <= set(recipes.names())
    assert recipes.get("vit-digits").preset == "vit-tiny-digits"


def test_quick_digits_recipe_trains_saves_and_loads(tmp_path):
    result = training.train(
        "vit-digits", recipes.Options(quick=True, jit=False), output=str(tmp_path / "preset"),
        workdir=str(tmp_path / "work"), verbose=0,
    )
    assert 0.0 <= result.metrics["accuracy"] <= 1.0
    _, (x_test, y_test) = data.load_digits()
    # Digits are also scored on probabilities averaged over the 9 one-pixel shifts.
    quick_test = vit_recipes.QUICK["test"]
    averaged = augment.predict_with_shifts(result.model, x_test[:quick_test], max_shift=1)
    expected = np.mean(np.argmax(averaged, axis=-1) == y_test[:quick_test])
    assert result.metrics["shift_averaged_accuracy"] == pytest.approx(expected)
    restored = zoo.load(str(tmp_path / "preset"))
    np.testing.assert_allclose(
        restored.predict(x_test[:8], verbose=0), result.model.predict(x_test[:8], verbose=0), atol=1e-6
    )
    assert restored.class_names == [str(i) for i in range(10)]


def tiny_classifier():
    """The schedule does not care about the model: a softmax regression will do."""
    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))


def test_warmup_cosine_follows_the_formula_and_time_budget_stops():
    model = tiny_classifier()
    vit_training.compile_classifier(model, learning_rate=1.0, jit_compile=False)
    schedule = vit_training.WarmupCosine(1.0, warmup_steps=2, total_steps=6)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: seen.append(float(model.optimizer.learning_rate))
    )
    x, y = np.zeros((6, 2)), np.eye(2)[np.arange(6) % 2]
    model.fit(x, y, batch_size=1, epochs=1, callbacks=[schedule, record], verbose=0)
    expected = [0.5, 1.0] + [0.5 * (1 + math.cos(math.pi * k / 4)) for k in range(4)]
    np.testing.assert_allclose(seen, expected, atol=1e-6)

    budget = vit_training.WarmupCosine(1e-3, warmup_steps=1, seconds=1e-6)
    history = model.fit(x, y, batch_size=1, epochs=50, callbacks=[budget], verbose=0)
    assert len(history.epoch) == 1 and budget.step == 1  # stopped after one batch

    with pytest.raises(ValueError, match="exactly one of `total_steps` and `seconds`"):
        vit_training.WarmupCosine(1.0, 1)


PRESET = os.path.join(os.path.dirname(zoo.__file__), "presets", "vit-tiny-digits")


@pytest.mark.skipif(not os.path.isdir(PRESET), reason="preset not trained yet (python -m bench vit)")
def test_shipped_digits_preset_classifies_raw_digits():
    size = sum(os.path.getsize(os.path.join(root, name))
               for root, _, names in os.walk(PRESET) for name in names)
    assert size < 10 * 1024 * 1024
    assert os.path.exists(os.path.join(PRESET, "README.md"))
    model = zoo.load("vit-tiny-digits")
    _, (x_test, y_test) = data.load_digits()
    probabilities = model.predict(x_test, verbose=0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.mean(np.argmax(probabilities, axis=-1) == y_test) >= 0.95
    assert model.classify(x_test[:3]) == [str(int(i)) for i in np.argmax(probabilities[:3], -1)]
    assert to_numpy(model.features(x_test[:1])["pooled_output"]).shape == (1, model.hidden_dim)


def test_shipped_digits_preset_takes_scikit_learn_digits_as_they_come():
    """The card's contract: pixels 0..16 as `sklearn.datasets.load_digits().images`,
    with or without a channel axis; 0..255 images are refused, not misread."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels = digits.images[-300:], digits.target[-300:]  # float64, 0..16, (300, 8, 8)
    model = zoo.load("vit-tiny-digits")
    for x in (images, images[..., None]):
        accuracy = np.mean(np.argmax(model.predict(x, verbose=0), axis=-1) == labels)
        assert accuracy >= 0.99, (x.shape, accuracy)
    assert model.classify(images[:5]) == [str(i) for i in labels[:5]]
    with pytest.raises(ValueError, match=r"pixel values in 0\.\.16, the range this model was trained on; "
                                         r"received values in 0\.\.255"):
        model.predict(np.round(images * 255 / 16), verbose=0)
    card = open(os.path.join(PRESET, "README.md"), encoding="utf-8").read()
    assert "pixel values in 0..16" in card and "`(N, 8, 8)`" in card
