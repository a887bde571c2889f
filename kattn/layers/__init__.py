"""kattn layers: one public layer per file."""

from kattn.layers.additive_attention import AdditiveAttention
from kattn.layers.attention import Attention
from kattn.layers.attention_pooling import AttentionPooling
from kattn.layers.multi_head_attention import MultiHeadAttention
from kattn.layers.sinusoidal_positional_encoding import SinusoidalPositionalEncoding
from kattn.layers.position_embedding import PositionEmbedding
from kattn.layers.token_and_position_embedding import TokenAndPositionEmbedding
from kattn.layers.transformer_encoder_block import TransformerEncoderBlock
from kattn.layers.transformer_decoder_block import TransformerDecoderBlock
from kattn.layers.patches import Patches
from kattn.layers.patch_embedding import PatchEmbedding
from kattn.layers.rotary_embedding import RotaryEmbedding
