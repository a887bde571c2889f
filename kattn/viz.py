"""Pictures of attention: heatmaps, positional encodings, token highlights.

Four tools, the ones the lectures draw on the board:

- `plot_attention`: the alignment heatmap, rows = outputs (queries),
  columns = inputs (keys);
- `plot_positional_encoding`: the sinusoid picture of Vaswani et al.;
- `highlight_tokens`: an HTML string that shades each token by its weight;
- `attention_rollout`: how much each output token draws on each input token
  through a whole stack of layers (Abnar & Zuidema, 2020).

The plots need matplotlib (`pip install kattn[viz]`); it is imported only when
a plot is drawn. They return a `matplotlib.figure.Figure` made without pyplot,
so they keep no global state: save one with `fig.savefig("name.png")`; in a
notebook, run `%matplotlib inline` once and leave the figure as the last
expression of a cell to see it.

>>> import numpy as np
>>> from kattn import viz
>>> weights = np.array([[0.9, 0.1], [0.2, 0.8]])
>>> fig = viz.plot_attention(weights, x_labels=["le", "chat"],
...                          y_labels=["the", "cat"])
>>> fig.axes[0].get_ylabel()
'outputs (queries)'
>>> "&lt;b&gt;" in viz.highlight_tokens(["a", "<b>"], [0.2, 1.0])
True
"""

import html

import keras
import numpy as np

from kattn.layers import SinusoidalPositionalEncoding


def _require_matplotlib():
    try:
        import matplotlib.figure
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "kattn.viz plots need matplotlib: `pip install kattn[viz]` "
            "(or `pip install matplotlib`)."
        ) from error
    return matplotlib.figure


def _to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _new_axes(ax, figsize):
    """`ax` and its figure, or a fresh figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    figure_module = _require_matplotlib()
    fig = figure_module.Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _check_labels(name, labels, expected):
    if labels is not None and len(labels) != expected:
        raise ValueError(
            f"`{name}` must have {expected} entries, one per "
            f"{'column' if name == 'x_labels' else 'row'} of `weights`; "
            f"received {len(labels)}."
        )


def plot_attention(weights, x_labels=None, y_labels=None, ax=None):
    """Draw an attention matrix as a heatmap: rows = queries, columns = keys.

    Args:
        weights: `(Tq, Tk)` attention weights (NumPy array or tensor); leading
            axes of size 1, e.g. a batch of one, are dropped.
        x_labels: `Tk` labels for the columns (the inputs / keys).
        y_labels: `Tq` labels for the rows (the outputs / queries).
        ax: a matplotlib `Axes` to draw into; default a new figure.

    Returns:
        The matplotlib `Figure`.

    >>> import numpy as np
    >>> from kattn.viz import plot_attention
    >>> fig = plot_attention(np.eye(3), x_labels=list("abc"), y_labels=list("xyz"))
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['a', 'b', 'c']
    """
    weights = _to_numpy(weights).astype("float32")
    while weights.ndim > 2 and weights.shape[0] == 1:
        weights = weights[0]
    if weights.ndim != 2:
        raise ValueError(
            "`weights` must have shape (queries, keys); received shape "
            f"{weights.shape}."
        )
    num_queries, num_keys = weights.shape
    _check_labels("x_labels", x_labels, num_keys)
    _check_labels("y_labels", y_labels, num_queries)

    size = (max(3.0, 0.45 * num_keys + 1.5), max(2.5, 0.45 * num_queries + 1.0))
    fig, ax = _new_axes(ax, size)
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    if x_labels is not None:
        ax.set_xticks(range(num_keys), [str(label) for label in x_labels])
        if num_keys > 6:  # long rows of labels read better upright
            ax.tick_params(axis="x", labelrotation=90)
    if y_labels is not None:
        ax.set_yticks(range(num_queries), [str(label) for label in y_labels])
    ax.set_xlabel("inputs (keys)")
    ax.set_ylabel("outputs (queries)")
    return fig


def positional_encoding(length, depth, max_wavelength=10000):
    """The sinusoidal encodings `(length, depth)` as a NumPy array.

    `PE[p, 2i] = sin(p / w^(2i/d))`, `PE[p, 2i+1] = cos(p / w^(2i/d))`, computed
    by `kattn.layers.SinusoidalPositionalEncoding`.

    >>> from kattn.viz import positional_encoding
    >>> positional_encoding(4, 6).shape
    (4, 6)
    """
    layer = SinusoidalPositionalEncoding(max_wavelength=max_wavelength)
    encodings = layer(np.zeros((1, length, depth), dtype="float32"))  # (1, T, D)
    return _to_numpy(encodings)[0]  # (length, depth)


def plot_positional_encoding(length, depth, max_wavelength=10000, ax=None):
    """Draw the sinusoidal positional encodings: position down, depth across.

    Args:
        length: number of positions (rows).
        depth: encoding size `d` (columns).
        max_wavelength: the `w` in `p / w^(2i/d)`.
        ax: a matplotlib `Axes` to draw into; default a new figure.

    Returns:
        The matplotlib `Figure`.

    >>> from kattn.viz import plot_positional_encoding
    >>> fig = plot_positional_encoding(50, 32)
    >>> fig.axes[0].get_images()[0].get_array().shape
    (50, 32)
    """
    encodings = positional_encoding(length, depth, max_wavelength)
    fig, ax = _new_axes(ax, (7.0, 4.0))
    image = ax.imshow(encodings, cmap="RdBu", vmin=-1.0, vmax=1.0, aspect="auto")
    fig.colorbar(image, ax=ax, label="value")
    ax.set_xlabel("depth (even: sin, odd: cos)")
    ax.set_ylabel("position")
    ax.set_title(f"Sinusoidal positional encoding, d = {depth}")
    return fig


def highlight_tokens(tokens, weights):
    """HTML that shades each token by its weight (darkest = largest weight).

    Tokens are HTML-escaped; each one's weight is in its tooltip. In a notebook
    show it with `IPython.display.HTML(highlight_tokens(...))`.

    Args:
        tokens: a list of `T` strings.
        weights: `T` non-negative numbers, e.g. attention-pooling weights.

    Returns:
        A `<div>` string.

    >>> from kattn.viz import highlight_tokens
    >>> print(highlight_tokens(["good", "<3"], [0.25, 0.75]))  # doctest: +ELLIPSIS
    <div ...>good</span> <span ...>&lt;3</span></div>
    """
    weights = _to_numpy(weights).astype("float64").reshape(-1)
    tokens = [str(token) for token in tokens]
    if len(tokens) != len(weights):
        raise ValueError(
            "`tokens` and `weights` must have the same length; received "
            f"{len(tokens)} tokens and {len(weights)} weights."
        )
    largest = weights.max() if len(weights) and weights.max() > 0 else 1.0
    spans = []
    for token, weight in zip(tokens, weights):
        shade = float(np.clip(weight / largest, 0.0, 1.0))
        spans.append(
            f'<span title="{weight:.3f}" style="background-color: '
            f'rgba(230, 97, 1, {shade:.3f}); padding: 1px 2px; '
            f'border-radius: 3px">{html.escape(token)}</span>'
        )
    return '<div style="line-height: 1.8">' + " ".join(spans) + "</div>"


def attention_rollout(scores_per_layer):
    """Attention rollout (Abnar & Zuidema, 2020): relevance through all layers.

    For each layer: average the heads, add the identity for the residual
    connection and renormalise each row to sum to 1,
    `A_l = normalise(mean_heads(W_l) + I)`; then multiply through the stack,
    `R = A_L ... A_2 A_1`. `R[b, i, j]` is how much output token `i` of the last
    layer draws on input token `j`. For a ViT, `R[:, 0, 1:]` is the class
    token's relevance map over the patches.

    Args:
        scores_per_layer: list of `(B, H, T, T)` attention weights, first
            layer first (what `return_attention_scores=True` gives).

    Returns:
        `(B, T, T)` NumPy float64 array; every row sums to 1.

    >>> import numpy as np
    >>> from kattn.viz import attention_rollout
    >>> uniform = np.full((1, 2, 3, 3), 1 / 3)        # (B, H, T, T)
    >>> attention_rollout([uniform])[0, 0].round(3).tolist()
    [0.667, 0.167, 0.167]
    """
    if not scores_per_layer:
        raise ValueError(
            "`scores_per_layer` must be a non-empty list of (B, H, T, T) "
            "attention weights; received an empty list."
        )
    rollout = None
    for index, scores in enumerate(scores_per_layer):
        scores = _to_numpy(scores).astype("float64")
        if scores.ndim != 4 or scores.shape[-1] != scores.shape[-2]:
            raise ValueError(
                f"`scores_per_layer[{index}]` must have shape (B, H, T, T); "
                f"received shape {scores.shape}."
            )
        if rollout is not None and scores.shape[-1] != rollout.shape[-1]:
            raise ValueError(
                f"`scores_per_layer[{index}]` must have T = {rollout.shape[-1]} "
                f"like the layers before it; received shape {scores.shape}."
            )
        length = scores.shape[-1]
        mixed = scores.mean(axis=1) + np.eye(length)  # (B, T, T)
        mixed = mixed / mixed.sum(axis=-1, keepdims=True)
        rollout = mixed if rollout is None else mixed @ rollout  # (B, T, T)
    return rollout
