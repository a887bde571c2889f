"""GPT: a decoder-only Transformer language model built from kattn's decoder blocks."""

import keras
import numpy as np
from keras import ops

import kattn
from kattn import checks
from zoo import compiling
from zoo.gpt.tokenizer import WordTokenizer

POSITIONS = ("learned", "rotary")
SAMPLERS = ("greedy", "top_k", "top_p")


@keras.saving.register_keras_serializable(package="zoo")
def gelu_approximate(x):
    """GELU with the tanh approximation, GPT-2's `gelu_new`."""
    return keras.activations.gelu(x, approximate=True)


def _activation(name):
    return gelu_approximate if name == "gelu_approximate" else keras.activations.get(name)


@keras.saving.register_keras_serializable(package="zoo")
class GPT(keras.Model):
    """A GPT language model: token ids `(B, T)` -> next-token logits `(B, T, V)`.

        ids -> token + learned position embeddings -> dropout
            -> num_layers x TransformerDecoderBlock(cross_attention=False, norm_first=True)
            -> LayerNorm -> logits = h @ E^T (the token embedding, tied)

    The decoder block of the translation model without its cross-attention:
    causal self-attention, so token t only sees tokens 0..t, is the whole
    difference from an encoder. `generate` decodes with each block's
    key/value cache `(B, 2, length, heads, head_dim)`, so a new token costs
    one pass of one position through the blocks.

    Args:
        vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim:
            the sizes (`hidden_dim` must be a multiple of `num_heads`).
        max_sequence_length: the longest sequence (learned positions).
        dropout: after the embeddings and inside every block.
        position: "learned" (a learned vector added per position, GPT-2) or
            "rotary" (queries and keys rotated by position inside attention,
            RoPE; no position embedding).
        num_key_value_heads: None (= `num_heads`), or fewer key/value heads
            shared by groups of query heads (grouped-query attention; 1 is
            multi-query); the cache then holds only these heads.
        activation: of the feed-forward layers; "gelu_approximate" (the tanh
            GELU of GPT-2, the default) or any Keras activation name.
        layer_norm_epsilon: of every LayerNorm (GPT-2: 1e-5).
        tokenizer: optional `WordTokenizer` (or its config), so that
            `generate` takes and returns strings and presets carry it.

    Example: train two steps on random ids, then generate.

    >>> import numpy as np, keras
    >>> from zoo.gpt import GPT
    >>> model = GPT(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16,
    ...             intermediate_dim=32, max_sequence_length=24)
    >>> ids = np.random.randint(0, 50, (8, 9))
    >>> model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    >>> history = model.fit(ids[:, :-1], ids[:, 1:], epochs=2, verbose=0)
    >>> tuple(model(ids[:, :-1]).shape)                    # (B, T, V)
    (8, 8, 50)
    >>> model.generate([[3, 4, 5]], max_new_tokens=4).shape  # prompt + 4 tokens
    (1, 7)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        max_sequence_length,
        dropout=0.0,
        position="learned",
        num_key_value_heads=None,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-5,
        tokenizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocabulary_size = checks.positive_int("vocabulary_size", vocabulary_size)
        self.num_layers = checks.positive_int("num_layers", num_layers)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        self.hidden_dim = checks.positive_int("hidden_dim", hidden_dim)
        self.intermediate_dim = checks.positive_int("intermediate_dim", intermediate_dim)
        self.max_sequence_length = checks.positive_int("max_sequence_length", max_sequence_length)
        self.dropout = checks.rate("dropout", dropout)
        self.position = checks.one_of("position", position, POSITIONS)
        self.num_key_value_heads = checks.positive_int(
            "num_key_value_heads", num_key_value_heads, allow_none=True
        )
        if hidden_dim % num_heads:
            raise ValueError(
                f"`hidden_dim` must be a multiple of `num_heads`; received {hidden_dim} "
                f"and {num_heads}."
            )
        self.activation = activation
        self.layer_norm_epsilon = float(layer_norm_epsilon)
        if isinstance(tokenizer, dict):
            tokenizer = WordTokenizer.from_config(tokenizer)
        if tokenizer is not None and tokenizer.vocabulary_size != vocabulary_size:
            raise ValueError(
                f"`tokenizer` has {tokenizer.vocabulary_size} words but `vocabulary_size` "
                f"is {vocabulary_size}."
            )
        self.tokenizer = tokenizer

        self.embedding = kattn.layers.TokenAndPositionEmbedding(
            vocabulary_size, hidden_dim, sequence_length=max_sequence_length,
            position="learned" if position == "learned" else None, name="embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.blocks = [
            kattn.layers.TransformerDecoderBlock(
                num_heads, intermediate_dim, dropout=dropout, activation=_activation(activation),
                layer_norm_epsilon=layer_norm_epsilon, norm_first=True, cross_attention=False,
                num_key_value_heads=num_key_value_heads, rotary=position == "rotary",
                name=f"block_{i}",
            )
            for i in range(num_layers)
        ]
        # Pre-norm stacks end with a LayerNorm (statistics in float32).
        self.final_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype="float32", name="final_norm"
        )
        self._generators = {}

    @property
    def head_dim(self):
        return self.hidden_dim // self.num_heads

    def build(self, input_shape=None):
        """Create every weight by running the model once on one token."""
        if self.built:
            return
        self.call(ops.zeros((1, 1), "int32"))
        self.built = True

    # -- the network ------------------------------------------------------

    def logits(self, x):
        """Block outputs `(B, T, D)` -> float32 logits `(B, T, V)`: `LayerNorm(x) @ E^T`."""
        x = ops.cast(self.final_norm(x), self.compute_dtype)
        table = self.embedding.token_embedding.embeddings  # (V, D), tied
        return ops.cast(ops.matmul(x, ops.transpose(ops.cast(table, x.dtype))), "float32")

    def call(self, token_ids, training=None, return_attention_scores=False):
        """Logits `(B, T, V)` of a causal pass; with `return_attention_scores`
        also the list of every block's scores `(B, heads, T, T)`."""
        x = self.embedding(token_ids)  # (B, T, D)
        x = self.embedding_dropout(x, training=training)
        scores = []
        for block in self.blocks:
            x = block(x, use_causal_mask=True, return_attention_scores=return_attention_scores,
                      training=training)
            if return_attention_scores:
                x, block_scores = x
                scores.append(block_scores["self"])  # (B, H, T, T)
        logits = self.logits(x)
        return (logits, scores) if return_attention_scores else logits

    def empty_cache(self, batch_size, length):
        """One zero cache `(B, 2, length, key_value_heads, head_dim)` per block."""
        key_value_heads = self.num_key_value_heads or self.num_heads
        shape = (batch_size, 2, length, key_value_heads, self.head_dim)
        return tuple(ops.zeros(shape, self.compute_dtype) for _ in self.blocks)

    def call_with_cache(self, token_ids, caches, index, return_attention_scores=False):
        """Run tokens `(B, T)` at positions `index .. index + T - 1` through the
        blocks, reading and writing their caches.

        Returns logits `(B, T, V)`, the updated caches, and the list of every
        block's scores `(B, heads, T, length)` (empty unless asked).
        """
        x = self.embedding(token_ids, start_index=index)  # (B, T, D)
        updated, scores = [], []
        for block, cache in zip(self.blocks, caches):
            outputs = block(x, self_attention_cache=cache, self_attention_cache_update_index=index,
                            return_attention_scores=return_attention_scores)
            x, cache = outputs[0], outputs[1]
            if return_attention_scores:
                scores.append(outputs[2]["self"])  # (B, H, T, length)
            updated.append(cache)
        return self.logits(x), tuple(updated), scores

    # -- generation -------------------------------------------------------

    def _sampler(self, sampler, temperature, seed, top_k, top_p):
        import keras_hub

        if not isinstance(sampler, str):
            return sampler  # a keras_hub.samplers.Sampler
        checks.one_of("sampler", sampler, SAMPLERS)
        if not float(temperature) > 0:
            raise ValueError(f"`temperature` must be positive; received {temperature!r}.")
        if sampler == "greedy":
            return keras_hub.samplers.GreedySampler(temperature=temperature)
        if sampler == "top_k":
            checks.positive_int("top_k", top_k)
            return keras_hub.samplers.TopKSampler(k=top_k, seed=seed, temperature=temperature)
        if not 0.0 < float(top_p) <= 1.0:
            raise ValueError(f"`top_p` must be in (0, 1]; received {top_p!r}.")
        return keras_hub.samplers.TopPSampler(p=top_p, seed=seed, temperature=temperature)

    def _generator(self, sampler, use_cache, return_attention):
        """`(tokens (B, L), prompt_mask (B, L), start) -> (tokens, record)`.

        The loop is the keras_hub samplers' own (`compute_probabilities`,
        `get_next_token`, `run_loop`), written out here so that the
        attention record can travel in the loop state and come back out.
        """

        def generate(tokens, prompt_mask, start):
            rows, length = ops.shape(tokens)[0], ops.shape(tokens)[1]
            record = ()  # attention row of every step's query, if asked
            if return_attention:
                record = ops.zeros((rows, self.num_layers, self.num_heads, length, length), "float32")
            caches = ()
            if use_cache:
                # Fill the caches with the prompts in one pass; positions past a
                # prompt hold padding, overwritten before any query can see them.
                _, caches, _ = self.call_with_cache(tokens, self.empty_cache(rows, length), 0)

            def next_logits(prompt, caches, record, index):
                """Logits `(B, V)` of the token at `index`, from the tokens before it."""
                if use_cache:
                    token = ops.slice(prompt, [0, index - 1], [rows, 1])  # (B, 1)
                    logits, caches, scores = self.call_with_cache(
                        token, caches, index - 1, return_attention_scores=return_attention
                    )  # logits (B, 1, V); scores: per block (B, H, 1, L)
                else:  # rerun the whole sequence: O(L^2) work per token
                    if return_attention:
                        logits, scores = self.call(prompt, return_attention_scores=True)
                    else:
                        logits, scores = self.call(prompt), []
                    logits = ops.slice(logits, [0, index - 1, 0], [rows, 1, self.vocabulary_size])
                    scores = [ops.slice(s, [0, 0, index - 1, 0], [rows, self.num_heads, 1, length])
                              for s in scores]
                if return_attention:
                    step = ops.cast(ops.stack(scores, axis=1), "float32")  # (B, layers, H, 1, L)
                    record = ops.slice_update(record, [0, 0, 0, index - 1, 0], step)
                return logits[:, 0], caches, record

            def cond(prompt, caches, record, index):
                return ops.convert_to_tensor(True)

            def body(prompt, caches, record, index):
                logits, caches, record = next_logits(prompt, caches, record, index)
                probabilities = sampler.compute_probabilities(logits)  # softmax(logits / T)
                chosen = ops.cast(sampler.get_next_token(probabilities), prompt.dtype)  # (B,)
                chosen = ops.where(prompt_mask[:, index], prompt[:, index], chosen)  # keep prompts
                prompt = ops.slice_update(prompt, [0, index], chosen[:, None])
                return prompt, caches, record, index + 1

            tokens, _, record, _ = sampler.run_loop(
                cond, body, loop_vars=(tokens, caches, record, start),
                maximum_iterations=length - start, model=self,
            )
            return tokens, record

        return compiling.compile_function(generate, self.variables, sampler.variables)

    def _generator_for(self, sampler, temperature, seed, top_k, top_p, use_cache, return_attention):
        """The compiled generator of a setting, made once. A seeded sampler's
        random state is reset before each use, so a seed always gives the
        same tokens."""
        if not isinstance(sampler, str):  # a keras_hub Sampler instance: used as is
            return self._generator(sampler, use_cache, return_attention)
        key = (sampler, float(temperature), seed, top_k, top_p, use_cache, return_attention)
        if key not in self._generators:
            made = self._sampler(sampler, temperature, seed, top_k, top_p)
            initial = [ops.convert_to_numpy(v) for v in made.variables]
            self._generators[key] = (self._generator(made, use_cache, return_attention), made, initial)
        generator, made, initial = self._generators[key]
        if seed is not None:
            for variable, value in zip(made.variables, initial):
                variable.assign(value)
        return generator

    def generate(
        self,
        prompts,
        max_new_tokens,
        sampler="greedy",
        temperature=1.0,
        seed=None,
        return_attention=False,
        top_k=10,
        top_p=0.9,
        use_cache=True,
    ):
        """Continue every prompt by `max_new_tokens` tokens.

        Args:
            prompts: a list of strings (needs the model's `tokenizer`), or of
                token-id lists, or an int array `(B, T)`. Prompts may differ in
                length; each gets `max_new_tokens` new tokens.
            max_new_tokens: how many tokens to add.
            sampler: "greedy" (the most likely token), "top_k" (sample among
                the `top_k` most likely), "top_p" (sample from the smallest set
                of tokens holding probability `top_p`), or a
                `keras_hub.samplers.Sampler`.
            temperature: logits are divided by it before the softmax (below
                1: sharper, above 1: flatter).
            seed: of the sampling (top_k, top_p); the same seed gives the
                same text.
            return_attention: also return, per prompt, the attention of every
                generated token: `(layers, heads, max_new_tokens, length)`,
                row i being the scores of the query that produced new token i
                over the tokens before it (prompt + earlier new tokens;
                `length` = prompt + new tokens - 1).
            top_k, top_p: the samplers' parameters.
            use_cache: decode with the key/value cache (False reruns the whole
                sequence at every step; the same tokens, more work).

        Returns:
            Strings (prompt and continuation) for string prompts, else an
            int32 array `(B, T + max_new_tokens)` (or a list of arrays for
            prompts of different lengths); then the list of attention
            arrays if asked.
        """
        rows, as_text = self._prompt_ids(prompts)
        max_new_tokens = checks.positive_int("max_new_tokens", max_new_tokens)
        lengths = [len(row) for row in rows]
        length = max(lengths) + max_new_tokens
        if length > self.max_sequence_length:
            raise ValueError(
                f"the longest prompt ({max(lengths)} tokens) plus `max_new_tokens`="
                f"{max_new_tokens} exceeds `max_sequence_length`={self.max_sequence_length}."
            )
        self.build()
        tokens = np.zeros((len(rows), length), "int32")
        prompt_mask = np.zeros((len(rows), length), bool)
        for i, row in enumerate(rows):
            tokens[i, : len(row)] = row
            prompt_mask[i, : len(row)] = True
        generator = self._generator_for(sampler, temperature, seed, top_k, top_p,
                                        bool(use_cache), bool(return_attention))
        out, record = generator(
            ops.convert_to_tensor(tokens), ops.convert_to_tensor(prompt_mask),
            ops.convert_to_tensor(min(lengths), "int32"),
        )
        out = ops.convert_to_numpy(out)
        outputs = [out[i, : n + max_new_tokens] for i, n in enumerate(lengths)]
        if as_text:
            outputs = [self.tokenizer.decode(row) for row in outputs]
        elif len(set(lengths)) == 1:
            outputs = np.stack(outputs)
        if not return_attention:
            return outputs
        record = ops.convert_to_numpy(record)  # (B, layers, H, L, L)
        attention = [
            record[i, :, :, n - 1 : n - 1 + max_new_tokens, : n - 1 + max_new_tokens]
            for i, n in enumerate(lengths)
        ]
        return outputs, attention

    def _prompt_ids(self, prompts):
        """Prompts as lists of ids, and whether they were strings."""
        if isinstance(prompts, str):
            raise ValueError("`prompts` must be a list of prompts; received one string.")
        prompts = list(prompts) if not isinstance(prompts, np.ndarray) else prompts
        if len(prompts) == 0:
            raise ValueError("`prompts` must hold at least one prompt; received none.")
        as_text = isinstance(prompts[0], str)
        if as_text:
            if self.tokenizer is None:
                raise ValueError(
                    "`prompts` are strings but this model has no tokenizer; pass token ids."
                )
            rows = [self.tokenizer.encode(text) for text in prompts]
        else:
            rows = [np.asarray(row, "int32").reshape(-1) for row in prompts]
        for row in rows:
            if len(row) == 0:
                raise ValueError("every prompt must hold at least one token; received an empty one.")
            if row.min() < 0 or row.max() >= self.vocabulary_size:
                raise ValueError(
                    f"prompt token ids must be in [0, {self.vocabulary_size}); received "
                    f"{row.min()}..{row.max()}."
                )
        return rows, as_text

    def stream(self, prompt, max_new_tokens, sampler="greedy", temperature=1.0, seed=None,
               top_k=10, top_p=0.9):
        """Yield the new tokens of one prompt one at a time, as they are made.

        Takes one prompt (a string with a tokenizer, or token ids) and yields
        words (with a tokenizer) or ids; the same tokens as `generate`.

        >>> from zoo.gpt import GPT
        >>> model = GPT(20, 1, 2, 8, 16, max_sequence_length=10)
        >>> len(list(model.stream([1, 2], max_new_tokens=3)))
        3
        """
        (row,), as_text = self._prompt_ids([prompt])
        max_new_tokens = checks.positive_int("max_new_tokens", max_new_tokens)
        if len(row) + max_new_tokens > self.max_sequence_length:
            raise ValueError(
                f"the prompt ({len(row)} tokens) plus `max_new_tokens`={max_new_tokens} "
                f"exceeds `max_sequence_length`={self.max_sequence_length}."
            )
        self.build()
        sampler = self._sampler(sampler, temperature, seed, top_k, top_p)
        caches = self.empty_cache(1, len(row) + max_new_tokens)
        logits, caches, _ = self.call_with_cache(ops.convert_to_tensor(row[None]), caches, 0)
        logits = logits[:, -1]  # (1, V)
        for index in range(len(row), len(row) + max_new_tokens):
            token = sampler.get_next_token(sampler.compute_probabilities(logits))  # (1,)
            token = int(ops.convert_to_numpy(token)[0])
            yield self.tokenizer.vocabulary[token] if as_text else token
            if index + 1 < len(row) + max_new_tokens:
                step = ops.convert_to_tensor([[token]], "int32")
                logits, caches, _ = self.call_with_cache(step, caches, index)
                logits = logits[:, 0]

    # -- saving -----------------------------------------------------------

    def input_description(self):
        """What `generate`, `stream` and `predict` take and return, for the model card.

        >>> from zoo.gpt import GPT
        >>> GPT(20, 1, 2, 8, 16, max_sequence_length=10).input_description()[:40]
        '`generate(prompts, max_new_tokens)` take'
        """
        words = ("a list of prompt strings (split on whitespace into words; a word the model "
                 "never saw is read as `<unk>`, as WikiText writes rare words) or of token-id "
                 "lists, " if self.tokenizer is not None else "token-id lists, ")
        return (
            f"`generate(prompts, max_new_tokens)` takes {words}and returns each prompt "
            f"followed by `max_new_tokens` new tokens (strings for string prompts); prompt plus "
            f"new tokens may hold at most {self.max_sequence_length} tokens. `sampler` is "
            "\"greedy\", \"top_k\" or \"top_p\" (`seed` makes sampling repeatable); "
            "`stream(prompt, max_new_tokens)` yields the new words one by one. `predict` / "
            f"`call` take token ids `(N, T)` int32, T <= {self.max_sequence_length}, and return "
            f"next-token logits `(N, T, {self.vocabulary_size})`."
        )

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "max_sequence_length": self.max_sequence_length,
            "dropout": self.dropout,
            "position": self.position,
            "num_key_value_heads": self.num_key_value_heads,
            "activation": self.activation,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "tokenizer": None if self.tokenizer is None else self.tokenizer.get_config(),
        })
        return config
