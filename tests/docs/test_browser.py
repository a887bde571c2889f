"""A real browser (headless Chromium) opens the site and the attention viewer.

The site that `make docs` built is served on 127.0.0.1. Chromium loads the
home page, the layers API page, a tutorial page and the viewer page of
`dates-transformer`; every picture must load (naturalWidth > 0), and choosing
another head in the viewer must change the weights drawn. Screenshots go to
`KATTN_SCREENSHOTS` (default build/screenshots/); the test prints the folder.

Needs Debian's `chromium` and `chromium-driver` and selenium from PyPI; without
them the test skips with the reason, except in CI (`CI=true`), where it fails.
"""

import functools
import http.server
import os
import shutil
import tempfile
import threading

import pytest

from tests.conftest import IN_CI, require_module
from tests.docs.conftest import REPO_ROOT

webdriver = require_module("selenium.webdriver", "drives headless Chromium").webdriver

SCREENSHOTS = os.environ.get("KATTN_SCREENSHOTS", os.path.join(REPO_ROOT, "build", "screenshots"))
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,900",
]


def _find_chromium():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        message = "Chromium and its driver are not installed (apt-get install chromium chromium-driver)"
        if IN_CI:
            pytest.fail(message + "; CI must install them")
        pytest.skip(message)
    return browser, driver


@pytest.fixture(scope="module")
def server(site_dir):
    """The built site over HTTP on 127.0.0.1 (a free port); yields its address."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=site_dir)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _find_chromium()
    profile = tempfile.mkdtemp(prefix="kattn-chromium-")
    options = Options()
    options.binary_location = binary
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    os.makedirs(SCREENSHOTS, exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _images(driver):
    """[src, naturalWidth] of every <img> on the page, once all have finished loading."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && [...document.images].every(i => i.complete)"))
    return driver.execute_script("return [...document.images].map(i => [i.src, i.naturalWidth])")


@pytest.mark.parametrize(
    "page, min_images",
    [
        ("index.html", 1),
        ("api/layers.html", 0),
        ("tutorials/03_multi_head_attention_and_masks.html", 3),
    ],
)
def test_site_pages_load_with_their_pictures(server, browser, page, min_images):
    browser.get(f"{server}/{page}")
    images = _images(browser)
    assert len(images) >= min_images, images
    broken = [src for src, width in images if width == 0]
    assert not broken, f"pictures that did not load on {page}: {broken}"
    assert browser.find_elements("css selector", "article h1"), "no page title"
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)")
    assert all(url.startswith(server) for url in fetched), f"network requests: {fetched}"
    if page.startswith("api/"):  # the docstring examples, highlighted
        assert len(browser.find_elements("css selector", "span.gp")) >= 20
    browser.save_screenshot(os.path.join(SCREENSHOTS, page.replace("/", "_") + ".png"))


def _drawn_weights(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#head-view line')].map(l => +l.dataset.weight)")


def test_viewer_draws_the_chosen_head_and_focuses_a_hovered_token(server, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import Select

    browser.get(f"{server}/viewer/dates-transformer.html")
    kind = Select(browser.find_element("id", "kind"))
    assert [o.text for o in kind.options] == [
        "encoder self-attention", "decoder self-attention", "cross-attention"]
    kind.select_by_visible_text("cross-attention")
    layer = Select(browser.find_element("id", "layer"))
    layer.select_by_index(len(layer.options) - 1)
    head = Select(browser.find_element("id", "head"))
    head.select_by_index(0)
    first = _drawn_weights(browser)
    sources = len(browser.execute_script(
        "return JSON.parse(document.getElementById('kattn-attention-data').textContent)"
        ".kinds[2].key_tokens"))
    assert len(first) > sources and max(first) > 0.3
    browser.save_screenshot(os.path.join(SCREENSHOTS, "viewer_dates-transformer_head1.png"))

    head.select_by_index(1)
    second = _drawn_weights(browser)
    assert len(second) == len(first) and second != first  # another head, other lines
    strokes = browser.execute_script(
        "return [...document.querySelectorAll('#head-view line')].map(l => l.getAttribute('stroke'))")
    assert len(set(strokes)) == 1  # one head's colour

    # Hovering the third query token keeps only its lines: one per source character.
    token = browser.find_elements("css selector", "#head-view text")[2 + 2]  # after the two side titles
    ActionChains(browser).move_to_element(token).perform()
    focused = _drawn_weights(browser)
    assert len(focused) == sources and abs(sum(focused) - 1) < 1e-3
    browser.save_screenshot(os.path.join(SCREENSHOTS, "viewer_dates-transformer_focus.png"))


def test_viewer_page_in_the_site_embeds_the_presets(server, browser):
    browser.get(f"{server}/viewer.html")
    from docs.prepare import VIEWER_EXAMPLES

    frames = browser.find_elements("css selector", "article iframe")
    titles = [frame.get_attribute("title") for frame in frames]
    assert sorted(titles) == sorted(f"{name} attention" for name in VIEWER_EXAMPLES)
    browser.switch_to.frame(frames[titles.index("vit-tiny-digits attention")])  # the image panel is drawn
    width = browser.execute_script("return document.getElementById('image').width")
    browser.switch_to.default_content()
    assert width > 0
    browser.save_screenshot(os.path.join(SCREENSHOTS, "viewer.png"))


def test_notebook_form_draws_inside_its_iframe(browser, tmp_path):
    """`_repr_html_` (what a notebook shows) is a working page, even opened from a file."""
    import numpy as np

    from kattn import viz

    weights = np.array([[[0.9, 0.1], [0.3, 0.7]], [[0.5, 0.5], [0.0, 1.0]]])  # (heads, Tq, Tk)
    cell = viz.attention_view(weights, ["le", "chat"], ["the", "cat"])._repr_html_()
    path = tmp_path / "notebook_output.html"
    path.write_text(f"<html><body><p>a notebook cell's output:</p>{cell}{cell}</body></html>")
    browser.get(path.as_uri())
    frames = browser.find_elements("css selector", "iframe")
    assert len(frames) == 2  # two views side by side do not clash
    browser.switch_to.frame(frames[1])
    assert sorted(_drawn_weights(browser)) == [0.1, 0.3, 0.7, 0.9]
    browser.switch_to.default_content()
