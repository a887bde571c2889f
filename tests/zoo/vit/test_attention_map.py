"""Class-token relevance maps from attention rollout."""

import numpy as np

from tests.conftest import to_numpy
from zoo.vit import ViT
from zoo.vit.attention_map import class_token_relevance, save_figure


def test_relevance_is_the_class_token_row_of_a_numpy_rollout(tmp_path):
    model = ViT(8, 4, num_layers=2, num_heads=2, hidden_dim=8, mlp_dim=16, num_classes=3,
                channels=1, class_names=["a", "b", "c"])
    images = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 1)).astype("float32")
    relevance = class_token_relevance(model, images)
    assert relevance.shape == (2, 2, 2)

    # Independent reference: Abnar & Zuidema's recursion written out here.
    scores = [to_numpy(s) for s in model.features(images, return_attention_scores=True)["attention_scores"]]
    rollout = np.eye(5)[None]
    for layer in scores:
        mixed = layer.mean(axis=1) + np.eye(5)
        mixed /= mixed.sum(-1, keepdims=True)
        rollout = mixed @ rollout
    np.testing.assert_allclose(relevance, rollout[:, 0, 1:].reshape(2, 2, 2), atol=1e-5)
    assert np.all(relevance > 0) and np.all(relevance.sum(axis=(1, 2)) < 1)

    path = save_figure(model, images, [0, 2], str(tmp_path / "map.png"))
    assert (tmp_path / "map.png").stat().st_size > 1000 and path.endswith("map.png")
