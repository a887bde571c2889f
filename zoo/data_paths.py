"""Where the zoo finds data: the shared datasets folder, or a path or URL.

The shared datasets live beside the project in `../shared/data` (override with
the `KATTN_DATA` environment variable). Every loader also takes an explicit
path, and a URL for users with internet, downloaded once to the Keras cache.
"""

import os

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_data_dir():
    return os.environ.get(
        "KATTN_DATA", os.path.join(os.path.dirname(_PROJECT_ROOT), "shared", "data")
    )


def shared_data_path(relative_path):
    return os.path.join(shared_data_dir(), relative_path)


def resolve(path_or_url, default_relative_path=None, extract=False):
    """A local path for `path_or_url`, downloading it if it is a URL.

    With `path_or_url=None` the default file under the shared data folder is
    used. A missing local file is a `FileNotFoundError` naming the path.
    """
    if path_or_url is None:
        if default_relative_path is None:
            raise ValueError("`path` is required: no default dataset for this loader.")
        path_or_url = shared_data_path(default_relative_path)
    path_or_url = os.fspath(path_or_url)
    if path_or_url.startswith(("http://", "https://")):
        import keras

        name = path_or_url.rstrip("/").split("/")[-1]
        return keras.utils.get_file(name, origin=path_or_url, extract=extract)
    if not os.path.exists(path_or_url):
        raise FileNotFoundError(f"data file not found: {path_or_url}")
    return path_or_url
