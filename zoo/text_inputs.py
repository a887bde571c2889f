"""The rules for texts given to a zoo model: `classify`, `translate`, `explain`,
`predict` on raw strings, and `python -m zoo classify / translate`.

A model answers only what it can read; the rest is a clear error or a warning:

- `texts` is a list (tuple, 1-D array) of strings. One bare string is refused
  (wrap it in a list: `classify(["..."])`), as is an empty list.
- Each text is a `str` (not None, a number or bytes) with at least one
  non-space character.
- A text longer than the model reads is cut, with an `InputWarning` naming
  it and how much of it the model reads.
- A text with nothing the model knows (every word or character outside its
  vocabulary) still gets an answer, with an `InputWarning` saying so.

`python -m zoo` prints an error as one line `zoo: error: ...` (exit code 2)
and an `InputWarning` as one line `zoo: warning: ...`.

>>> from zoo.text_inputs import check_texts
>>> check_texts(["a date", "another"])
['a date', 'another']
>>> check_texts("a date")
Traceback (most recent call last):
...
ValueError: `texts` must be a list of strings; received one string 'a date'. Wrap it in a list: ['a date'].
"""

import os
import sys
import warnings

import numpy as np

ZOO_DIR = os.path.dirname(os.path.abspath(__file__))


class InputWarning(UserWarning):
    """An input the model reads only in part, or reads as unknown."""


def _warn(message):
    """An `InputWarning` that points at the first caller outside the zoo package."""
    frame, level = sys._getframe(1), 2  # stacklevel 2 is the frame that called _warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(ZOO_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, InputWarning, stacklevel=level)


def _shown(text, limit=40):
    return repr(text if len(text) <= limit else text[:limit] + "...")


def check_texts(texts, argument="texts"):
    """`texts` as a list of strings, or a ValueError naming what is wrong."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(
            f"`{argument}` must be a list of strings; received one string {_shown(str(texts))}. "
            f"Wrap it in a list: [{_shown(str(texts))}]."
        )
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(
                f"`{argument}` must be a list of strings; received an array of shape {texts.shape}."
            )
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)):
        raise ValueError(
            f"`{argument}` must be a list of strings; received {type(texts).__name__} {texts!r:.60}."
        )
    if len(texts) == 0:
        raise ValueError(f"`{argument}` must hold at least one string; received an empty list.")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(
                f"`{argument}[{i}]` must be a string; received {type(text).__name__} {text!r:.60}."
            )
        if not text.strip():
            raise ValueError(
                f"`{argument}[{i}]` is {'empty' if not text else 'only whitespace'} "
                f"({text!r}): there is nothing to read."
            )
    return list(texts)


def warn_if_cut(texts, lengths, limit, unit, argument="texts"):
    """One `InputWarning` for the texts whose `lengths` (in `unit`) pass `limit`."""
    cut = [i for i, length in enumerate(lengths) if length > limit]
    if not cut:
        return
    shown = ", ".join(f"{argument}[{i}] ({lengths[i]:,} {unit})" for i in cut[:3])
    more = f" and {len(cut) - 3} more" if len(cut) > 3 else ""
    _warn(
        f"{shown}{more}: longer than the model reads; it reads only the first {limit} {unit} "
        "and ignores the rest."
    )


def warn_if_unknown(texts, unknown, what, argument="texts"):
    """One `InputWarning` for the texts with `unknown[i]` (a list of pieces) the model never saw.

    `what` says which pieces: e.g. "characters the model never saw, read as unknown".
    """
    flagged = [i for i, pieces in enumerate(unknown) if pieces]
    if not flagged:
        return
    parts = []
    for i in flagged[:3]:
        pieces = list(dict.fromkeys(unknown[i]))  # unique, in order
        listed = ", ".join(repr(p) for p in pieces[:8]) + (", ..." if len(pieces) > 8 else "")
        parts.append(f"{argument}[{i}] ({listed})")
    more = f" and {len(flagged) - 3} more" if len(flagged) > 3 else ""
    _warn(f"{'; '.join(parts)}{more}: {what}.")
