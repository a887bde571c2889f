"""How the ViT recipes train: AdamW, warmup + cosine learning rate, a time budget.

Transformers trained from scratch need a learning-rate warmup (the first
updates of attention are erratic) and do best with a cosine decay to zero.
On a shared CPU the number of epochs that fit in a wall-clock budget is not
known in advance, so the decay can follow *elapsed time* instead of steps:
`WarmupCosine(seconds=1500)` reaches zero learning rate, and stops training,
when 25 minutes have passed, whatever the machine's load.

Example:

>>> import numpy as np, keras
>>> from zoo.vit import ViT, training
>>> model = ViT(8, 4, 1, 2, 8, 16, num_classes=3, channels=1)
>>> training.compile_classifier(model, learning_rate=1e-3)
>>> schedule = training.WarmupCosine(1e-3, warmup_steps=2, total_steps=4)
>>> history = model.fit(np.zeros((8, 8, 8, 1)), np.eye(3)[np.arange(8) % 3],
...                     batch_size=2, epochs=1, callbacks=[schedule], verbose=0)
>>> round(float(model.optimizer.learning_rate), 6)   # decayed to zero after 4 steps
0.0
"""

import math
import time

import keras


def compile_classifier(model, learning_rate=1e-3, weight_decay=0.05, label_smoothing=0.1,
                       jit_compile="auto"):
    """AdamW + categorical cross-entropy on one-hot labels + accuracy.

    The model outputs probabilities, so the loss takes `from_logits=False`.
    Norms, biases, the class token and positions get no weight decay. With
    `jit_compile="auto"` the whole step is XLA-compiled on TensorFlow too,
    where Keras' "auto" would not on a CPU: images all have one shape, so it
    compiles once.
    """
    if jit_compile == "auto" and keras.backend.backend() == "tensorflow":
        jit_compile = True
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate, weight_decay=weight_decay, global_clipnorm=1.0
    )
    optimizer.exclude_from_weight_decay(
        var_names=["gamma", "beta", "bias", "class_token", "embeddings"]
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        jit_compile=jit_compile,
    )


class WarmupCosine(keras.callbacks.Callback):
    """Linear warmup, then cosine decay to 0, by steps or by wall-clock time.

    Args:
        peak: the learning rate at the end of warmup.
        warmup_steps: optimizer steps of linear warmup from 0.
        total_steps: decay over this many steps (counting warmup), or
        seconds: decay over this much training time, and stop when it is
            spent (checked after every batch).

    The rate is set on `model.optimizer.learning_rate` before each batch.
    """

    def __init__(self, peak, warmup_steps, total_steps=None, seconds=None):
        super().__init__()
        if (total_steps is None) == (seconds is None):
            raise ValueError("give exactly one of `total_steps` and `seconds`.")
        self.peak = float(peak)
        self.warmup_steps = int(warmup_steps)
        self.total_steps = total_steps
        self.seconds = seconds
        self.step = 0
        self.started = None
        self.elapsed = 0.0

    def progress(self):
        """Fraction of the decay done, 0..1."""
        if self.seconds is not None:
            return min(1.0, self.elapsed / self.seconds)
        decay_steps = max(1, self.total_steps - self.warmup_steps)
        return min(1.0, max(0.0, (self.step - self.warmup_steps) / decay_steps))

    def learning_rate(self):
        if self.step < self.warmup_steps:
            return self.peak * (self.step + 1) / self.warmup_steps
        return self.peak * 0.5 * (1.0 + math.cos(math.pi * self.progress()))

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(self.learning_rate())

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        self.elapsed = time.perf_counter() - self.started
        if self.seconds is not None and self.elapsed >= self.seconds:
            self.model.stop_training = True
        if self.total_steps is not None and self.step >= self.total_steps:
            self.model.optimizer.learning_rate.assign(0.0)
