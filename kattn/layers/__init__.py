"""kattn layers: one public layer per file."""

from kattn.layers.additive_attention import AdditiveAttention
from kattn.layers.attention import Attention
from kattn.layers.attention_pooling import AttentionPooling
from kattn.layers.multi_head_attention import MultiHeadAttention
