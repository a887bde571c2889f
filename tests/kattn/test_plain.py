"""kattn stays small and backend-neutral: no TensorFlow anywhere in it."""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _kattn_files():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "kattn"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: every file on disk
        listed = [
            os.path.relpath(os.path.join(folder, name), ROOT)
            for folder, _, names in os.walk(os.path.join(ROOT, "kattn"))
            for name in names
            if not name.endswith(".pyc")
        ]
    assert listed, "no kattn files found"
    return [os.path.join(ROOT, path) for path in listed]


def test_kattn_has_at_most_2400_lines():
    lines = sum(sum(1 for _ in open(path, encoding="utf-8")) for path in _kattn_files())
    assert lines <= 2400, f"kattn has {lines} lines"


def test_no_kattn_file_mentions_tensorflow():
    mentions = [path for path in _kattn_files() if "tensorflow" in open(path, encoding="utf-8").read()]
    assert mentions == []
