"""Tatoeba Spanish -> English with our RNN and additive attention.

    python -m bench translation_anki_rnn

`RNNAttentionTranslator` (bidirectional GRU encoder, GRU decoder with
Bahdanau attention), the split and scoring of `bench/translation_anki.py`,
trained in one process pinned to one core with one TensorFlow thread.
"""

from bench import common
from bench.translation_anki import HEADER, row, samples, train_side_by_side

TRAIN_MINUTES = 25  # shorter than the Transformer's 35: this session's CPU time was short


def run(quick=False):
    minutes = 0.2 if quick else TRAIN_MINUTES
    rnn = train_side_by_side([("rnn", 0)], minutes, quick)["rnn"]
    return "\n".join([
        "## Translation: Tatoeba Spanish -> English, RNN with additive attention",
        "",
        "`python -m zoo train translation-anki-rnn`: `RNNAttentionTranslator` (embeddings 256, "
        "bidirectional GRU 256 encoder, GRU 256 decoder attending over the encoder states), "
        f"cased WordPiece, Adam 1e-3, label smoothing 0.1, batch 64; {minutes:g} minutes on one "
        "core with one TensorFlow thread, like each contestant of `python -m bench translation_anki` "
        "(which had 35).",
        "",
        common.table(HEADER, [row("ours (`RNNAttentionTranslator`)", rnn)]),
        "",
        *samples(rnn),
    ])
