"""Macro-averaged recall, TweetEval sentiment's official metric, as a Keras metric.

Recall of each class (the share of its tweets predicted as that class),
averaged over classes with equal weight: a model cannot score well by
favouring the majority class.

>>> import numpy as np
>>> from zoo.tweets.metrics import MacroRecall
>>> metric = MacroRecall(num_classes=3)
>>> metric.update_state(np.array([0, 0, 1, 2]), np.eye(3)[[0, 1, 1, 1]])
>>> round(float(metric.result()), 4)          # recalls 1/2, 1, 0
0.5
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class MacroRecall(keras.metrics.Metric):
    """Mean over classes of `correct[c] / count[c]`; classes never seen are skipped.

    Args:
        num_classes: number of classes.

    `update_state(y_true, y_pred)`: integer labels `(B,)` and class scores
    `(B, num_classes)` (the predicted class is the argmax).
    """

    def __init__(self, num_classes, name="macro_recall", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self._direction = "up"  # early stopping maximises it
        self.correct = self.add_variable((self.num_classes,), initializer="zeros", name="correct")
        self.count = self.add_variable((self.num_classes,), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.reshape(ops.cast(y_true, "int32"), (-1,))  # (B,)
        predicted = ops.argmax(y_pred, axis=-1)  # (B,)
        true_one_hot = ops.one_hot(y_true, self.num_classes, dtype="float32")  # (B, C)
        hit = ops.cast(ops.equal(ops.cast(predicted, "int32"), y_true), "float32")  # (B,)
        self.count.assign_add(ops.sum(true_one_hot, axis=0))
        self.correct.assign_add(ops.sum(true_one_hot * hit[:, None], axis=0))

    def result(self):
        count = ops.convert_to_tensor(self.count)  # a tensor: JAX's dtype rules reject Variables
        seen = ops.cast(ops.greater(count, 0), "float32")
        recall = ops.convert_to_tensor(self.correct) / ops.maximum(count, 1.0)
        return ops.sum(recall * seen) / ops.maximum(ops.sum(seen), 1.0)

    def reset_state(self):
        self.correct.assign(ops.zeros((self.num_classes,)))
        self.count.assign(ops.zeros((self.num_classes,)))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
