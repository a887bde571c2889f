"""The RNN encoder-decoder with additive attention (Bahdanau et al., 2015)."""

import keras
from keras import ops

import kattn
from kattn import ops as attention_ops
from zoo.translation.translator import Translator


@keras.saving.register_keras_serializable(package="zoo")
class RNNAttentionTranslator(Translator):
    """Bidirectional GRU encoder, GRU decoder that attends at every step.

    Encoder: `h_j = [GRU_forward(x)_j ; GRU_backward(x)_j]`, `(B, S, 2U)`.
    Decoder, for each output position t, from the previous state `s_{t-1}`
    and the previous token `y_{t-1}`:

        c_t, a_t = AdditiveAttention(query=s_{t-1}, keys=h)   # a_t: (B, S)
        s_t      = GRUCell([embed(y_{t-1}) ; c_t], s_{t-1})
        logits_t = Dense([s_t ; c_t ; embed(y_{t-1})])

    and `s_0 = tanh(W [last forward state ; last backward state])`.

    Training uses teacher forcing inside one `keras.ops.scan` over the
    target positions (a compiled loop, no Python per step); the keys'
    projection `W_k h` is computed once per sentence, not once per step, and
    the output layer runs on all steps at once after the loop.

    Args:
        source_tokenizer, target_tokenizer, source_length, target_length:
            as in `Translator`.
        embedding_dim: size of the token embeddings.
        units: GRU size `U` (each encoder direction and the decoder).
        attention_units: hidden width of the additive score (default `units`).
        dropout: on embeddings and before the output layer while training.

    Example:

    >>> from zoo.translation import RNNAttentionTranslator, tokenizers
    >>> chars = tokenizers.CharacterTokenizer.from_texts(["3 May 1979", "1979-05-03"])
    >>> model = RNNAttentionTranslator(chars, chars, source_length=12, target_length=11,
    ...                                embedding_dim=8, units=16)
    >>> x, y = model.make_arrays([("3 May 1979", "1979-05-03")])
    >>> tuple(model(x).shape)                         # (B, T, vocabulary)
    (1, 11, 15)
    """

    def __init__(
        self,
        source_tokenizer,
        target_tokenizer,
        source_length,
        target_length,
        embedding_dim=64,
        units=128,
        attention_units=None,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(source_tokenizer, target_tokenizer, source_length, target_length, **kwargs)
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention_units = attention_units
        self.dropout = dropout
        self.source_embedding = keras.layers.Embedding(
            self.source_tokenizer.vocabulary_size, embedding_dim, name="source_embedding"
        )
        self.encoder = keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=True, return_state=True),
            merge_mode="concat", name="encoder",
        )
        self.bridge = keras.layers.Dense(units, activation="tanh", name="bridge")
        self.target_embedding = keras.layers.Embedding(
            self.target_tokenizer.vocabulary_size, embedding_dim, name="target_embedding"
        )
        self.attention = kattn.layers.AdditiveAttention(attention_units or units, name="attention")
        self.decoder_cell = keras.layers.GRUCell(units, name="decoder_cell")
        self.dropout_layer = keras.layers.Dropout(dropout)
        self.readout = keras.layers.Dense(
            self.target_tokenizer.vocabulary_size, name="readout"
        )

    def _build_decoder(self, memory_shape):
        """Build the layers used inside the loop (no weights may appear there)."""
        width = memory_shape[-1]  # 2U
        if not self.attention.built:
            self.attention.build((None, self.units), memory_shape)
        if not self.decoder_cell.built:
            self.decoder_cell.build((None, self.embedding_dim + width))
        if not self.readout.built:
            self.readout.build((None, None, self.units + width + self.embedding_dim))

    # -- the network ------------------------------------------------------

    def encode(self, source_ids, training=None):
        """Source ids `(B, S)` -> memory `(B, S, 2U)`, its mask, and `s_0` `(B, U)`."""
        source_mask = ops.not_equal(source_ids, 0)  # (B, S)
        x = self.dropout_layer(self.source_embedding(source_ids), training=training)
        memory, last_forward, last_backward = self.encoder(x, mask=source_mask, training=training)
        first_state = self.bridge(ops.concatenate([last_forward, last_backward], axis=-1))
        self._build_decoder(memory.shape)
        return memory, source_mask, first_state

    def project_keys(self, memory):
        """`W_k h_j` for every encoder state, `(B, S, attention_units)`, once."""
        return ops.einsum("bsd,du->bsu", memory, self.attention.key_kernel)

    def attend(self, state, memory, projected_keys, source_mask):
        """`AdditiveAttention(state, memory)` with the keys already projected.

        The same numbers as `self.attention(state, memory, mask=source_mask,
        return_attention_scores=True)`, without recomputing `W_k h` per step.
        """
        hidden = projected_keys + ops.matmul(state, self.attention.query_kernel)[:, None, :]
        if self.attention.bias is not None:
            hidden = hidden + self.attention.bias  # (B, S, U)
        scores = ops.einsum("bsu,u->bs", ops.tanh(hidden), self.attention.score_vector)
        alignment = attention_ops.masked_softmax(scores, source_mask)  # (B, S), rows sum to 1
        context = ops.einsum("bs,bsd->bd", ops.cast(alignment, memory.dtype), memory)  # (B, 2U)
        return context, alignment

    def decoder_step(self, state, previous_embedding, memory, projected_keys, source_mask):
        """One decoder step -> (new state, readout features, alignment)."""
        context, alignment = self.attend(state, memory, projected_keys, source_mask)
        inputs = ops.concatenate([previous_embedding, context], axis=-1)  # (B, E + 2U)
        new_state, _ = self.decoder_cell(inputs, state)  # (B, U)
        features = ops.concatenate([new_state, context, previous_embedding], axis=-1)
        return new_state, features, alignment

    def call(self, inputs, training=None):
        memory, source_mask, state = self.encode(inputs["source"], training=training)
        projected_keys = self.project_keys(memory)
        embedded = self.dropout_layer(self.target_embedding(inputs["target"]), training=training)
        time_major = ops.transpose(embedded, (1, 0, 2))  # (T, B, E)

        def step(carry, previous_embedding):
            state, _ = carry
            state, features, _ = self.decoder_step(
                state, previous_embedding, memory, projected_keys, source_mask
            )
            # keras.ops.scan on TensorFlow wants the outputs shaped like the
            # carry, so the features ride along in it.
            return (state, features), (state, features)

        width = self.units + memory.shape[-1] + self.embedding_dim
        no_features = ops.zeros((ops.shape(state)[0], width), state.dtype)
        _, (_, features) = ops.scan(step, (state, no_features), time_major)  # (T, B, U + 2U + E)
        features = ops.transpose(features, (1, 0, 2))  # (B, T, U + 2U + E)
        features = self.dropout_layer(features, training=training)
        return ops.cast(self.readout(features), "float32")  # (B, T, V)

    # -- decoding ---------------------------------------------------------

    def start_decoding(self, source_ids):
        memory, source_mask, state = self.encode(source_ids)
        projected_keys = self.project_keys(memory)

        def step(tokens, state, index):
            embedded = self.target_embedding(tokens)  # (B, E)
            state, features, alignment = self.decoder_step(
                state, embedded, memory, projected_keys, source_mask
            )
            return ops.cast(self.readout(features), "float32"), state, alignment

        return state, step

    def get_config(self):
        config = super().get_config()
        config.update({
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "dropout": self.dropout,
        })
        return config
