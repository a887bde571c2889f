"""`python -m zoo`: list, train, evaluate and run the zoo's models.

    python -m zoo list                                  # shipped presets and recipes
    python -m zoo train classifier --epochs 3           # train, evaluate, save a preset
    python -m zoo train classifier --resume             # continue after an interruption
    python -m zoo evaluate runs/classifier              # a preset folder or shipped name
    python -m zoo evaluate vit-tiny-digits --limit 200  # the first 200 test examples only
    python -m zoo ship runs/classifier --name my-classifier   # float16 weights into zoo/presets, measured
    python -m zoo classify runs/classifier "the red cat saw a blue dog"
    python -m zoo translate PRESET "3rd of March 2021"
    python -m zoo explain dates-transformer "3rd of March 2021"   # an attention page
    python -m zoo generate runs/gpt-wikitext2 "the game is"   # prints tokens as they come
    python -m zoo demo                                  # a small model learns, in a minute

A mistake on the command line (unknown model, missing data file, broken
preset, a text the model cannot read) prints one line `zoo: error: ...` on
stderr and exits with code 2; a warning about the input (a text cut at the
model's length, characters it never saw) prints one line `zoo: warning: ...`.
`--help` and usage mistakes answer before TensorFlow is imported; commands
start it through `zoo.quiet_start` (no C++ start-up log lines).

>>> from zoo import cli
>>> cli.main(["train", "no-such-model"])
2
"""

import argparse
import os
import shlex
import sys
import warnings

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line."""

    def error(self, message):
        raise UsageError(message)


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit code 2."""


def build_parser():
    parser = _Parser(prog="python -m zoo", description="The kattn model zoo.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("list", help="shipped presets and trainable models")

    train = commands.add_parser("train", help="train a model with its recipe and save a preset")
    train.add_argument("model", help="a recipe name (see `list`)")
    train.add_argument("--epochs", type=int, help="default: the recipe's")
    train.add_argument("--batch-size", type=int, help="global batch size; default: the recipe's")
    train.add_argument("--data", help="a data file or folder replacing the recipe's default")
    train.add_argument("--output", help="preset folder; default runs/MODEL")
    train.add_argument("--mixed-precision", choices=("off", "float16", "bfloat16"), default="off")
    train.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                       help="XLA-compile the steps (default: the recipe's choice)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the checkpoint in runs/MODEL-training")
    train.add_argument("--distribution", choices=("none", "data", "model"), default="none",
                       help="data: a model copy per device (keras.distribution.DataParallel, "
                            "tf.distribute.MirroredStrategy on TensorFlow); model: the large "
                            "kernels split across devices (JAX; see zoo.distribution)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--quick", action="store_true", help="tiny sizes, to check that it runs")

    evaluate = commands.add_parser("evaluate", help="evaluate a preset with its recipe's test data")
    evaluate.add_argument("preset", help="a shipped preset name or a preset folder")
    evaluate.add_argument("--data", help="a data file replacing the recipe's default")
    evaluate.add_argument("--batch-size", type=int)
    evaluate.add_argument("--quick", action="store_true")
    evaluate.add_argument("--limit", type=_positive_int,
                          help="only the first N test examples (tokens for a language model)")

    ship = commands.add_parser(
        "ship", help="write a trained run folder as a preset with float16 weights, measured"
    )
    ship.add_argument("run", help="the float32 preset folder that `train` saved")
    ship.add_argument("--name", help="the preset's name; default the run folder's name")
    ship.add_argument("--limit", type=_positive_int,
                      help="test examples (tokens for a language model) of the recorded slice check")
    ship.add_argument("--training-time", help='e.g. "42 min on 2 CPU cores", when the run did not record it')
    ship.add_argument("--presets-dir", help="where to ship; default zoo/presets")

    for name, verb in (("translate", "translate"), ("classify", "classify")):
        command = commands.add_parser(name, help=f"{verb} texts with a preset")
        command.add_argument("preset", help="a shipped preset name or a preset folder")
        command.add_argument("texts", nargs="+", metavar="TEXT")

    generate = commands.add_parser("generate", help="continue a text with a language model preset")
    generate.add_argument("preset", help="a shipped preset name or a preset folder")
    generate.add_argument("text", help="the prompt")
    generate.add_argument("--max-new-tokens", type=int, default=40)
    generate.add_argument("--sampler", choices=("greedy", "top_k", "top_p"), default="top_k")
    generate.add_argument("--temperature", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=None)

    explain = commands.add_parser(
        "explain", help="write an interactive page of a preset's attention on one input"
    )
    explain.add_argument("preset", help="a shipped preset name or a preset folder")
    explain.add_argument("input", help="a text; for a ViT a digits test index or an image file")
    explain.add_argument("--output", help="the page to write; default runs/explain/PRESET.html")

    demo = commands.add_parser("demo", help="train a small attention model and show what it learned")
    demo.add_argument("--quick", action="store_true",
                      help="a few seconds of training: the same steps, to check that everything runs")
    return parser


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; received {text!r}")
    return value


def main(argv=None):
    """Run the command line `argv` (default `sys.argv[1:]`); returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        from zoo import quiet_start  # only now: --help and usage mistakes need no TensorFlow

        quiet_start.start()
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return COMMANDS[args.command](args, argv) or 0
    except UsageError as error:
        return _fail(error)
    except (ValueError, FileNotFoundError) as error:  # includes zoo.PresetError
        return _fail(error)
    except ImportError as error:  # an optional package a recipe needs; the message says which
        return _fail(error)
    except KeyboardInterrupt:
        print("zoo: interrupted; `train ... --resume` continues from the last epoch's checkpoint.",
              file=sys.stderr)
        return 130


def _fail(error):
    message = " ".join(str(error).split())  # one line
    print(f"zoo: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings about the user's input: one line `zoo: warning: ...`."""
    from zoo.text_inputs import InputWarning

    if issubclass(category, InputWarning):
        print("zoo: warning: " + " ".join(str(message).split()), file=sys.stderr)
    else:  # other libraries' warnings, as Python shows them
        print(warnings.formatwarning(message, category, filename, lineno, line), end="", file=sys.stderr)


def _check_data_path(path):
    if path and not path.startswith(("http://", "https://")) and not os.path.exists(path):
        raise FileNotFoundError(f"--data: no such file or folder: {path}")


def _list(args, argv):
    from zoo import presets, recipes

    shipped = presets.list()
    print("Shipped presets (zoo.load(NAME)):")
    for name, description in shipped.items():
        print(f"  {name:28} {description}")
    if not shipped:
        print("  none yet")
    print("Trainable models (python -m zoo train MODEL):")
    for name in recipes.names():
        recipe = recipes.get(name)
        print(f"  {name:28} {recipe.description}")


def _train(args, argv):
    from zoo import recipes, training

    recipes.get(args.model)  # an unknown name fails here, before any work
    _check_data_path(args.data)
    options = recipes.Options(
        epochs=args.epochs,
        batch_size=args.batch_size,
        data=args.data,
        seed=args.seed,
        quick=args.quick,
        mixed_precision=args.mixed_precision,
        jit=args.jit,
    )
    command = "python -m zoo " + " ".join(shlex.quote(a) for a in argv)
    result = training.train(
        args.model,
        options,
        output=args.output,
        resume=args.resume,
        distribution=args.distribution,
        command=command,
    )
    print("Test metrics: " + ", ".join(f"{k} = {v:.4g}" for k, v in result.metrics.items()))
    print(f"Preset saved to {result.preset}")


def _evaluate(args, argv):
    from zoo import presets, recipes, training

    _check_data_path(args.data)
    model = presets.load(args.preset)
    recipe_name = presets.verify(presets.resolve(args.preset)).get("recipe")
    if not recipe_name:
        raise ValueError(f"preset {args.preset!r} records no recipe, so there is no test data to use.")
    options = recipes.Options(data=args.data, batch_size=args.batch_size, quick=args.quick)
    metrics = training.evaluator(recipe_name, options)(model, limit=args.limit)
    for name, value in metrics.items():
        print(f"{name}: {value:.6g}")


def _ship(args, argv):
    from zoo import shipping

    shipping.ship(args.run, args.name, presets_dir=args.presets_dir, limit=args.limit,
                  training_time=args.training_time)


def _apply(method):
    def command(args, argv):
        import zoo

        model = zoo.load(args.preset)
        if not hasattr(model, method):
            raise ValueError(
                f"preset {args.preset!r} is a {type(model).__name__}, which has no {method}()."
            )
        for text, answer in zip(args.texts, getattr(model, method)(args.texts)):
            print(f"{text}\t{answer}")

    return command


def _explain(args, argv):
    import zoo
    from zoo import explain

    page = explain.attention_page(zoo.load(args.preset), args.input)
    name = os.path.basename(os.path.normpath(args.preset))
    output = args.output or os.path.join("runs", "explain", name + ".html")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    print(page.save(output))


def _generate(args, argv):
    import zoo

    model = zoo.load(args.preset)
    if not hasattr(model, "stream"):
        raise ValueError(f"preset {args.preset!r} is a {type(model).__name__}, which has no generate().")
    print(args.text, end="", flush=True)
    for token in model.stream(args.text, args.max_new_tokens, sampler=args.sampler,
                              temperature=args.temperature, seed=args.seed):
        print(f" {token}", end="", flush=True)
    print()


def _demo(args, argv):
    from zoo import demo

    demo.main(quick=args.quick)


COMMANDS = {
    "list": _list,
    "train": _train,
    "evaluate": _evaluate,
    "ship": _ship,
    "translate": _apply("translate"),
    "classify": _apply("classify"),
    "explain": _explain,
    "generate": _generate,
    "demo": _demo,
}
