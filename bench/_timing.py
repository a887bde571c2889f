"""The benchmarks' one timing helper: contestants take turns in one process,
so a change in machine load hits all of them alike.

>>> from bench._timing import interleaved, speedup
>>> times = interleaved({"a": lambda: None, "b": lambda: None}, rounds=3)
>>> sorted(times), len(times["a"])
(['a', 'b'], 3)
>>> speedup([2.0, 2.0], [1.0, 1.0])   # peer takes 2 s, ours 1 s: ours is 2x
2.0
"""

import time

import numpy as np


def interleaved(steps, rounds, warmup=2):
    """Seconds of every call: `{name: [seconds, ...]}`.

    `steps` maps names to callables; each is called `warmup` times first
    (tracing, caches), then once per round, in turn.
    """
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    return times


def median(seconds):
    return float(np.median(seconds))


def speedup(peer_seconds, our_seconds):
    """Median peer time / median our time: above 1, ours is faster."""
    return median(peer_seconds) / median(our_seconds)
