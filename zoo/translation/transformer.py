"""The Transformer translator of Vaswani et al. (2017), built from kattn layers."""

import keras
from keras import ops

import kattn
from zoo.translation.translator import Translator


@keras.saving.register_keras_serializable(package="zoo")
class TransformerTranslator(Translator):
    """Encoder-decoder Transformer: attention everywhere, no recurrence.

        source ids -> TokenAndPositionEmbedding (sinusoidal) -> N encoder blocks -> memory
        target ids -> TokenAndPositionEmbedding (sinusoidal) -> N decoder blocks
                      (causal self-attention, cross-attention to memory) -> logits

    The output projection is tied to the target embedding by default
    (`logits = x E^T`), which saves `hidden_dim * V` weights. Label smoothing
    is an option of the loss, `zoo.translation.training.MaskedCrossEntropy`.

    Decoding runs the decoder one token at a time with each block's
    self-attention cache `(B, 2, target_length, heads, head_dim)`, and the
    encoder once per sentence; `use_cache=False` reruns the whole prefix at
    each step instead (same output, O(T^2) work; kept for the benchmark).

    Args:
        source_tokenizer, target_tokenizer, source_length, target_length:
            as in `Translator`.
        num_layers: encoder blocks, and as many decoder blocks.
        num_heads, hidden_dim, intermediate_dim: block sizes.
        dropout: after embeddings and inside every block.
        tie_embeddings: share the target embedding and the output projection.
        norm_first: pre-norm blocks (False: the original post-norm).

    Example, on two dates (untrained, so the output is noise):

    >>> from zoo.translation import TransformerTranslator, tokenizers
    >>> chars = tokenizers.CharacterTokenizer.from_texts(["3 May 1979", "1979-05-03"])
    >>> model = TransformerTranslator(chars, chars, source_length=12, target_length=11,
    ...                               num_layers=1, num_heads=2, hidden_dim=16,
    ...                               intermediate_dim=32)
    >>> x, y = model.make_arrays([("3 May 1979", "1979-05-03")])
    >>> tuple(model(x).shape)                         # (B, T, vocabulary)
    (1, 11, 15)
    >>> translations, alignments = model.translate(["3 May 1979"], return_attention=True)
    >>> alignments[0].shape[1]                        # source characters
    10
    """

    def __init__(
        self,
        source_tokenizer,
        target_tokenizer,
        source_length,
        target_length,
        num_layers=2,
        num_heads=4,
        hidden_dim=128,
        intermediate_dim=512,
        dropout=0.1,
        tie_embeddings=True,
        norm_first=False,
        **kwargs,
    ):
        super().__init__(source_tokenizer, target_tokenizer, source_length, target_length, **kwargs)
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.tie_embeddings = tie_embeddings
        self.norm_first = norm_first

        def embedding(vocabulary_size, name):
            return kattn.layers.TokenAndPositionEmbedding(
                vocabulary_size, hidden_dim, position="sinusoidal",
                scale_embeddings=True, name=name,
            )

        block_options = dict(
            num_heads=num_heads, intermediate_dim=intermediate_dim,
            dropout=dropout, norm_first=norm_first,
        )
        self.source_embedding = embedding(self.source_tokenizer.vocabulary_size, "source_embedding")
        self.target_embedding = embedding(self.target_tokenizer.vocabulary_size, "target_embedding")
        self.embedding_dropout = keras.layers.Dropout(dropout)
        self.encoder_blocks = [
            kattn.layers.TransformerEncoderBlock(**block_options, name=f"encoder_block_{i}")
            for i in range(num_layers)
        ]
        self.decoder_blocks = [
            kattn.layers.TransformerDecoderBlock(**block_options, name=f"decoder_block_{i}")
            for i in range(num_layers)
        ]
        self.final_norms = []
        if norm_first:  # pre-norm stacks end with a LayerNorm
            self.final_norms = [
                keras.layers.LayerNormalization(epsilon=1e-5, dtype="float32", name=name)
                for name in ("encoder_norm", "decoder_norm")
            ]
        self.output_projection = None
        if not tie_embeddings:
            self.output_projection = keras.layers.Dense(
                self.target_tokenizer.vocabulary_size, name="output_projection"
            )

    # -- the network ------------------------------------------------------

    def encode(self, source_ids, training=None):
        """Source ids `(B, S)` -> memory `(B, S, D)` and its padding mask `(B, S)`."""
        source_mask = ops.not_equal(source_ids, 0)  # (B, S)
        x = self.embedding_dropout(self.source_embedding(source_ids), training=training)
        for block in self.encoder_blocks:
            x = block(x, padding_mask=source_mask, training=training)  # (B, S, D)
        if self.norm_first:
            x = ops.cast(self.final_norms[0](x), self.compute_dtype)
        return x, source_mask

    def logits(self, x):
        """Decoder states `(B, T, D)` -> float32 logits `(B, T, V)`."""
        if self.norm_first:
            x = ops.cast(self.final_norms[1](x), self.compute_dtype)
        if self.tie_embeddings:
            table = self.target_embedding.token_embedding.embeddings  # (V, D)
            logits = ops.matmul(x, ops.transpose(ops.cast(table, x.dtype)))
        else:
            logits = self.output_projection(x)
        return ops.cast(logits, "float32")

    def call(self, inputs, training=None):
        memory, source_mask = self.encode(inputs["source"], training=training)
        target_ids = inputs["target"]  # (B, T), "[START]" first
        x = self.embedding_dropout(self.target_embedding(target_ids), training=training)
        for block in self.decoder_blocks:
            x = block(
                x, memory,
                decoder_padding_mask=ops.not_equal(target_ids, 0),
                encoder_padding_mask=source_mask, training=training,
            )  # (B, T, D)
        return self.logits(x)

    def attention_scores(self, inputs):
        """Every block's attention weights in one teacher-forced pass.

        `inputs` as in `call`. Returns `{"encoder": [...], "decoder": [...],
        "cross": [...]}`, one array per block, first block first: encoder
        self-attention `(B, H, S, S)`, decoder causal self-attention
        `(B, H, T, T)`, cross-attention `(B, H, T, S)`. `python -m zoo explain`
        draws them with `kattn.viz.attention_view`.
        """
        source_ids, target_ids = inputs["source"], inputs["target"]
        source_mask = ops.not_equal(source_ids, 0)  # (B, S)
        scores = {"encoder": [], "decoder": [], "cross": []}
        x = self.source_embedding(source_ids)
        for block in self.encoder_blocks:
            x, block_scores = block(x, padding_mask=source_mask, return_attention_scores=True)
            scores["encoder"].append(block_scores)  # (B, H, S, S)
        memory = ops.cast(self.final_norms[0](x), self.compute_dtype) if self.norm_first else x
        x = self.target_embedding(target_ids)
        for block in self.decoder_blocks:
            x, block_scores = block(
                x, memory, decoder_padding_mask=ops.not_equal(target_ids, 0),
                encoder_padding_mask=source_mask, return_attention_scores=True,
            )
            scores["decoder"].append(block_scores["self"])  # (B, H, T, T)
            scores["cross"].append(block_scores["cross"])  # (B, H, T, S)
        return scores

    # -- decoding ---------------------------------------------------------

    def start_decoding(self, source_ids, use_cache=True):
        memory, source_mask = self.encode(source_ids)  # once per sentence
        rows = source_ids.shape[0]
        head_dim = self.hidden_dim // self.num_heads
        last = len(self.decoder_blocks) - 1

        def cached_step(tokens, state, index):
            x = self.target_embedding(tokens[:, None], start_index=index)  # (B, 1, D)
            caches = []
            for i, block in enumerate(self.decoder_blocks):
                outputs = block(
                    x, memory, encoder_padding_mask=source_mask,
                    self_attention_cache=state[i], self_attention_cache_update_index=index,
                    return_attention_scores=(i == last),
                )
                x, cache = outputs[0], outputs[1]
                caches.append(cache)
            cross = outputs[2]["cross"]  # (B, H, 1, S)
            alignment = ops.mean(ops.cast(cross[:, :, 0, :], "float32"), axis=1)  # (B, S)
            return self.logits(x)[:, 0], caches, alignment

        def uncached_step(tokens, state, index):
            prefix = ops.slice_update(state, [0, index], tokens[:, None])  # (B, T)
            x = self.target_embedding(prefix)
            for i, block in enumerate(self.decoder_blocks):
                outputs = block(
                    x, memory, encoder_padding_mask=source_mask,
                    return_attention_scores=(i == last),
                )
                x = outputs[0] if i == last else outputs
            cross = outputs[1]["cross"][:, :, index, :]  # (B, H, S)
            alignment = ops.mean(ops.cast(cross, "float32"), axis=1)  # (B, S)
            logits = self.logits(ops.take(x, index, axis=1)[:, None])[:, 0]  # (B, V)
            return logits, prefix, alignment

        if not use_cache:
            return ops.zeros((rows, self.target_length), "int32"), uncached_step
        cache_shape = (rows, 2, self.target_length, self.num_heads, head_dim)
        caches = [ops.zeros(cache_shape, self.compute_dtype) for _ in self.decoder_blocks]
        return caches, cached_step

    @staticmethod
    def get_layout_map(device_mesh):
        """How `--distribution model` splits the translator over the `model` axis.

        Encoder and decoder blocks (self- and cross-attention kernels by
        heads, feed-forward kernels by inner width) and both embedding tables
        by width, the tied output projection with them. See `zoo.distribution`.

        >>> import keras
        >>> from zoo.translation import TransformerTranslator
        >>> mesh = keras.distribution.DeviceMesh((1, 1), ["batch", "model"],
        ...                                      keras.distribution.list_devices()[:1])
        >>> layouts = TransformerTranslator.get_layout_map(mesh)
        >>> layouts["transformer_translator/decoder_block_0/cross_attention/attention_output/kernel"].axes
        ('model', None, None)
        """
        from zoo import distribution

        return distribution.layout_map(device_mesh, distribution.BLOCK_LAYOUTS)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "tie_embeddings": self.tie_embeddings,
            "norm_first": self.norm_first,
        })
        return config
