"""Machine translation: Bahdanau's RNN with additive attention, and the Transformer.

>>> from zoo.translation import load_dates, RNNAttentionTranslator, TransformerTranslator
"""

from zoo.translation.data import load_anki, load_dates, split_pairs
from zoo.translation.rnn import RNNAttentionTranslator
from zoo.translation.transformer import TransformerTranslator
