"""The built documentation site (`make docs` writes it to site/)."""

import os

import pytest

from tests.conftest import IN_CI

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE_DIR = os.path.join(REPO_ROOT, "site")


@pytest.fixture(scope="session")
def site_dir():
    """site/, built by `make docs`; skip without it (fail in CI, where it is built first)."""
    if not os.path.exists(os.path.join(SITE_DIR, "index.html")):
        message = f"no built site at {SITE_DIR}: run `make docs` first"
        if IN_CI:
            pytest.fail(message + " (CI builds the site before the tests)")
        pytest.skip(message)
    return SITE_DIR
