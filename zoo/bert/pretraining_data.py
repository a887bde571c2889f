"""Masked-LM and next-sentence examples for BERT pretraining.

`pretraining_dataset` works in two stages:

1. Once, in Python: tokenize every sentence and cut each document into
   sentence pairs `(A, B)` that fill the sequence. Half of the pairs (drawn
   independently for each pair) keep the true next sentences as `B`
   (label 1); the others take `B` from a random place in another document
   (label 0). Pairs longer than the budget lose tokens from the front of `A`
   and the end of `B`, so the A|B boundary the next-sentence task looks at
   stays intact.
2. Every epoch, on each batch, `mask_tokens` (in a parallel `tf.data` map
   on TensorFlow; in NumPy, `mask_tokens_numpy`, elsewhere) chooses `round(n * mask_rate)` of the `n` ordinary tokens of each row
   ([CLS], [SEP], [PAD] and [MASK] are never chosen) and replaces 80 % of
   them with [MASK], 10 % with a random token and leaves 10 % unchanged. So
   every epoch sees new masks (dynamic masking).

Input text: `read_documents(path)` reads WikiText files (a line " = Title = "
starts an article) or plain text files (documents separated by blank lines).
"""

import copy
import math
import re

import keras
import numpy as np

from zoo import wordpiece

_WIKITEXT_TITLE = re.compile(r"^ = [^=].* = $")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# WikiText's escaped in-word punctuation: "1 @,@ 000" means "1,000".
_WIKITEXT_ESCAPES = ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."))


def split_sentences(paragraph):
    """Split a paragraph after `.`, `!` or `?` followed by a space."""
    return [s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip()]


def read_documents(path):
    """Documents (lists of sentences) from a WikiText or plain text file.

    WikiText: each " = Title = " line starts a new document (section headings
    " = = ... = = " are dropped) and `@-@`-style escapes are undone. Other
    files: documents are separated by blank lines. Lines are split into
    sentences with `split_sentences`.

    >>> import tempfile, os
    >>> from zoo.bert.pretraining_data import read_documents
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(path, "w").write("One. Two!\\nThree?\\n\\nFour.\\n")
    >>> read_documents(path)
    [['One.', 'Two!', 'Three?'], ['Four.']]
    """
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    wikitext = any(_WIKITEXT_TITLE.match(line) for line in lines[:1000])
    documents, current = [], []

    def close_document():
        if current:
            documents.append(list(current))
            current.clear()

    for line in lines:
        if wikitext:
            if _WIKITEXT_TITLE.match(line):
                close_document()
                continue
            if line.strip().startswith("= "):  # a section heading
                continue
            for escaped, plain in _WIKITEXT_ESCAPES:
                line = line.replace(escaped, plain)
        elif not line.strip():
            close_document()
            continue
        current.extend(split_sentences(line))
    close_document()
    return documents


def make_sentence_pairs(documents, budget, next_sentence_rate=0.5, seed=0):
    """Sentence pairs from tokenized documents.

    Args:
        documents: list of documents, each a list of sentences, each a list
            of token ids.
        budget: most tokens of A and B together (sequence length - 3).
        next_sentence_rate: probability that B is the true continuation.
        seed: for the random choices.

    Returns:
        A list of `(a_ids, b_ids, is_next)` with `is_next` 1 or 0.
    """
    rng = np.random.default_rng(seed)
    documents = [[s for s in doc if s] for doc in documents]
    documents = [doc for doc in documents if doc]
    if len(documents) < 2:
        raise ValueError(
            "`documents` must hold at least 2 non-empty documents (random "
            f"second segments come from another document); received {len(documents)}."
        )
    pairs = []
    for index, document in enumerate(documents):
        start = 0
        while start < len(document):
            # Sentences from `start` until the budget is filled.
            end, length = start, 0
            while end < len(document) and length < budget:
                length += len(document[end])
                end += 1
            chunk = document[start:end]
            is_next = rng.random() < next_sentence_rate
            if is_next:
                if len(chunk) >= 2:
                    split = int(rng.integers(1, len(chunk)))
                    a = _concat(chunk[:split])
                    b = _concat(chunk[split:])
                elif len(chunk[0]) >= 2:  # one long sentence: its two halves
                    half = len(chunk[0]) // 2
                    a, b = chunk[0][:half], chunk[0][half:]
                else:
                    start = end  # no true continuation exists: no pair here
                    continue
                start = end
            else:
                split = int(rng.integers(1, len(chunk))) if len(chunk) >= 2 else 1
                a = _concat(chunk[:split])
                b = _random_continuation(documents, index, budget - len(a), rng)
                start += split  # the unused sentences start the next pair
            a, b = _truncate_pair(a, b, budget)
            pairs.append((a, b, int(is_next)))
    return pairs


def _concat(sentences):
    return [token for sentence in sentences for token in sentence]


def _random_continuation(documents, index, budget, rng):
    """Sentences from a random place in a document other than `index`."""
    other = int(rng.integers(0, len(documents) - 1))
    other += other >= index  # skip the current document
    document = documents[other]
    position = int(rng.integers(0, len(document)))
    tokens = []
    while position < len(document) and len(tokens) < max(budget, 1):
        tokens.extend(document[position])
        position += 1
    return tokens


def _truncate_pair(a, b, budget):
    """Drop tokens from the longer segment (front of A, end of B) to fit."""
    a, b = list(a), list(b)
    excess = len(a) + len(b) - budget
    while excess > 0:
        if len(a) > len(b):
            a.pop(0)
        else:
            b.pop()
        excess -= 1
    return a, b


def pack_pairs(pairs, sequence_length, cls_id, sep_id, pad_id):
    """`[CLS] A [SEP] B [SEP] [PAD]...` as int32 arrays `(N, sequence_length)`.

    Returns `token_ids`, `segment_ids` and `is_next` `(N,)`.
    """
    count = len(pairs)
    token_ids = np.full((count, sequence_length), pad_id, dtype="int32")
    segment_ids = np.zeros((count, sequence_length), dtype="int32")
    is_next = np.zeros((count,), dtype="int32")
    for row, (a, b, label) in enumerate(pairs):
        ids = [cls_id, *a, sep_id, *b, sep_id]
        token_ids[row, : len(ids)] = ids
        segment_ids[row, len(a) + 2 : len(ids)] = 1
        is_next[row] = label
    return token_ids, segment_ids, is_next


def tokenize_documents(documents, tokenizer, batch_size=4096):
    """Token ids of every sentence of every document (nested Python lists)."""
    sentences = [sentence for document in documents for sentence in document]
    ids = []
    for start in range(0, len(sentences), batch_size):
        ids.extend(tokenizer.tokenize(sentences[start : start + batch_size]))
    tokenized, position = [], 0
    for document in documents:
        tokenized.append(ids[position : position + len(document)])
        position += len(document)
    return tokenized


def mask_tokens(
    token_ids,
    mask_rate,
    mask_length,
    mask_id,
    vocabulary_size,
    never_masked,
    mask_token_rate=0.8,
    random_token_rate=0.1,
):
    """Choose and corrupt tokens for the masked-LM task (TensorFlow ops).

    In each row with `n` candidate tokens (ids not in `never_masked`),
    `max(1, round(n * mask_rate))` positions are chosen uniformly at random,
    as in the original BERT code. (keras_hub's `MaskedLMMaskGenerator`
    chooses `ceil(n * rate)`, which on 64-token rows masks 16.3 % instead of
    15 %.) Each chosen token becomes [MASK] with probability
    `mask_token_rate`, a uniformly random id with `random_token_rate`, and
    stays as it is otherwise.

    Args:
        token_ids: int `(B, L)`.
        mask_length: `P`, the number of prediction slots per row; at least
            the largest number of chosen tokens.

    Returns:
        A dict: `token_ids` `(B, L)` corrupted; `mask_positions` `(B, P)`
        chosen positions in increasing order, then 0; `mask_ids` `(B, P)` the
        original ids there; `mask_weights` `(B, P)` float32, 1 on real slots.
    """
    import tensorflow as tf

    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    length = tf.shape(token_ids)[1]
    candidates = tf.logical_not(
        tf.reduce_any(token_ids[..., None] == tf.constant(never_masked, tf.int32), axis=-1)
    )  # (B, L)
    count = tf.reduce_sum(tf.cast(candidates, tf.float32), axis=1)  # (B,)
    to_choose = tf.where(count > 0, tf.maximum(1.0, tf.round(count * mask_rate)), 0.0)
    to_choose = tf.minimum(tf.cast(to_choose, tf.int32), mask_length)  # (B,)

    # A random score per candidate; the `to_choose` highest are chosen.
    scores = tf.where(candidates, tf.random.uniform(tf.shape(token_ids)), -1.0)
    _, ranked = tf.math.top_k(scores, k=mask_length)  # (B, P) positions
    slots = tf.range(mask_length)[None, :]  # (1, P)
    real = slots < to_choose[:, None]  # (B, P)
    positions = tf.sort(tf.where(real, ranked, length), axis=1)  # chosen first, in order
    positions = tf.where(real, positions, 0)  # (B, P)
    mask_ids = tf.gather(token_ids, positions, batch_dims=1)  # (B, P)

    # 80 % [MASK], 10 % random token, 10 % unchanged.
    draw = tf.random.uniform(tf.shape(positions))  # (B, P)
    random_ids = tf.random.uniform(tf.shape(positions), 0, vocabulary_size, tf.int32)
    new_ids = tf.where(draw < mask_token_rate, mask_id, mask_ids)
    new_ids = tf.where(
        (draw >= mask_token_rate) & (draw < mask_token_rate + random_token_rate),
        random_ids,
        new_ids,
    )
    rows = tf.broadcast_to(tf.range(tf.shape(positions)[0])[:, None], tf.shape(positions))
    indices = tf.boolean_mask(tf.stack([rows, positions], axis=-1), real)  # (chosen, 2)
    corrupted = tf.tensor_scatter_nd_update(token_ids, indices, tf.boolean_mask(new_ids, real))
    return {
        "token_ids": corrupted,
        "mask_positions": positions,
        "mask_ids": mask_ids,
        "mask_weights": tf.cast(real, tf.float32),
    }


def mask_tokens_numpy(
    token_ids,
    mask_rate,
    mask_length,
    mask_id,
    vocabulary_size,
    never_masked,
    rng,
    mask_token_rate=0.8,
    random_token_rate=0.1,
):
    """`mask_tokens` in NumPy, drawing from the generator `rng`.

    The same choices in distribution (the same counts per row, the same
    80 / 10 / 10 split); the draws themselves differ from TensorFlow's.
    """
    token_ids = np.asarray(token_ids, "int32")  # (B, L)
    batch, length = token_ids.shape
    candidates = ~np.isin(token_ids, never_masked)  # (B, L)
    count = candidates.sum(axis=1)  # (B,)
    to_choose = np.where(count > 0, np.maximum(1, np.round(count * mask_rate)), 0)
    to_choose = np.minimum(to_choose.astype("int32"), mask_length)  # (B,)

    # A random score per candidate; the `to_choose` highest are chosen.
    scores = np.where(candidates, rng.random((batch, length)), -1.0)
    ranked = np.argsort(-scores, axis=1, kind="stable")[:, :mask_length]  # (B, P) positions
    real = np.arange(mask_length)[None, :] < to_choose[:, None]  # (B, P)
    positions = np.sort(np.where(real, ranked, length), axis=1)  # chosen first, in order
    positions = np.where(real, positions, 0).astype("int32")  # (B, P)
    mask_ids = np.take_along_axis(token_ids, positions, axis=1)  # (B, P)

    # 80 % [MASK], 10 % random token, 10 % unchanged.
    draw = rng.random(positions.shape)  # (B, P)
    random_ids = rng.integers(0, vocabulary_size, positions.shape, dtype="int32")
    new_ids = np.where(draw < mask_token_rate, mask_id, mask_ids)
    new_ids = np.where(
        (draw >= mask_token_rate) & (draw < mask_token_rate + random_token_rate), random_ids, new_ids
    )
    corrupted = token_ids.copy()
    rows = np.broadcast_to(np.arange(batch)[:, None], positions.shape)
    corrupted[rows[real], positions[real]] = new_ids[real]
    return {
        "token_ids": corrupted,
        "mask_positions": positions,
        "mask_ids": mask_ids.astype("int32"),
        "mask_weights": real.astype("float32"),
    }


class PretrainingBatches(keras.utils.PyDataset):
    """Pretraining batches in NumPy (`pretraining_dataset` without TensorFlow).

    Batch `i` of epoch `e` is shuffled and masked from `(seed, e, i)` alone
    (`fixed_masks`: from `(seed, i)`, the same masks every epoch, for
    validation). `repeat` makes the batches go on for ever (`len` is then
    the batches of one pass; `fit` needs `steps_per_epoch`). `repeat()`
    gives the repeating version, as `tf.data.Dataset.repeat()` does.
    """

    def __init__(self, arrays, batch_size, make_batch, shuffle, repeat, seed, **kwargs):
        super().__init__(**kwargs)
        self.arrays = arrays  # token_ids, segment_ids, is_next
        self.batch_size = batch_size
        self.make_batch = make_batch
        self.shuffle = shuffle
        self.seed = seed
        self.drop_remainder = shuffle or repeat
        self.repeating = repeat
        self.epoch = 0
        count = len(arrays[0])
        self.batches_per_pass = count // batch_size if self.drop_remainder else math.ceil(count / batch_size)

    def on_epoch_end(self):
        self.epoch += 1

    def __len__(self):
        return self.batches_per_pass

    @property
    def num_batches(self):
        return None if self.repeating else self.batches_per_pass

    def repeat(self):
        """These batches, going on for ever."""
        repeating = copy.copy(self)
        repeating.repeating = True
        return repeating

    def __getitem__(self, index):
        pass_index, index = divmod(index, self.batches_per_pass)
        epoch = self.epoch + pass_index if self.shuffle else 0
        count = len(self.arrays[0])
        order = np.random.default_rng([self.seed, epoch]).permutation(count) if self.shuffle else np.arange(count)
        rows = order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, epoch, index, 1])
        return self.make_batch(*(array[rows] for array in self.arrays), rng)


def pretraining_dataset(
    documents,
    tokenizer,
    sequence_length,
    mask_rate=0.15,
    mask_token_rate=0.8,
    random_token_rate=0.1,
    next_sentence_rate=0.5,
    batch_size=32,
    shuffle=True,
    repeat=False,
    seed=0,
):
    """BERT pretraining batches: a `tf.data.Dataset` on TensorFlow, else a
    `PretrainingBatches` (NumPy).

    Args:
        documents: documents, each a list of sentences (strings), e.g. from
            `read_documents`.
        tokenizer: a `BertTokenizer`.
        sequence_length: tokens per example, with [CLS] and two [SEP].
        mask_rate: share of the ordinary tokens chosen for prediction.
        mask_token_rate, random_token_rate: of the chosen tokens, the share
            replaced by [MASK] and by a random token (the rest stay).
        next_sentence_rate: share of pairs whose B truly follows A.
        batch_size: examples per batch.
        shuffle: shuffle the examples (every epoch); with `shuffle` or `repeat`
            a short last batch is dropped.
        repeat: repeat forever (then pass `steps_per_epoch` to `fit`).
        seed: for the sentence pairs, the shuffling and (without TensorFlow)
            the masks. Without `shuffle` or `repeat` the masks are drawn once:
            every pass sees the same ones (for validation).

    Returns:
        Batches `(inputs, labels, sample_weights)`: `inputs` has `token_ids`
        (masked), `segment_ids`, `padding_mask` `(B, L)` and `mask_positions`
        `(B, P)` with `P = ceil(L * mask_rate)`; `labels` has `mlm` (the
        original ids at `mask_positions`, `(B, P)`) and `nsp` `(B,)`;
        `sample_weights` has `mlm` (1 on real predictions, 0 on padding
        slots) and `nsp` (ones). Ready for `BertPretrainer.fit`.

    Example:

    >>> from zoo.bert import BertTokenizer, pretraining_dataset
    >>> docs = [["the cat sat.", "it was happy."], ["a dog ran.", "it barked."]]
    >>> tokenizer = BertTokenizer.from_corpus([s for d in docs for s in d], 100)
    >>> data = pretraining_dataset(docs, tokenizer, sequence_length=16, batch_size=2)
    >>> inputs, labels, weights = next(iter(data))
    >>> sorted(inputs), tuple(inputs["mask_positions"].shape)
    (['mask_positions', 'padding_mask', 'segment_ids', 'token_ids'], (2, 3))
    """
    tokenized = tokenize_documents(documents, tokenizer)
    pairs = make_sentence_pairs(
        tokenized, sequence_length - 3, next_sentence_rate=next_sentence_rate, seed=seed
    )
    token_ids, segment_ids, is_next = pack_pairs(
        pairs, sequence_length, tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id
    )
    never_masked = [tokenizer.cls_id, tokenizer.sep_id, tokenizer.pad_id, tokenizer.mask_id]
    pad_id = tokenizer.pad_id
    mask_length = math.ceil(sequence_length * mask_rate)
    settings = dict(
        mask_rate=mask_rate,
        mask_length=mask_length,
        mask_id=tokenizer.mask_id,
        vocabulary_size=tokenizer.vocabulary_size(),
        never_masked=never_masked,
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )

    def batch_from(masked, segment_ids, is_next, padding_mask, nsp_weights):
        inputs = {
            "token_ids": masked["token_ids"],  # (B, L)
            "segment_ids": segment_ids,  # (B, L)
            "padding_mask": padding_mask,  # (B, L)
            "mask_positions": masked["mask_positions"],  # (B, P)
        }
        labels = {"mlm": masked["mask_ids"], "nsp": is_next}
        weights = {"mlm": masked["mask_weights"], "nsp": nsp_weights}  # (B, P), (B,)
        return inputs, labels, weights

    if not wordpiece.use_tensorflow_text():
        def numpy_batch(token_ids, segment_ids, is_next, rng):
            masked = mask_tokens_numpy(token_ids, rng=rng, **settings)
            return batch_from(
                masked, segment_ids, is_next, token_ids != pad_id, np.ones(is_next.shape, "float32")
            )

        return PretrainingBatches(
            (token_ids, segment_ids, is_next), batch_size, numpy_batch, shuffle, repeat, seed
        )
    import tensorflow as tf

    def mask_batch(token_ids, segment_ids, is_next):
        return batch_from(
            mask_tokens(token_ids, **settings), segment_ids, is_next,
            tf.not_equal(token_ids, pad_id), tf.ones_like(is_next, "float32"),
        )

    data = tf.data.Dataset.from_tensor_slices((token_ids, segment_ids, is_next))
    if shuffle:
        data = data.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        data = data.repeat()
    # Training batches all hold `batch_size` pairs: one shape to trace.
    data = data.batch(batch_size, drop_remainder=shuffle or repeat)
    data = data.map(mask_batch, num_parallel_calls=tf.data.AUTOTUNE)
    if not (shuffle or repeat):
        data = data.cache()  # the same masks on every pass
    return data.prefetch(tf.data.AUTOTUNE)
