"""Training recipes for `python -m zoo train NAME` (see `zoo/recipes.py`).

    python -m zoo train translation-dates-transformer --output zoo/presets/dates-transformer
    python -m zoo train translation-dates-rnn --output zoo/presets/dates-rnn
    python -m zoo train translation-anki-transformer        # Tatoeba spa -> eng
    python -m zoo train translation-anki-rnn

`build_dates(kind, options)` and `build_anki(kind, options)` are also what
`bench/translation.py` and `python -m zoo demo` call, so the benchmark
measures exactly what the CLI trains.
"""

import keras

from zoo import recipes
from zoo.translation import data, training
from zoo.translation.rnn import RNNAttentionTranslator
from zoo.translation.tokenizers import CharacterTokenizer, WordPieceTokenizer
from zoo.translation.transformer import TransformerTranslator

DATES_SOURCE_LENGTH = 32  # the longest written date is 31 characters
DATES_TARGET_LENGTH = 11  # "YYYY-MM-DD" and "[END]"
ANKI_LENGTH = 48  # WordPiece tokens kept per sentence (the longest test sentence: 40)

DATES_SIZES = {  # small models: < 1 MB each, trained in minutes on 2 CPU cores
    "transformer": dict(num_layers=2, num_heads=4, hidden_dim=64, intermediate_dim=128, dropout=0.0),
    "rnn": dict(embedding_dim=32, units=64),
}
ANKI_SIZES = {
    "transformer": dict(num_layers=2, num_heads=4, hidden_dim=256, intermediate_dim=1024, dropout=0.1),
    "rnn": dict(embedding_dim=256, units=256),
}
QUICK_SIZES = {
    "transformer": dict(num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0),
    "rnn": dict(embedding_dim=8, units=16),
}
MODELS = {"transformer": TransformerTranslator, "rnn": RNNAttentionTranslator}


def make_model(kind, source_tokenizer, target_tokenizer, source_length, target_length, sizes):
    model = MODELS[kind](source_tokenizer, target_tokenizer, source_length, target_length, **sizes)
    model.build()
    return model


def compile_model(model, options, learning_rate, label_smoothing=0.0, warmup_steps=0,
                  decay_steps=None):
    """Adam (with a linear warm-up if asked, then a cosine decay to a tenth
    over `decay_steps` if given), masked loss and token accuracy."""
    schedule = learning_rate
    if warmup_steps or decay_steps:
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup_steps else learning_rate,
            decay_steps=decay_steps or 10**6,
            warmup_target=learning_rate if warmup_steps else None,
            warmup_steps=warmup_steps,
            alpha=0.1 if decay_steps else 1.0,
        )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0),
        loss=training.MaskedCrossEntropy(label_smoothing=label_smoothing),
        metrics=[training.masked_accuracy],
        # XLA only when asked: it cannot compile the gradient of the RNN's
        # scan, and compiling the Transformer took ~4 minutes on our 2 CPUs.
        jit_compile=bool(options.jit),
    )
    return model


def build_dates(kind, options):
    """A compiled dates model and its data, as a `recipes.Run`."""
    sizes = dict(train_size=200, validation_size=50, test_size=50) if options.quick else {}
    splits = data.load_dates(seed=options.seed, **sizes)
    source_tokenizer = CharacterTokenizer.from_texts(source for source, _ in splits.train)
    target_tokenizer = CharacterTokenizer.from_texts("0123456789-")
    model = make_model(
        kind, source_tokenizer, target_tokenizer, DATES_SOURCE_LENGTH, DATES_TARGET_LENGTH,
        QUICK_SIZES[kind] if options.quick else DATES_SIZES[kind],
    )
    compile_model(model, options, learning_rate=3e-3 if kind == "rnn" else 2e-3)
    return recipes.Run(
        model=model,
        train=model.make_arrays(splits.train),
        validation=model.make_arrays(splits.validation),
        evaluate=lambda trained, limit=None: {
            "test_exact_match": training.exact_match(trained, splits.test[:limit]),
        },
        epochs=1 if options.quick else 8,
        monitor="val_loss",
        patience=2,
        batch_size=options.batch_size or 64,
        data=f"zoo.translation.load_dates(seed={options.seed}): "
        f"{len(splits.train)} / {len(splits.validation)} / {len(splits.test)} pairs",
    )


def anki_tokenizers(train_pairs, source_vocabulary=8000, target_vocabulary=8000):
    """Cased WordPiece vocabularies built from the training split only."""
    source = WordPieceTokenizer.from_texts([s for s, _ in train_pairs], source_vocabulary)
    target = WordPieceTokenizer.from_texts([t for _, t in train_pairs], target_vocabulary)
    return source, target


def anki_splits(options):
    """Tatoeba (Spanish, English) pairs on the ANCHORS split (`data.split_pairs`)."""
    pairs = [(other, english) for english, other in data.load_anki(options.data)]
    return data.split_pairs(pairs, seed=0)


def anki_evaluation(options, splits=None):
    """`evaluate(model, limit=None)`: cased sacreBLEU on the first `limit` test pairs."""
    test = (splits or anki_splits(options)).test
    return lambda trained, limit=None: {"test_bleu_cased": training.bleu(trained, test[:limit])}


def build_anki(kind, options, tokenizers=None):
    """Tatoeba Spanish -> English on the ANCHORS split (`data.split_pairs`)."""
    splits = anki_splits(options)
    train_pairs = splits.train[:2000] if options.quick else splits.train
    source_tokenizer, target_tokenizer = tokenizers or anki_tokenizers(train_pairs)
    model = make_model(
        kind, source_tokenizer, target_tokenizer, ANKI_LENGTH, ANKI_LENGTH,
        QUICK_SIZES[kind] if options.quick else ANKI_SIZES[kind],
    )
    batch_size = options.batch_size or 64
    x, y = model.make_arrays(train_pairs)
    train = training.LengthBuckets(x, y, batch_size, seed=options.seed)
    epochs = 1 if options.quick else (options.epochs or 10)
    compile_model(
        model, options, learning_rate=1e-3, label_smoothing=0.1,
        warmup_steps=0 if kind == "rnn" else 400, decay_steps=epochs * len(train),
    )
    validation = splits.validation[:200] if options.quick else splits.validation
    return recipes.Run(
        model=model,
        train=train,
        validation=training.LengthBuckets(*model.make_arrays(validation), batch_size),
        evaluate=anki_evaluation(options, splits),
        epochs=epochs,
        monitor="val_loss",
        patience=2,
        data="Tatoeba spa-eng (spa.txt), numpy default_rng(0) shuffle, "
        "last 2,000 test, previous 2,000 validation",
    )


@recipes.register("translation-dates-transformer", preset="dates-transformer",
                  description="Transformer, human-written dates -> ISO 8601")
def dates_transformer(options):
    return build_dates("transformer", options)


@recipes.register("translation-dates-rnn", preset="dates-rnn",
                  description="BiGRU + additive attention, human-written dates -> ISO 8601")
def dates_rnn(options):
    return build_dates("rnn", options)


@recipes.register("translation-anki-transformer", preset="spa-eng-transformer",
                  evaluation=anki_evaluation,
                  description="Transformer, Tatoeba Spanish -> English (cased WordPiece)")
def anki_transformer(options):
    return build_anki("transformer", options)


@recipes.register("translation-anki-rnn", evaluation=anki_evaluation,
                  description="BiGRU + additive attention, Tatoeba Spanish -> English")
def anki_rnn(options):
    return build_anki("rnn", options)
