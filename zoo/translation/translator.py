"""What both translators share: tokenizers, training arrays and `translate`.

A subclass builds its layers and defines three things:

- `call({"source": (B, S), "target": (B, T)})` -> next-token logits
  `(B, T, V)` in float32 (teacher forcing: "target" starts with "[START]");
- `start_decoding(source_ids)` -> `(state, step)`, the initial decoding state
  and the `step(tokens, state, index)` function of `zoo.translation.decoding`.

Everything else (turning strings into ids, the compiled search loops,
cutting alignments to each sentence's length, saving the tokenizers with the
model) lives here.
"""

import keras
import numpy as np
from keras import ops

from zoo import compiling, text_inputs
from zoo.translation import decoding, tokenizers

TOKENIZERS = {
    "CharacterTokenizer": tokenizers.CharacterTokenizer,
    "WordPieceTokenizer": tokenizers.WordPieceTokenizer,
}


def _tokenizer(value):
    if isinstance(value, dict):
        return TOKENIZERS[value["class_name"]].from_config(value["config"])
    return value


def _tokenizer_config(tokenizer):
    return {"class_name": type(tokenizer).__name__, "config": tokenizer.get_config()}


class Translator(keras.Model):
    """Base class of `RNNAttentionTranslator` and `TransformerTranslator`.

    Args:
        source_tokenizer, target_tokenizer: from `zoo.translation.tokenizers`
            (or their serialised form, as found in a saved config).
        source_length: source tokens kept (longer inputs are cut).
        target_length: most tokens generated, "[END]" included.
    """

    decode_batch_size = 64

    def __init__(self, source_tokenizer, target_tokenizer, source_length, target_length, **kwargs):
        super().__init__(**kwargs)
        self.source_tokenizer = _tokenizer(source_tokenizer)
        self.target_tokenizer = _tokenizer(target_tokenizer)
        self.source_length = int(source_length)
        self.target_length = int(target_length)
        self._decoders = {}

    # -- data -------------------------------------------------------------

    def encode_source(self, texts):
        """`(N, source_length)` int32 ids of source strings."""
        return self.source_tokenizer.encode(list(texts), self.source_length)

    def make_arrays(self, pairs):
        """`(x, y)` for `fit`: x = {"source", "target"}, y = the next tokens.

        "target" is `[START] y1 ... yn` and y is `y1 ... yn [END]`, both
        `(N, target_length)` and padded with 0 (ignored by the loss).
        """
        sources = [source for source, _ in pairs]
        targets = [target for _, target in pairs]
        target_ids = self.target_tokenizer.encode(
            targets, self.target_length + 1, start=True, end=True
        )  # (N, T + 1)
        x = {"source": self.encode_source(sources), "target": target_ids[:, :-1]}
        return x, target_ids[:, 1:]

    def build(self, input_shape=None):
        """Create every weight by running the model once on padding."""
        if self.built:
            return
        self.call({
            "source": ops.zeros((1, self.source_length), "int32"),
            "target": ops.zeros((1, self.target_length), "int32"),
        })
        self.built = True

    # -- decoding ---------------------------------------------------------

    def start_decoding(self, source_ids):
        raise NotImplementedError

    def _decoder(self, method, beam_size):
        """The compiled search for `(method, beam_size)`, made once."""
        key = (method, beam_size)
        if key not in self._decoders:
            batch_size = self.decode_batch_size

            def search(source_ids):  # (B, S) -> tokens (B, T + 1), alignments (B, T, S)
                if method == "greedy":
                    state, step = self.start_decoding(source_ids)
                    return decoding.greedy_search(
                        step, state, batch_size, self.target_length, self.source_length
                    )
                copies = ops.repeat(source_ids, beam_size, axis=0)  # (B * K, S)
                state, step = self.start_decoding(copies)
                return decoding.beam_search(
                    step, state, batch_size, beam_size, self.target_length, self.source_length
                )

            self._decoders[key] = compiling.compile_function(search, self.variables)
        return self._decoders[key]

    def translate(self, texts, method="greedy", beam_size=4, return_attention=False):
        """Translate strings.

        Args:
            texts: a list of source strings (the rules of `zoo.text_inputs`:
                a bare string, an empty list, a non-string or an empty text
                is a ValueError; a text longer than `source_length` tokens
                is cut and one with tokens the model never saw is read with
                "[UNK]", each with an `InputWarning`).
            method: "greedy" or "beam".
            beam_size: hypotheses kept per sentence with `method="beam"`.
            return_attention: also return, per sentence, the alignment
                `(target_tokens, source_tokens)`: row i is the attention over
                the source while producing output token i; rows sum to 1.

        Returns:
            A list of strings, and the list of alignments if asked.
        """
        if method not in ("greedy", "beam"):
            raise ValueError(f"`method` must be 'greedy' or 'beam'; received {method!r}.")
        if method == "beam" and (not isinstance(beam_size, int) or beam_size < 1):
            raise ValueError(f"`beam_size` must be a positive int; received {beam_size!r}.")
        texts = text_inputs.check_texts(texts)
        self.build()
        search = self._decoder(method, beam_size)
        source_ids = self.encode_source(texts)  # (N, S)
        tokenizer = self.source_tokenizer
        text_inputs.warn_if_cut(
            texts, [len(ids) for ids in tokenizer.split_batch(texts)], self.source_length, tokenizer.unit
        )
        text_inputs.warn_if_unknown(
            texts, tokenizer.unknown(texts), f"{tokenizer.unit} the model never saw, read as unknown"
        )
        batch = self.decode_batch_size
        all_tokens, all_alignments = [], []
        for start in range(0, len(texts), batch):
            chunk = source_ids[start : start + batch]
            padded = np.zeros((batch, self.source_length), "int32")
            padded[: len(chunk)] = chunk  # a fixed shape: compiled once
            tokens, alignments = search(ops.convert_to_tensor(padded))
            all_tokens.append(ops.convert_to_numpy(tokens)[: len(chunk)])
            all_alignments.append(ops.convert_to_numpy(alignments)[: len(chunk)])
        tokens = np.concatenate(all_tokens)
        translations = self.target_tokenizer.decode(tokens[:, 1:])
        if not return_attention:
            return translations
        alignments = np.concatenate(all_alignments)
        cut = []
        for row, (ids, alignment) in enumerate(zip(tokens, alignments)):
            target_count = len(self.target_tokenizer.tokens(ids[1:]))
            source_count = int(np.sum(source_ids[row] != tokenizers.PAD_ID))
            cut.append(alignment[:target_count, :source_count])
        return translations, cut

    def input_description(self):
        """What `translate` and `predict` take, for the model card."""
        unit = self.source_tokenizer.unit
        normal = " (in Unicode NFKC form)" if unit == "characters" else ""
        return (
            f"`translate(texts)` takes a list of raw strings and returns a list of strings. Each text "
            f"is read as {unit}{normal}, the first {self.source_length} of them (longer texts are cut "
            f"with a warning, {unit} the model never saw are read as unknown with a warning, an empty "
            "text is refused). `predict` / `call` take token ids (teacher forcing): "
            f"`{{\"source\": (N, {self.source_length}), \"target\": (N, {self.target_length})}}` int32."
        )

    def get_config(self):
        config = super().get_config()
        config.update({
            "source_tokenizer": _tokenizer_config(self.source_tokenizer),
            "target_tokenizer": _tokenizer_config(self.target_tokenizer),
            "source_length": self.source_length,
            "target_length": self.target_length,
        })
        return config
