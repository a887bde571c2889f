"""Learning-rate schedules shared by the zoo's recipes.

>>> from zoo.schedules import warmup_cosine_schedule
>>> schedule = warmup_cosine_schedule(1e-3, steps_per_epoch=10, epochs=2, warmup_epochs=0.5)
>>> [round(float(schedule(step)), 6) for step in (0, 5, 20)]   # start, peak, end
[0.0, 0.001, 0.0]
"""

import keras


def warmup_cosine_schedule(learning_rate, steps_per_epoch, epochs, warmup_epochs):
    """Linear warm-up to `learning_rate`, then cosine decay to 0 at the last step."""
    total = max(1, steps_per_epoch * epochs)
    warmup = min(total - 1, int(round(steps_per_epoch * warmup_epochs)))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warmup else learning_rate,
        decay_steps=total - warmup,
        warmup_target=learning_rate if warmup else None,
        warmup_steps=warmup,
    )
