"""Data pipeline throughput vs the model step: BERT pretraining (issue #10).

    python -m bench pipeline            # about 5 minutes on 2 idle cores
    python -m bench pipeline --quick    # a few documents, checks that it runs

Three rates, in examples (packed sentence pairs of 128 tokens) per second,
on WikiText-2 train:

1. tokenization: WordPiece (`BertTokenizer`, the 8,000-token vocabulary
   learned by `python -m bench bert`, learned here if missing), sentence
   pairing and packing, i.e. the eager part of `zoo.bert.pretraining_dataset`;
2. masking and batching: one pass over the `tf.data` pipeline (15 % of the
   tokens chosen, 80/10/10 mask/random/keep), batch 32;
3. the model: training steps of a BERT-small `BertPretrainer` (4 layers,
   width 512, 8 heads) on batches of that pipeline, with `train_on_batch`.

The pipeline keeps the model busy when rate 2 is well above rate 3 (the
`tf.data` map runs beside the step, on the same 2 cores); rate 1 is paid once
per run, before training.
"""

import time

import keras
import numpy as np

from bench import _timing
from bench import common


def _tokenizer(documents, quick, length):
    from zoo.bert import BertTokenizer

    if quick:
        from zoo.bert.recipes import whole_word_tokenizer

        return whole_word_tokenizer([s for d in documents for s in d], length)
    from bench.bert import _vocabulary

    path, _ = _vocabulary(quick=False)  # reuses the cached vocabulary when present
    return BertTokenizer(path, sequence_length=length)


def run(quick=False):
    from zoo.bert import BertBackbone, BertPretrainer, pretraining_dataset
    from zoo.bert.recipes import pretraining_documents

    length, batch = (32, 8) if quick else (128, 32)
    size = dict(num_layers=1, num_heads=2, hidden_dim=32, intermediate_dim=64) if quick else dict(
        num_layers=4, num_heads=8, hidden_dim=512, intermediate_dim=2048
    )
    model_steps = 3 if quick else 10
    documents, _, description = pretraining_documents(quick=quick)
    if not quick:
        documents = documents[:2000]  # about a third of WikiText-2 train
    tokenizer = _tokenizer(documents, quick, length)

    # 1. tokenize, pair and pack (eager, inside pretraining_dataset)
    start = time.perf_counter()
    data = pretraining_dataset(documents, tokenizer, length, batch_size=batch, shuffle=False)
    tokenize_seconds = time.perf_counter() - start

    # 2. masking and batching: one full pass
    start = time.perf_counter()
    examples = 0
    for inputs, _, _ in data:
        examples += int(inputs["token_ids"].shape[0])
    masking_seconds = time.perf_counter() - start

    # 3. the model step on one of those batches
    keras.utils.set_random_seed(0)
    model = BertPretrainer(BertBackbone(tokenizer.vocabulary_size(), **size, max_sequence_length=length))
    model.compile()
    x, y, w = next(iter(data))
    times = _timing.interleaved({"step": lambda: model.train_on_batch(x, y, sample_weight=w)}, model_steps)
    model_rate = batch / _timing.median(times["step"])

    tokenize_rate = examples / tokenize_seconds
    masking_rate = examples / masking_seconds
    rows = [
        ["1. tokenize + pair + pack (once per run)", f"{tokenize_rate:,.0f}", f"{tokenize_rate / model_rate:.1f}x"],
        ["2. mask + batch (`tf.data`, every epoch)", f"{masking_rate:,.0f}", f"{masking_rate / model_rate:.1f}x"],
        [f"3. BertPretrainer training step (batch {batch})", f"{model_rate:,.1f}", "1.0x"],
    ]
    print(rows, flush=True)
    return "\n".join([
        "## Data pipeline vs model step: BERT pretraining (issue #10)",
        "",
        f"{len(documents):,} documents of {description}, {examples:,} packed examples of {length} tokens, "
        f"vocabulary {tokenizer.vocabulary_size():,}; model: {size['num_layers']} layers, width "
        f"{size['hidden_dim']}, {size['num_heads']} heads, FFN {size['intermediate_dim']} "
        f"(median of {model_steps} steps). Above 1x the stage produces examples faster than the model "
        "consumes them.",
        "",
        common.table(["stage", "examples/s", "÷ model examples/s"], rows),
    ])
