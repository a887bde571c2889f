"""One training step on 2 logical CPU devices vs on 1 device (a subprocess).

Run by tests/zoo/test_distribution.py as
    KERAS_BACKEND=tensorflow python tests/zoo/distributed_step.py
    KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 python tests/zoo/distributed_step.py
It prints one JSON line: the number of replicas, the largest difference between
the two runs' updated weights, and how far the step moved the weights.
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
    # Must run before TensorFlow initialises its devices.
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )

import keras  # noqa: E402
import numpy as np  # noqa: E402

from zoo import training  # noqa: E402
from zoo.classifier import EncoderClassifier, data  # noqa: E402

GLOBAL_BATCH = 8


def replicas():
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.distribute.get_strategy().num_replicas_in_sync
    distribution = keras.distribution.distribution()
    return 1 if distribution is None else int(np.size(distribution.device_mesh.devices))


def one_step(strategy, initial_weights, x, y):
    """Updated weights after one SGD step on the global batch (x, y)."""
    with training.distribution_scope(strategy):
        model = EncoderClassifier(
            list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS),
            sequence_length=12, embedding_dim=8, intermediate_dim=16,
        )
        model.set_weights(initial_weights)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
        count = replicas()
    return [np.asarray(w) for w in model.get_weights()], count


def main():
    keras.utils.set_random_seed(0)
    texts, y = data.first_colour_task(GLOBAL_BATCH, seed=5)
    reference = EncoderClassifier(
        list(data.FILLER_WORDS + data.COLOURS), list(data.COLOURS),
        sequence_length=12, embedding_dim=8, intermediate_dim=16,
    )
    x = reference.tokenize(texts)
    initial = reference.get_weights()
    single, single_count = one_step("none", initial, x, y)
    mirrored, mirrored_count = one_step("mirrored", initial, x, y)
    print(json.dumps({
        "backend": keras.backend.backend(),
        "replicas": [single_count, mirrored_count],
        "max_difference": max(float(np.max(np.abs(a - b))) for a, b in zip(single, mirrored)),
        "max_update": max(float(np.max(np.abs(a - b))) for a, b in zip(single, initial)),
    }))


if __name__ == "__main__":
    main()
