"""mkdocs hooks: add the pages `docs/prepare.py` generated (build/docs/) to the site.

Run `python docs/prepare.py` first (`make docs` does both); without it the
build stops here with a message saying so.
"""

import os

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

GENERATED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "docs")


def on_files(files, config):
    if not os.path.isdir(GENERATED_DIR):
        raise PluginError(
            f"{GENERATED_DIR} is missing: run `python docs/prepare.py` before "
            "`mkdocs build` (`make docs` runs both)."
        )
    for folder, _, names in os.walk(GENERATED_DIR):
        for name in names:
            if name.endswith(".json"):  # tutorials/render.py's notes, not pages
                continue
            path = os.path.join(folder, name)
            uri = os.path.relpath(path, GENERATED_DIR).replace(os.sep, "/")
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=path))
    return files
