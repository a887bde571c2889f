"""Training recipes: what `python -m zoo train NAME` runs.

A recipe is a function that receives the user's `Options` and returns a `Run`:
a compiled model, its data, and how to evaluate it. The CLI (`zoo.cli`) does
the rest the same way for every model: mixed precision, distribution scope,
`model.fit` with checkpoints / TensorBoard / early stopping, evaluation, and
saving a preset. A new model only registers a recipe:

    from zoo import recipes

    @recipes.register("tweets-sentiment", preset="tweets-sentiment",
                      description="attention pooling on SemEval/TweetEval")
    def tweets_sentiment(options):
        train, validation, test = ...            # tf.data or (x, y) arrays
        model = ...; model.compile(...)
        return recipes.Run(model, train, validation,
                           evaluate=lambda m, limit=None: {"macro_recall": ...},
                           data="semeval2017-4a/train.tsv + tweeteval")

The training loop (`zoo.training.train`) runs the recipe inside the mixed
precision policy and the distribution scope, so build the model and compile
it inside the recipe. `(x, y)` arrays are batched (`Run.batch_size` or
`--batch-size`) and shuffled by the loop in an order fixed by (seed, epoch),
which makes `--resume` exact; a `tf.data.Dataset` is used as given (batch it
with `options.batch_size`, and shuffle with a fixed seed if you want an exact
resume). `Run.evaluate(model, limit=None)` must work for a freshly loaded
preset too: `python -m zoo evaluate PRESET [--limit N]` calls it with the
loaded model, and `limit` keeps the first N test examples (deterministically:
the same N every time).

>>> from zoo import recipes
>>> "classifier" in recipes.names()
True
"""

import dataclasses
from typing import Any, Callable, Optional

_RECIPES = {}


@dataclasses.dataclass
class Options:
    """What the user chose on the command line (None: the recipe's default)."""

    epochs: Optional[int] = None
    batch_size: Optional[int] = None
    data: Optional[str] = None  # a path or URL replacing the default dataset
    seed: int = 0
    quick: bool = False  # tiny sizes for tests and tutorials' fast mode
    mixed_precision: str = "off"  # "off", "float16" or "bfloat16"
    jit: Optional[bool] = None  # None: the recipe's choice (Keras's "auto")
    extra: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Run:
    """What a recipe hands back to the training loop."""

    model: Any  # a compiled keras.Model
    train: Any  # tf.data.Dataset of (x, y), or a tuple (x, y)
    validation: Any = None
    # (model, limit=None) -> {metric: value}; limit: the first `limit` test examples (tokens for a
    # language model), so that `python -m zoo evaluate PRESET --limit N` checks a preset in seconds
    evaluate: Optional[Callable[..., dict]] = None
    epochs: int = 10  # default when --epochs is not given
    monitor: str = "val_loss"  # early stopping / best checkpoint
    patience: Optional[int] = 3  # None: no early stopping
    callbacks: list = dataclasses.field(default_factory=list)
    data: str = ""  # human description of the data, for the model card
    steps_per_epoch: Optional[int] = None
    batch_size: int = 32  # for (x, y) arrays, when --batch-size is not given
    minutes: Optional[float] = None  # a wall-clock budget that stops training (a callback of the recipe)


@dataclasses.dataclass
class Recipe:
    name: str
    build: Callable[[Options], Run]
    description: str = ""
    preset: Optional[str] = None  # the shipped preset this recipe trains
    # options -> evaluate(model, limit=None), for recipes whose `build` is slow
    # (a tokenizer trained on the training set): the test data only.
    evaluation: Optional[Callable[[Options], Callable[..., dict]]] = None


def register(name, description="", preset=None, evaluation=None):
    """Decorator registering `fn(options) -> Run` under `name`.

    `evaluation(options)`, if given, returns the same function as
    `fn(options).evaluate` without building the model and training data;
    `python -m zoo evaluate` then uses it.
    """

    def decorator(fn):
        if name in _RECIPES:
            raise ValueError(f"recipe {name!r} is registered twice")
        _RECIPES[name] = Recipe(name=name, build=fn, description=description, preset=preset,
                                evaluation=evaluation)
        return fn

    return decorator


def _load_all():
    """Import the zoo families so that their recipes register themselves."""
    import importlib

    for family in ("translation", "tweets", "bert", "vit", "classifier", "gpt"):
        try:
            importlib.import_module(f"zoo.{family}.recipes")
        except ModuleNotFoundError as error:
            if error.name != f"zoo.{family}.recipes" and error.name != f"zoo.{family}":
                raise


def get(name):
    """The `Recipe` registered as `name`; a ValueError lists the known names.

    >>> from zoo import recipes
    >>> recipes.get("classifier").preset
    'classifier-first-colour'
    """
    _load_all()
    if name not in _RECIPES:
        known = ", ".join(sorted(_RECIPES)) or "none"
        raise ValueError(f"unknown model {name!r}; known recipes: {known}")
    return _RECIPES[name]


def names():
    """The names of every registered recipe, sorted."""
    _load_all()
    return sorted(_RECIPES)
