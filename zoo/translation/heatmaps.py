"""Save the alignment heatmap of one translation as a PNG (needs matplotlib).

>>> from zoo.translation.heatmaps import save_alignment   # doctest: +SKIP
>>> save_alignment(model, "Thursday, March 3rd, 1979", "dates.png")  # doctest: +SKIP
"""


def save_alignment(model, text, path, method="greedy"):
    """Translate `text`, draw its alignment with `kattn.viz.plot_attention`, save to `path`.

    Returns the translation. Rows are output tokens, columns source tokens.
    """
    import matplotlib

    matplotlib.use("Agg")
    from kattn import viz

    (translation,), (alignment,) = model.translate([text], method=method, return_attention=True)
    source_tokens = model.source_tokenizer.tokens(model.encode_source([text])[0])
    target_ids = model.target_tokenizer.encode([translation], model.target_length)[0]
    target_tokens = model.target_tokenizer.tokens(target_ids)[: alignment.shape[0]]
    figure = viz.plot_attention(alignment, x_labels=source_tokens, y_labels=target_tokens)
    figure.axes[0].set_title(f"{text}  ->  {translation}", fontsize=9)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    return translation
