"""The built site has every page the gallery and the README link to, and the API examples."""

import json
import os
import re
from html.parser import HTMLParser

from tests.docs.conftest import REPO_ROOT

LINK = re.compile(r"\]\(([^)\s]+)\)")


def relative_links(markdown_path):
    """The links of a Markdown file that point into the repository (no URLs, no anchors)."""
    with open(markdown_path, encoding="utf-8") as f:
        links = LINK.findall(f.read())
    return [link.split("#")[0] for link in links if not re.match(r"[a-z]+:", link) and link.split("#")[0]]


def site_path(site_dir, repository_path):
    """Where the file at `repository_path` (relative to the repo root) is in the site."""
    path = os.path.normpath(repository_path)
    if path.startswith("docs" + os.sep):
        path = path[len("docs" + os.sep):]
    if path.endswith(".md"):
        path = path[: -len(".md")] + ".html"
    return os.path.join(site_dir, path)


def test_every_page_the_gallery_and_readme_link_to_is_in_the_site(site_dir):
    checked = []
    for source in ("README.md", os.path.join("docs", "gallery.md")):
        folder = os.path.dirname(source)
        for link in relative_links(os.path.join(REPO_ROOT, source)):
            target = site_path(site_dir, os.path.join(folder, link))
            assert os.path.isfile(target), f"{source} links to {link}: not in the site ({target})"
            checked.append(target)
    # The gallery's rendered tutorials (8 pages, 8 notebooks) and the README's pages.
    assert sum(p.endswith(".html") and "tutorials" in p for p in checked) >= 8
    assert sum(p.endswith(".ipynb") for p in checked) >= 8
    for page in ("gallery.html", "design-notes.html", "BENCHMARKS.html"):
        assert os.path.join(site_dir, page) in checked


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs).get("src", ""))


def test_tutorial_pages_show_their_pictures_and_say_how_they_were_made(site_dir):
    pages = sorted(p for p in os.listdir(os.path.join(site_dir, "tutorials")) if p.endswith(".html"))
    notebooks = [n for n in os.listdir(os.path.join(REPO_ROOT, "tutorials")) if n[:2].isdigit() and n.endswith(".ipynb")]
    assert len(pages) == len(notebooks) >= 9, pages
    for page in pages:
        path = os.path.join(site_dir, "tutorials", page)
        with open(path, encoding="utf-8") as f:
            html = f.read()
        parser = _Images()
        parser.feed(html)
        pictures = [src for src in parser.sources if not src.startswith("data:")]
        assert pictures, f"{page} shows no picture"
        for src in pictures:
            assert os.path.isfile(os.path.normpath(os.path.join(os.path.dirname(path), src))), (page, src)
        # A fast render or a failed run is said on the page itself.
        with open(os.path.join(REPO_ROOT, "build", "docs", "tutorials", page[:-5] + ".json")) as f:
            note = json.load(f)
        assert ("Rendered in fast mode" in html) == (note["mode"] == "fast"), page
        assert ("stopped with an error" in html) == bool(note["error"]), page


def test_api_pages_show_the_docstring_examples_as_code(site_dir):
    with open(os.path.join(site_dir, "api", "layers.html"), encoding="utf-8") as f:
        html = f.read()
    for layer in ("MultiHeadAttention", "AdditiveAttention", "TransformerDecoderBlock", "PatchEmbedding"):
        assert f'id="kattn.layers.{layer}"' in html, layer
    # Doctest lines are code blocks, not block quotes.
    assert "<blockquote>" not in html
    assert html.count('<span class="gp">&gt;&gt;&gt; </span>') >= 20  # highlighted prompts
