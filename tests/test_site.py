"""Open the built site in headless Chromium: every page loads offline, math is typeset,
figures show, there are no console errors and no request leaves 127.0.0.1.

Needs `_build/html` (make build) and Debian's Chromium (make chromium); `make test-site`
does both. Screenshots land in `_build/screenshots/` for people to look at.
"""

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from book import ROOT, built_page_weight, toc_entries

SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

playwright_api = pytest.importorskip("playwright.sync_api")
if not SITE.joinpath("index.html").exists():
    pytest.fail("_build/html is missing: run `make build` first", pytrace=False)
if not Path(CHROMIUM).exists():
    pytest.fail(f"{CHROMIUM} is missing: run `make chromium`", pytrace=False)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageVisit:
    """One page load with everything that went wrong recorded."""

    def __init__(self, browser, url):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.console_errors, self.outside_requests, self.failed = [], [], []
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.route("**/*", self._only_local)
        self.response = self.page.goto(url, wait_until="load")

    def _only_local(self, route):
        host = urlparse(route.request.url).hostname
        if host in ("127.0.0.1", None) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort()


PAGES = toc_entries()


@pytest.mark.parametrize("page_path", PAGES)
def test_page(server, browser, page_path):
    visit = PageVisit(browser, f"{server}/{page_path}.html")
    page = visit.page
    assert visit.response.status == 200, f"{page_path}: HTTP {visit.response.status}"

    # Math: every math span is typeset by the site's own MathJax, with no TeX errors.
    n_math = page.locator(".math").count()
    if n_math:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        assert page.locator("mjx-container").count() >= n_math, f"{page_path}: math not typeset"
        assert page.locator("mjx-merror").count() == 0, f"{page_path}: MathJax reported a TeX error"
        src = page.evaluate("document.querySelector('script[src*=\"mathjax\"]').src")
        assert urlparse(src).hostname == "127.0.0.1", f"{page_path}: MathJax came from {src}"

    # Figures: every image on the page decoded to a real picture.
    broken = page.evaluate("""[...document.images]
        .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)""")
    assert not broken, f"{page_path}: images that did not load: {broken}"

    page.wait_for_timeout(300)  # late console messages (theme scripts run on load)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{page_path.replace('/', '_')}.png"), full_page=True)
    assert not visit.console_errors, f"{page_path}: console errors: {visit.console_errors}"
    assert not visit.outside_requests, f"{page_path}: requests left the machine: {visit.outside_requests}"
    assert not visit.failed, f"{page_path}: failed requests: {visit.failed}"

    if page_path.startswith("chapters/"):
        # Launch buttons (links, not requests) for Binder, Colab and JupyterLite on every chapter.
        hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.href)")
        assert any("mybinder.org/v2/gh/" in h for h in hrefs), f"{page_path}: no Binder button"
        assert any("colab.research.google.com/github/" in h for h in hrefs), f"{page_path}: no Colab button"
        lite = [h for h in hrefs if "/lite/lab/index.html?path=" in h]
        assert lite, f"{page_path}: no JupyterLite button"
        assert lite[0].endswith(f"path={page_path}.ipynb"), f"{page_path}: JupyterLite opens {lite[0]}"
        assert page.locator("[data-sdl-player]").count() >= 1, f"{page_path}: no interactive figure"
    check_players(page, page_path)
    assert not visit.console_errors, f"{page_path}: console errors after using the players: {visit.console_errors}"
    page.close()


@pytest.mark.parametrize("page_path", PAGES)
def test_page_weight(page_path):
    weight = built_page_weight(page_path)
    assert weight is not None, f"{page_path}: not in _build/html"
    assert weight <= 3 * 1024 * 1024, f"{page_path}: {weight / 1e6:.2f} MB of HTML and figures (limit 3 MB)"


FRAME = "el => el.querySelector('[data-sdl-frame]').getAttribute('src')"


def check_players(page, page_path):
    """Every static player swaps its frame when any of its controls moves, by keyboard and by value."""
    players = page.locator("[data-sdl-player]")
    for i in range(players.count()):
        player = players.nth(i)
        player.scroll_into_view_if_needed()
        frame = player.locator("[data-sdl-frame]")
        assert frame.get_attribute("alt"), f"{page_path}: player {i} frame has no alt text"
        wrappers = player.locator("[data-sdl-control]:not([data-sdl-fixed])")
        assert wrappers.count() >= 1, f"{page_path}: player {i} has no controls"
        for j in range(wrappers.count()):
            wrapper = wrappers.nth(j)
            name = wrapper.get_attribute("data-sdl-control")
            control = wrapper.locator("input, select").first
            where = f"{page_path}: player {i}, control {name!r}"
            kind = control.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")

            # by keyboard
            before = player.evaluate(FRAME)
            control.focus()
            if kind == "input:range":
                at_end = control.evaluate("el => Number(el.value) >= Number(el.max)")
                page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
            elif kind == "input:checkbox":
                page.keyboard.press("Space")
            else:
                at_end = control.evaluate("el => el.selectedIndex === el.options.length - 1")
                page.keyboard.press("ArrowUp" if at_end else "ArrowDown")
            after = player.evaluate(FRAME)
            assert after != before, f"{where}: the frame did not change when the control moved by keyboard"
            assert frame.get_attribute("alt"), f"{where}: frame without alt text"

            # by setting the value, as a script or assistive technology would
            before = after
            control.evaluate("""el => {
                if (el.type === 'checkbox') { el.checked = !el.checked; }
                else if (el.tagName === 'SELECT') { el.selectedIndex = (el.selectedIndex + 1) % el.options.length; }
                else { el.value = Number(el.value) > Number(el.min) ? Number(el.min) : Number(el.max); }
                el.dispatchEvent(new Event(el.type === 'checkbox' || el.tagName === 'SELECT' ? 'change' : 'input', {bubbles: true}));
            }""")
            after = player.evaluate(FRAME)
            assert after != before, f"{where}: the frame did not change when the value was set"
            if kind == "input:range":
                shown = wrapper.locator("output")
                assert shown.count() and shown.first.inner_text().strip(), f"{where}: the current value is not shown"
                assert control.get_attribute("aria-valuetext") == shown.first.inner_text().strip(), (
                    f"{where}: the value read out to screen readers differs from the one shown")


CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]


@pytest.mark.parametrize("page_path", CHAPTERS)
def test_jupyterlite_opens_the_chapter(server, browser, page_path):
    """The JupyterLite button's target opens this chapter's notebook from the site itself."""
    import json
    nb = json.loads((ROOT / f"{page_path}.ipynb").read_text())
    title = next("".join(c["source"]).split("\n")[0].lstrip("# ").strip()
                 for c in nb["cells"] if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("# "))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.route("**/*", lambda route: route.continue_() if urlparse(route.request.url).hostname == "127.0.0.1"
               else route.abort())
    page.goto(f"{server}/lite/lab/index.html?path={page_path}.ipynb", wait_until="load")
    heading = page.locator(".jp-Notebook .jp-RenderedMarkdown h1", has_text=title).first
    try:
        heading.wait_for(state="visible", timeout=60_000)
    except playwright_api.TimeoutError:
        pytest.fail(f"{page_path}: JupyterLite did not show the chapter titled {title!r}")
    page.close()
