"""Open the built site in headless Chromium: every page loads offline, math is typeset,
figures show, there are no console errors and no request leaves 127.0.0.1; on a phone
(390 x 844) nothing scrolls sideways and the players stack; in dark mode the players stay
readable.

Needs `_build/html` (make build) and Debian's Chromium (make chromium); `make test-site`
does both. SCRATCHDL_SITE=path tests a site built elsewhere (jupyter-book build
--path-output). Screenshots land in `_build/screenshots/` (desktop), `.../phone/` and
`.../dark/` for people to look at.
"""

import functools
import http.server
import os
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
from book import ROOT, built_page_weight, toc_entries

SITE = Path(os.environ.get("SCRATCHDL_SITE", ROOT / "_build" / "html"))
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

    def __init__(self, browser, url, **page_options):
        page_options.setdefault("viewport", {"width": 1280, "height": 900})
        self.page = browser.new_page(**page_options)
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
    weight = built_page_weight(page_path, SITE)
    assert weight is not None, f"{page_path}: not in _build/html"
    assert weight <= 3 * 1024 * 1024, f"{page_path}: {weight / 1e6:.2f} MB of HTML and figures (limit 3 MB)"


FRAME = "el => el.querySelector('[data-sdl-frame]').getAttribute('data-frame-key')"
DENSITY_FALLBACKS = []  # players below 2x, reported at the end (too many frames for 2x)


def test_players_report_their_resolution():
    """Not a check: names the players whose frames fell back below 2x to fit their page.
    Their chapters get sharp frames again with fewer static values."""
    if DENSITY_FALLBACKS:
        print("\nplayers below 2x: " + "; ".join(DENSITY_FALLBACKS))


def check_players(page, page_path):
    """Every static player swaps its frame when any of its controls moves, by keyboard and by value."""
    players = page.locator("[data-sdl-player]")
    for i in range(players.count()):
        player = players.nth(i)
        player.scroll_into_view_if_needed()
        frame = player.locator("[data-sdl-frame]")
        assert frame.get_attribute("alt"), f"{page_path}: player {i} frame has no alt text"
        # drawn for high-density screens (2x; 1.5x or 1x only where 2x would pass the page
        # budget, see PLAYER_BUDGET_BYTES in scratchdl/widgets.py), never blurred up
        density = player.evaluate("""el => {
            const first = el.querySelector('img.sdl-first');
            return first.naturalWidth / Number(el.querySelector('.sdl-frame').dataset.width); }""")
        assert density >= 1.0, f"{page_path}: player {i} frames are {density:.2f}x, under 1x"
        if density < 1.45:
            DENSITY_FALLBACKS.append(f"{page_path} player {i}: {density:.2f}x")
        fixed_lines = player.locator(".sdl-fixed").count()
        assert fixed_lines <= 1, f"{page_path}: player {i} lists its fixed controls on {fixed_lines} lines"
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


# -- phones, dark mode, search

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}

# every player on the page: where its parts are, in CSS pixels
PLAYER_BOXES = """() => [...document.querySelectorAll('[data-sdl-player]')].map(p => {
    const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width}; };
    return {player: box(p), controls: [...p.querySelectorAll('.sdl-controls > *')].map(box),
            frame: box(p.querySelector('.sdl-frame')), scroll: box(p.querySelector('.sdl-scroll'))};
})"""
PAGE_WIDTH = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


@pytest.mark.parametrize("page_path", PAGES)
def test_phone(server, browser, page_path):
    """On a 390 px phone the page never scrolls sideways, each player's controls stack above
    its figure, the figure fits the width, and "Enlarge" shows it bigger inside the player."""
    visit = PageVisit(browser, f"{server}/{page_path}.html", **PHONE)
    page = visit.page
    page.wait_for_timeout(300)
    assert page.evaluate(PAGE_WIDTH) <= 390, (
        f"{page_path}: the page is {page.evaluate(PAGE_WIDTH)} px wide on a 390 px phone")
    for i, boxes in enumerate(page.evaluate(PLAYER_BOXES)):
        where = f"{page_path}: player {i} on a phone"
        player, frame = boxes["player"], boxes["frame"]
        assert player["right"] <= 390 + 0.5, f"{where}: wider than the screen"
        assert abs(frame["width"] - player["width"]) <= 1, f"{where}: the figure does not fill the width"
        for control in boxes["controls"]:
            assert control["bottom"] <= frame["top"] + 0.5, f"{where}: a control is not above the figure"
            assert control["right"] <= player["right"] + 0.5, f"{where}: a control sticks out"
        lefts = {round(c["left"]) for c in boxes["controls"]}
        assert len(lefts) <= 1, f"{where}: the controls are not stacked one per row"
    SHOTS.joinpath("phone").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone" / f"{page_path.replace('/', '_')}.png"), full_page=True)

    players = page.locator("[data-sdl-player]")
    if players.count():
        player = players.first
        zoom = player.locator("button.sdl-zoom")
        assert zoom.is_visible(), f"{page_path}: no Enlarge button on a phone"
        zoom.click()
        enlarged = player.evaluate("el => el.querySelector('.sdl-frame').getBoundingClientRect().width")
        natural = float(player.locator(".sdl-frame").get_attribute("data-width"))
        assert enlarged >= natural - 1, f"{page_path}: Enlarge shows the figure {enlarged} px wide"
        assert page.evaluate(PAGE_WIDTH) <= 390, f"{page_path}: Enlarge made the page scroll sideways"
        zoom.click()
    assert not visit.console_errors, f"{page_path}: console errors on a phone: {visit.console_errors}"
    assert not visit.outside_requests, f"{page_path}: requests left the machine: {visit.outside_requests}"
    page.close()


CONTRAST = """(el, what) => {
    const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                                 return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
    let bg = el, color;
    while (bg) { color = rgb(getComputedStyle(bg).backgroundColor); if (color.length === 3 || color[3] > 0) break; bg = bg.parentElement; }
    const back = bg ? color.slice(0, 3) : [255, 255, 255];
    const fore = rgb(what === 'accent' ? getComputedStyle(el).accentColor : getComputedStyle(el).color).slice(0, 3);
    if (fore.length < 3) return 0;
    const [a, b] = [lum(fore), lum(back)].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
}"""


@pytest.mark.parametrize("page_path", PAGES)
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_dark_mode(server, browser, page_path, device):
    """In dark mode the players' captions, notes and slider thumbs keep their contrast."""
    options = dict(PHONE) if device == "phone" else {}
    visit = PageVisit(browser, f"{server}/{page_path}.html", color_scheme="dark", **options)
    page = visit.page
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    for i in range(page.locator("[data-sdl-player]").count()):
        player = page.locator("[data-sdl-player]").nth(i)
        for selector in ("figcaption", ".sdl-note", "label", "output", ".sdl-fixed"):
            for element in player.locator(selector).all():
                ratio = element.evaluate(CONTRAST, "text")
                assert ratio >= 4.5, f"{page_path}: player {i} {selector} contrast {ratio:.1f} in dark mode"
        for slider in player.locator("input[type=range]").all():
            ratio = slider.evaluate(CONTRAST, "accent")
            assert ratio >= 3, f"{page_path}: player {i} slider contrast {ratio:.1f} in dark mode"
    folder = SHOTS / ("dark" if device == "desktop" else "dark-phone")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{page_path.replace('/', '_')}.png"), full_page=True)
    assert not visit.console_errors, f"{page_path}: console errors in dark mode: {visit.console_errors}"
    page.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_one_search_box_a_logo_and_a_favicon(server, browser, device):
    visit = PageVisit(browser, f"{server}/{PAGES[0]}.html", **(PHONE if device == "phone" else {}))
    page = visit.page
    searches = page.locator(".search-button-field, .search-button").filter(visible=True)  # theme's
    assert searches.count() == 1, f"{device}: {searches.count()} search boxes"
    icon = page.evaluate("document.querySelector('link[rel~=icon]')?.href")
    assert icon and urlparse(icon).hostname == "127.0.0.1", f"no favicon served by the site: {icon}"
    assert page.request.get(icon).ok, f"the favicon {icon} is missing"
    if device == "desktop":
        logo = page.locator("img.logo__image").first
        assert logo.is_visible() and logo.evaluate("img => img.naturalWidth > 0"), "no logo"
    assert not visit.console_errors and not visit.outside_requests
    page.close()


def test_search_snippets_show_math_as_text(server, browser):
    """Search results quote each page without raw LaTeX (\\frac, \\( ... \\))."""
    visit = PageVisit(browser, f"{server}/search.html?q=neuron")
    page = visit.page
    page.locator("ul.search li p.context").first.wait_for(timeout=30_000)
    page.wait_for_timeout(500)
    snippets = page.locator("ul.search li p.context").all_inner_texts()
    assert snippets, "no search results for 'neuron'"
    raw = [s for s in snippets if "\\" in s]
    assert not raw, f"search snippets with raw LaTeX: {raw}"
    assert not visit.console_errors, f"console errors on the search page: {visit.console_errors}"
    assert not visit.outside_requests
    page.close()
