"""Write the generated pages of the docs site to build/docs/ (`make docs` runs it).

    python docs/prepare.py            # then: mkdocs build --strict

- `tutorials/`: every tutorial rendered with its outputs (`tutorials/render.py
  --fast --missing`: a full-size render from `make tutorials` is kept);
- `viewer/`: the attention viewer page of each shipped preset
  (`zoo.explain.attention_page`, what `python -m zoo explain` writes);
- `zoo/cli.md`: the help of every `python -m zoo` command;
- `zoo/presets.md`: the shipped presets' model cards;
- `BENCHMARKS.md`: a copy of the repository's, its links made site-relative.

`docs/hooks.py` adds everything under build/docs/ to the site. A tutorial
that stops with an error is rendered with a warning on its page; this script
then fails only in CI (`CI=true`), where every dataset must be there.
"""

import argparse
import concurrent.futures
import glob
import os
import subprocess
import sys
import time

DOCS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(DOCS_DIR)
OUTPUT_DIR = os.path.join(REPO_ROOT, "build", "docs")
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no C++ log lines (zoo/quiet_start.py)

# The input each shipped preset's viewer page shows.
VIEWER_EXAMPLES = {
    "dates-transformer": "Thursday, March 3rd, 1979",
    "dates-rnn": "3 May 1979",
    "spa-eng-transformer": "¿Dónde está la estación de tren más cercana?",
    "tweets-sentiment": "worst customer service ever, never flying with them again",
    "vit-tiny-digits": "0",
    "vit-fashion-mnist": "0",
}


def _write(relative_path, text):
    path = os.path.join(OUTPUT_DIR, relative_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def render_tutorials(workers=2):
    """Render (fast mode) the tutorials not rendered yet, two at a time, each
    in its own `tutorials/render.py` process: a fast-mode notebook spends much
    of its time starting a kernel and importing, one core's work. Returns the
    names of the notebooks that failed."""
    render = os.path.join(REPO_ROOT, "tutorials", "render.py")
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO_ROOT, "tutorials", "[0-9][0-9]_*.ipynb")))

    def run(name):
        done = subprocess.run([sys.executable, render, "--fast", "--missing", name[:2]])
        return name if done.returncode else None

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return [name for name in pool.map(run, names) if name]


def write_viewer_pages():
    from zoo import quiet_start

    quiet_start.start()  # TensorFlow without its C++ start-up lines
    import zoo
    from zoo import explain

    for preset, value in VIEWER_EXAMPLES.items():
        page = explain.attention_page(zoo.load(preset), value)
        path = os.path.join(OUTPUT_DIR, "viewer", preset + ".html")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print(page.save(path))


def write_cli_page():
    from zoo import cli

    parser = cli.build_parser()
    sections = [
        "# The command line: `python -m zoo`",
        "The help of every command, as `python -m zoo COMMAND --help` prints it.",
        "```text\n" + parser.format_help().rstrip() + "\n```",
    ]
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, command in commands.choices.items():
        sections.append(f"## {name}\n\n```text\n{command.format_help().rstrip()}\n```")
    _write(os.path.join("zoo", "cli.md"), "\n\n".join(sections) + "\n")


def write_preset_cards():
    sections = [
        "# Presets",
        "The trained models shipped with the zoo: `zoo.load(NAME)`, or "
        "`python -m zoo list`. Each card below is the preset's `README.md`, written "
        "when it was trained; the attention of each one is in the "
        "[viewer](../viewer.md).",
    ]
    for card in sorted(glob.glob(os.path.join(REPO_ROOT, "zoo", "presets", "*", "README.md"))):
        with open(card, encoding="utf-8") as f:
            text = f.read()
        # One level down: the card's "# name" becomes a section of this page.
        sections.append("\n".join("#" + line if line.startswith("#") else line
                                  for line in text.splitlines()))
    _write(os.path.join("zoo", "presets.md"), "\n\n".join(sections) + "\n")


def copy_benchmarks():
    with open(os.path.join(REPO_ROOT, "BENCHMARKS.md"), encoding="utf-8") as f:
        text = f.read()
    _write("BENCHMARKS.md", text.replace("](docs/", "]("))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-tutorials", action="store_true",
                        help="leave build/docs/tutorials as it is")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(1) as background:
        # The tutorials render in their own processes while this one writes the rest.
        tutorials = None if args.skip_tutorials else background.submit(render_tutorials)
        copy_benchmarks()
        write_preset_cards()
        write_cli_page()
        write_viewer_pages()
        failed = tutorials.result() if tutorials else []
    print(f"docs/prepare.py: {time.perf_counter() - start:.0f} s")
    if failed:
        print(f"WARNING: tutorials that stopped with an error (their pages say so): "
              f"{', '.join(failed)}", file=sys.stderr)
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
