"""Pictures of attention: heatmaps, positional encodings, token highlights.

Five tools, the ones the lectures draw on the board:

- `plot_attention`: the alignment heatmap, rows = outputs (queries),
  columns = inputs (keys);
- `plot_positional_encoding`: the sinusoid picture of Vaswani et al.;
- `highlight_tokens`: an HTML string that shades each token by its weight;
- `attention_rollout`: how much each output token draws on each input token
  through a whole stack of layers (Abnar & Zuidema, 2020);
- `attention_view`: an interactive page, every layer and head of a model,
  lines from each query token to the keys it attends to (no matplotlib).

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
import json
import os

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


# ----------------------------------------------------------------------------
# attention_view: the interactive head view
# ----------------------------------------------------------------------------

_VIEW_TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention_view.html")


class AttentionView:
    """An interactive attention page, made by `attention_view`.

    - In a notebook, leave it as the last expression of a cell: it shows
      itself (`_repr_html_`, an `<iframe>` holding the page).
    - `view.save("attention.html")` writes the page; it opens from the file
      in any browser, with no network.
    - `view.html` is the page as a string; `view.data` the numbers it shows.
    """

    def __init__(self, data):
        self.data = data

    @property
    def html(self):
        """The whole page: one HTML document with its CSS, JS and numbers inline."""
        with open(_VIEW_TEMPLATE, encoding="utf-8") as f:
            template = f.read()
        # `<` escaped so that no token can close the <script> holding the data.
        numbers = json.dumps(self.data, separators=(",", ":")).replace("<", "\\u003c")
        return template.replace("__TITLE__", html.escape(self.data["title"])).replace(
            "__DATA__", numbers
        )

    def save(self, path):
        """Write the page to `path` (e.g. "attention.html"); returns `path`."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)
        return path

    def _repr_html_(self):
        rows = max(
            max(len(kind["query_tokens"]), len(kind["key_tokens"]))
            for kind in self.data["kinds"]
        )
        height = max(360 if self.data["image"] else 0, 140 + 20 * rows)
        return (
            f'<iframe srcdoc="{html.escape(self.html)}" style="width: 100%; '
            f'height: {height}px; border: none"></iframe>'
        )


def _one_layer(scores, name):
    """One layer's weights as a `(heads, Tq, Tk)` float64 array."""
    scores = _to_numpy(scores).astype("float64")
    if scores.ndim == 4:
        if scores.shape[0] != 1:
            raise ValueError(
                f"`{name}` must hold one example, shape (1, heads, queries, keys); "
                f"received shape {scores.shape}: pick one, e.g. scores[i:i + 1]."
            )
        scores = scores[0]
    if scores.ndim == 2:
        scores = scores[None]  # one head
    if scores.ndim != 3:
        raise ValueError(
            f"`{name}` must have shape (queries, keys), (heads, queries, keys) or "
            f"(1, heads, queries, keys); received shape {scores.shape}."
        )
    return scores


def _per_kind(value, kind, default):
    if isinstance(value, dict):
        return value.get(kind, default)
    return default if value is None else value


def attention_view(scores, query_tokens, key_tokens=None, title="Attention", image=None,
                   layer_names=None):
    """An interactive page of attention weights: every layer, every head.

    The head view of the lectures: query tokens on the left, key tokens on
    the right, one line per (query, key) pair, as dark as its weight. Menus
    choose the layer and the head (or the mean of the heads); hovering a
    token keeps only its lines and prints its weights. With `image` (a ViT),
    the picture beside it shows the chosen query token's attention over the
    image patches. The page is self-contained: no network, no matplotlib.

    Args:
        scores: one model's attention for one example. Either one layer,
            shaped `(queries, keys)`, `(heads, queries, keys)` or
            `(1, heads, queries, keys)` (what `return_attention_scores=True`
            gives for a batch of one); or a list of such layers, first layer
            first; or a dict of such lists, one entry per kind of attention,
            e.g. `{"encoder self-attention": [...], "cross-attention": [...]}`
            (a menu then picks the kind).
        query_tokens: the `queries` labels, strings; with a dict of `scores`,
            one list for every kind or a dict giving each kind its own.
        key_tokens: the `keys` labels (default: `query_tokens`, i.e.
            self-attention); a list or a dict as for `query_tokens`.
        title: the page's heading.
        image: for a vision transformer, the input image `(height, width)` or
            `(height, width, channels)` with values 0..255 (or 0..1); its
            patches must be the last `rows * cols` key tokens, row by row.
            Give it as `(image, (rows, cols))`.
        layer_names: labels of the layers in the menu (default 1, 2, ...).

    Returns:
        An `AttentionView`: shows itself in a notebook; `.save(path)` writes
        the page; `.html` is the page as a string.

    >>> import numpy as np
    >>> from kattn.viz import attention_view
    >>> weights = np.array([[[0.9, 0.1], [0.3, 0.7]]])     # (heads, queries, keys)
    >>> view = attention_view(weights, ["le", "chat"], ["the", "cat"])
    >>> view.data["kinds"][0]["layers"][0][0][1]          # layer 1, head 1, query "chat"
    [0.3, 0.7]
    >>> import os, tempfile
    >>> path = view.save(os.path.join(tempfile.mkdtemp(), "attention.html"))
    >>> os.path.getsize(path) > 1000                      # open it in a browser
    True
    """
    kinds = scores if isinstance(scores, dict) else {"attention": scores}
    if not kinds:
        raise ValueError("`scores` must hold at least one kind of attention; received an empty dict.")
    data = {"title": str(title), "kinds": [], "image": None}
    for kind, layers in kinds.items():
        if not isinstance(layers, (list, tuple)):
            layers = [layers]
        if not layers:
            raise ValueError(f"`scores` ({kind}) must hold at least one layer; received an empty list.")
        queries = _per_kind(query_tokens, kind, None)
        if queries is None:
            raise ValueError(f"`query_tokens` must give the tokens of {kind!r}; received none.")
        keys = _per_kind(key_tokens, kind, queries)
        queries, keys = [str(t) for t in queries], [str(t) for t in keys]
        matrices = []
        for index, layer in enumerate(layers):
            name = f"scores[{kind!r}][{index}]" if isinstance(scores, dict) else "scores"
            layer = _one_layer(layer, name)  # (H, Tq, Tk)
            if layer.shape[1:] != (len(queries), len(keys)):
                raise ValueError(
                    f"`{name}` has {layer.shape[1]} queries and {layer.shape[2]} keys, but "
                    f"{len(queries)} query tokens and {len(keys)} key tokens were given."
                )
            matrices.append(np.round(layer, 7).tolist())
        data["kinds"].append({
            "name": str(kind),
            "query_tokens": queries,
            "key_tokens": keys,
            "layers": matrices,
            "layer_names": [str(n) for n in layer_names] if layer_names else None,
        })
    if image is not None:
        data["image"] = _image_data(image, data["kinds"])
    return AttentionView(data)


def _image_data(image, kinds):
    if not (isinstance(image, (tuple, list)) and len(image) == 2):
        raise ValueError(
            "`image` must be a pair (image, (rows, cols)): the picture and its patch grid; "
            f"received {type(image).__name__}."
        )
    pixels, (rows, cols) = image
    pixels = _to_numpy(pixels).astype("float64")
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 3):
        raise ValueError(
            "`image` must have shape (height, width) or (height, width, 1 or 3); "
            f"received shape {pixels.shape}."
        )
    for kind in kinds:
        if len(kind["key_tokens"]) < rows * cols:
            raise ValueError(
                f"`image` has {rows} x {cols} patches but {kind['name']!r} has only "
                f"{len(kind['key_tokens'])} key tokens."
            )
    if pixels.max() <= 1.0:
        pixels = pixels * 255.0
    height, width, channels = pixels.shape
    return {
        "height": height,
        "width": width,
        "channels": channels,
        "pixels": np.clip(np.round(pixels), 0, 255).astype(int).reshape(-1).tolist(),
        "grid": [int(rows), int(cols)],
    }
