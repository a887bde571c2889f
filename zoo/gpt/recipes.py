"""The `gpt-wikitext2` recipe: a word-level GPT on WikiText-2.

    python -m zoo train gpt-wikitext2                  # full size
    python -m zoo train gpt-wikitext2 --quick          # tiny, to check that it runs
    python -m zoo generate runs/gpt-wikitext2 "the meaning of"

`build_wikitext2(options)` is also what `python -m bench gpt` trains, so the
benchmark measures exactly what the CLI trains.
"""

import math

import keras
import numpy as np

from zoo import recipes
from zoo.gpt import data
from zoo.gpt.model import GPT

# Short windows and small batches: at a budget of about one epoch, many
# small updates beat few large ones (probes on 300k tokens, validation
# perplexity, learned positions: windows of 128 x batch 16: 832 and 64 x 16:
# 605 at width 192; 64 x 8: 552, 64 x 4: 526, 64 x 2: 539 at width 160),
# and dropout only slows learning (the model sees each token about once).
SEQUENCE_LENGTH = 64
BATCH_SIZE = 4
# Width 160: the 33,278-word embedding (tied to the output layer) is most of
# the 6.6 M parameters and of the work per token; it keeps the float16 preset
# under 15 MB, and learned as fast as width 192 in the probes (568 vs 573
# at learning rate 3e-3; 192 reached 561 at 2e-3, 573 at 3e-3).
# Rotary positions learn much faster than learned ones at this budget: the
# model need not first learn a vector per position (batch 4: 402 vs 526;
# at learning rate 3e-3: 417; batch 8: 437 vs 552).
SIZES = dict(num_layers=4, num_heads=4, hidden_dim=160, intermediate_dim=640, dropout=0.0,
             position="rotary")
QUICK_SIZES = dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0,
                   position="rotary")
QUICK_LINES = 300  # lines of each split in quick mode
LEARNING_RATE = 2e-3
WARMUP_STEPS = 100
WEIGHT_DECAY = 0.01


def make_model(tokenizer, sizes, sequence_length=SEQUENCE_LENGTH):
    model = GPT(
        vocabulary_size=tokenizer.vocabulary_size, max_sequence_length=sequence_length,
        tokenizer=tokenizer, **sizes,
    )
    model.build()
    return model


def compile_model(model, total_steps, learning_rate=LEARNING_RATE, warmup_steps=WARMUP_STEPS,
                  jit_compile="auto"):
    """AdamW with a linear warm-up then a cosine decay over `total_steps`; the
    next-token cross-entropy (its exp is the perplexity)."""
    warmup_steps = min(warmup_steps, max(1, total_steps // 10))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, total_steps - warmup_steps), warmup_target=learning_rate,
        warmup_steps=warmup_steps, alpha=0.1,
    )
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=WEIGHT_DECAY, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def perplexity(model, stream, sequence_length=SEQUENCE_LENGTH, batch_size=16, stride=None):
    """exp(mean next-token cross-entropy) over the stream, every token predicted once.

    The stream is read in windows of `sequence_length` tokens, `stride` apart
    (default: half a window). The first window scores all its predictions;
    each later window scores only its last `stride` ones, so that every token
    is predicted with at least `sequence_length - stride` tokens before it
    (with `stride=sequence_length`, windows do not overlap and the first
    tokens of each window are predicted from almost nothing). The tail that
    does not fill a window is dropped.

    >>> import numpy as np
    >>> from zoo.gpt import GPT
    >>> from zoo.gpt.recipes import perplexity
    >>> model = GPT(10, 1, 2, 8, 16, max_sequence_length=8)
    >>> 1.0 < perplexity(model, np.arange(50) % 10, sequence_length=8) < 100.0
    True
    """
    if len(stream) < sequence_length + 1:
        raise ValueError(
            f"`stream` must hold at least sequence_length + 1 = {sequence_length + 1} tokens; "
            f"received {len(stream)}."
        )
    stride = stride or sequence_length // 2
    x, y = data.windows(np.asarray(stream), sequence_length, stride)  # (N, T), (N, T)
    scored = np.zeros(y.shape, "float32")  # (N, T): 1 where a prediction counts
    scored[0] = 1.0
    scored[1:, sequence_length - stride:] = 1.0
    total = 0.0
    for start in range(0, len(x), batch_size):
        logits = model(x[start : start + batch_size], training=False)  # (b, T, V)
        losses = keras.losses.sparse_categorical_crossentropy(
            y[start : start + batch_size], logits, from_logits=True
        )  # (b, T)
        total += float(keras.ops.sum(losses * scored[start : start + batch_size]))
    return math.exp(total / scored.sum())


def build_wikitext2(options, sizes=None, sequence_length=SEQUENCE_LENGTH, total_steps=None):
    """A compiled GPT and WikiText-2 windows, as a `recipes.Run`.

    `total_steps` sets the length of the learning-rate schedule (default:
    the recipe's epochs over the training windows).
    """
    splits = data.load_wikitext2(options.data, max_lines=QUICK_LINES if options.quick else None)
    if options.quick:
        sequence_length = 16
    sizes = sizes or (QUICK_SIZES if options.quick else SIZES)
    model = make_model(splits.tokenizer, sizes, sequence_length)
    x, y = data.windows(splits.train, sequence_length)
    batch_size = options.batch_size or BATCH_SIZE
    epochs = options.epochs or (1 if options.quick else 6)
    total_steps = total_steps or epochs * math.ceil(len(x) / batch_size)
    jit = "auto" if options.jit is None else options.jit
    compile_model(model, total_steps, jit_compile=jit)
    return recipes.Run(
        model=model,
        train=(x, y),
        validation=data.windows(splits.valid, sequence_length),
        evaluate=lambda trained, limit=None: {  # limit: the first tokens of the test stream
            "test_perplexity": perplexity(trained, splits.test[:limit], sequence_length),
        },
        epochs=epochs,
        monitor="val_loss",
        patience=2,
        batch_size=batch_size,
        data=("WikiText-2 (wikitext-2-v1 tokens), word level, <eos> per line: "
              f"{len(splits.train):,} training tokens, windows of {sequence_length}"
              + (f", first {QUICK_LINES} lines of each split" if options.quick else "")),
    )


@recipes.register("gpt-wikitext2", preset="gpt-wikitext2",
                  description="GPT (decoder-only Transformer), word-level WikiText-2")
def gpt_wikitext2(options):
    return build_wikitext2(options)
