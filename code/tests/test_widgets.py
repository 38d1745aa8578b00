"""Tests for scratchdl.widgets: validation, the live widget, the website's static player."""

import base64
import io
import json
import logging
import math
import re

import ipywidgets
import numpy as np
import pytest
from PIL import Image
from scratchdl.widgets import (
    Checkbox,
    Dropdown,
    InteractiveFigure,
    LogSlider,
    Slider,
    interactive_figure,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def line_draw(fig, w, b=0.0, gate="AND", show=False):
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [b, w + b], color="black" if show else "tab:blue")
    ax.set_ylim(-3, 3)
    ax.set_title(gate)


def player_data(page):
    """The frame data of a player's HTML: {"overlays": [data URI, ...], "frames": {key: [i, alt]}}."""
    match = re.search(r'<script type="application/json" data-sdl-frames>(.*?)</script>',
                      page, re.S)
    assert match, "no frame map in the player"
    return json.loads(match.group(1))


def player_frames(page):
    """The frame map of a player's HTML: {key: [overlay data URI, alt]}."""
    data = player_data(page)
    return {key: [data["overlays"][i], alt] for key, (i, alt) in data["frames"].items()}


def decode(uri):
    assert uri.startswith("data:image/png;base64,")
    png = base64.b64decode(uri.split(",", 1)[1])
    assert png.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(png))


def shown(page, key):
    """The picture a reader sees for `key`: the overlay drawn over the first frame."""
    first = decode(re.search(r'<img class="sdl-first" src="([^"]+)"', page).group(1)).convert("RGBA")
    overlay = decode(player_frames(page)[key][0]).convert("RGBA")
    if overlay.size == (1, 1):  # the clear pixel: the first frame itself
        return first.convert("RGB")
    assert overlay.size == first.size
    return Image.alpha_composite(first, overlay).convert("RGB")


# -- control validation

@pytest.mark.parametrize("make, words", [
    (lambda: Slider(1.0, 1.0, step=0.1, value=1.0), ["Slider", "min < max"]),
    (lambda: Slider(0.0, 1.0, step=0.0, value=0.5), ["Slider", "step > 0"]),
    (lambda: Slider(0.0, 1.0, step=0.1, value=2.0), ["Slider", "value inside [0.0, 1.0]"]),
    (lambda: Slider(0.0, 1.0, step=0.1, value=0.5, static=[0.5, 1.5]),
     ["Slider", "static values inside", "1.5"]),
    (lambda: Slider(0.0, 1.0, step=0.1, value=0.5, static=[]), ["Slider", "at least one"]),
    (lambda: Slider("0", 1.0, step=0.1, value=0.5), ["Slider", "number for min"]),
    (lambda: LogSlider(0.0, 1.0, value=0.1), ["LogSlider", "0 < min < max"]),
    (lambda: LogSlider(1e-3, 1.0, value=10.0), ["LogSlider", "value inside"]),
    (lambda: LogSlider(1e-3, 1.0, value=0.1, static=[1e-4]), ["LogSlider", "static values"]),
    (lambda: Dropdown([]), ["Dropdown", "at least one option"]),
    (lambda: Dropdown("AND"), ["Dropdown", "list of options"]),
    (lambda: Dropdown(["AND", "OR"], value="XOR"), ["Dropdown", "one of", "XOR"]),
    (lambda: Dropdown(["AND", "OR"], static=["XOR"]), ["Dropdown", "static values among"]),
    (lambda: Dropdown([("a", 1, 2)]), ["Dropdown", "(label, value) pairs"]),
    (lambda: Checkbox("yes"), ["Checkbox", "True or False"]),
    (lambda: Checkbox(True, static=[1]), ["Checkbox", "True/False"]),
])
def test_control_validation_names_the_control_and_what_was_expected(make, words):
    with pytest.raises(ValueError) as error:
        make()
    for word in words:
        assert word in str(error.value)


def test_default_static_values():
    slider = Slider(-1.0, 1.0, step=0.1, value=0.5)
    assert slider.static == [-1.0, -0.5, 0.0, 0.5, 1.0]
    # the default value replaces its nearest neighbour: the website starts where the notebook does
    assert Slider(-1.5, 1.5, step=0.1, value=-0.7).static == [-1.5, -0.7, 0.0, 0.7, 1.5]
    assert Slider(0, 10, step=1, value=3).static == [0, 3, 5, 8, 10]
    assert Slider(0, 3, step=1, value=3).static == [0, 1, 2, 3]  # fewer steps than 5
    assert all(isinstance(v, int) for v in Slider(0, 10, step=1, value=3).static)
    log = LogSlider(1e-4, 10, value=0.01)
    assert len(log.static) == 5 and 0.01 in log.static
    assert log.static[0] == 1e-4 and log.static[-1] == 10
    assert Dropdown([("sigmoid", "s"), ("ReLU", "r")]).static == ["s", "r"]
    assert Checkbox().static == [False, True]


def test_int_slider_only_when_everything_is_int():
    fig = interactive_figure(lambda fig, n, x: None, n=Slider(1, 10, step=1, value=3),
                             x=Slider(0, 1, step=0.5, value=0, static=[0]))
    assert isinstance(fig.widgets["n"], ipywidgets.IntSlider)
    assert isinstance(fig.widgets["x"], ipywidgets.FloatSlider)
    assert fig.values == {"n": 3, "x": 0.0}


def test_log_slider_widget_spans_the_exponents():
    fig = interactive_figure(lambda fig, lr: None, lr=LogSlider(1e-4, 10, value=0.01))
    widget = fig.widgets["lr"]
    assert isinstance(widget, ipywidgets.FloatLogSlider)
    assert (widget.base, widget.min, widget.max) == (10, -4, 1)
    assert widget.step == pytest.approx(0.1)
    assert fig.values["lr"] == 0.01


# -- the static grid

def test_more_than_64_frames_is_an_error_naming_the_controls_and_counts():
    with pytest.raises(ValueError) as error:
        interactive_figure(line_draw, w=Slider(-1.0, 1.0, step=0.1, value=0.5),
                           b=Slider(-1.0, 1.0, step=0.1, value=0.0),
                           gate=Dropdown(["AND", "OR", "NAND"]))
    message = str(error.value)
    assert "75 frames" in message and "64" in message
    assert "w: 5" in message and "b: 5" in message and "gate: 3" in message


def test_static_grid_is_the_product_of_the_static_counts():
    fig = interactive_figure(line_draw, w=Slider(-1.0, 1.0, step=0.1, value=0.5, static=[0, 0.5, 1]),
                             b=Slider(-1.0, 1.0, step=0.1, value=0.0, static=[0.0]),
                             gate=Dropdown(["AND", "OR"]), show=Checkbox())
    frames = fig.frames()
    assert len(frames) == 3 * 1 * 2 * 2
    assert set(frames) == {f"{i},0,{j},{k}" for i in range(3) for j in range(2) for k in range(2)}


# -- display

def make_figure(**kwargs):
    return interactive_figure(
        line_draw,
        w=Slider(-1.0, 1.0, step=0.1, value=0.5, static=[-1, 0, 0.5, 1], label="w₁"),
        b=Slider(-1.5, 1.5, step=0.1, value=-0.7, static=[-0.7]),
        gate=Dropdown([("logical AND", "AND"), ("logical OR", "OR")], value="AND"),
        show=Checkbox(False, label="show <line>"),
        **kwargs)


def test_without_the_env_var_the_bundle_is_the_widget_and_a_stable_text(monkeypatch):
    monkeypatch.delenv("SCRATCHDL_STATIC_WIDGETS", raising=False)
    fig = make_figure()
    bundle = fig._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert bundle[WIDGET_VIEW]["model_id"] == fig.container.model_id
    assert "text/html" not in bundle
    assert bundle["text/plain"] == "Interactive figure: run the notebook to use the controls"
    assert repr(fig) == bundle["text/plain"]


def test_with_the_env_var_the_bundle_adds_a_self_contained_player(monkeypatch):
    monkeypatch.setenv("SCRATCHDL_STATIC_WIDGETS", "1")
    fig = make_figure(alt="Line with w={w}, b={b} for {gate}, show={show}")
    bundle = fig._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    page = bundle["text/html"]

    frames = player_frames(page)
    assert len(frames) == 4 * 1 * 2 * 2 == math.prod(len(c.static) for c in fig.controls.values())
    for key, (uri, alt) in frames.items():
        decode(uri)
    assert frames["2,0,0,0"][1] == "Line with w=0.5, b=-0.7 for AND, show=False"
    assert frames["3,0,1,1"][1] == "Line with w=1.0, b=-0.7 for OR, show=True"

    # the first frame under an overlay that starts clear, on the default values' frame
    assert page.count("<img") == 2
    img = re.search(r"<img [^>]*data-sdl-frame[^>]*>", page).group(0)
    assert 'data-frame-key="2,0,0,0"' in img
    assert 'alt="Line with w=0.5, b=-0.7 for AND, show=False"' in img

    # drawn at 2x, shown at 1x: the <img> is half the size of the picture
    first = decode(re.search(r'<img class="sdl-first" src="([^"]+)"', page).group(1))
    assert first.size == (2 * 8 * 80, 2 * 4 * 80)
    assert 'width="640" height="320"' in img

    # what the reader sees is the frame drawn for those values (up to the palette's rounding)
    drawn = fig.frame_images()
    for key in ("2,0,0,0", "0,0,0,0", "3,0,1,1"):
        seen = np.asarray(shown(page, key), dtype=int)
        truth = np.asarray(drawn[key][0], dtype=int)
        assert np.abs(seen - truth).max() <= 48 and np.abs(seen - truth).mean() < 1.0, key
    assert np.abs(np.asarray(shown(page, "0,0,0,0"), dtype=int)
                  - np.asarray(shown(page, "3,0,0,0"), dtype=int)).max() > 100

    # native controls over the static values' indices, each with its label
    assert 'data-sdl-player' in page
    assert re.search(r'<input type="range" id="([^"]+)-w" min="0" max="3" step="1" value="2"', page)
    assert '<label for="' in page and ">w₁</label>" in page
    assert "<select" in page and ">logical OR</option>" in page
    assert 'type="checkbox"' in page and "show &lt;line&gt;" in page  # labels are escaped
    assert 'data-sdl-control="b" data-sdl-fixed data-sdl-index="1"' in page
    assert "b = -0.7" in page and "(run the notebook to change it)" in page
    assert page.count("Fixed on this page") == 1

    # self-contained: inline script only, nothing fetched from elsewhere
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "http://" not in page and "https://" not in page and "<link" not in page


def test_two_players_do_not_share_ids(monkeypatch):
    monkeypatch.setenv("SCRATCHDL_STATIC_WIDGETS", "1")
    pages = [make_figure().static_html(), make_figure().static_html()]
    ids = [re.search(r'<figure class="sdl-player" id="([^"]+)"', page).group(1) for page in pages]
    assert ids[0] != ids[1]
    assert f'getElementById("{ids[1]}")' in pages[1]


def test_default_alt_lists_the_values():
    fig = make_figure(title="A line")
    alt = fig.alt_text({"w": 0.5, "b": -0.7, "gate": "OR", "show": True})
    assert alt == "“A line” for w₁ = 0.5, b = -0.7, gate = logical OR, show <line> = on"


def test_bad_alt_template_is_caught_early():
    with pytest.raises(ValueError, match="alt="):
        make_figure(alt="weight {w2}")


# -- the live widget

def test_changing_a_control_redraws_with_the_new_values():
    calls = []

    def draw(fig, w, gate):
        calls.append({"w": w, "gate": gate})
        line_draw(fig, w, gate=gate)

    fig = interactive_figure(draw, w=Slider(-1.0, 1.0, step=0.1, value=0.5),
                             gate=Dropdown(["AND", "OR"]))
    assert isinstance(fig.image, ipywidgets.Image) and fig.image.format == "png"
    before = bytes(fig.image.value)
    assert before.startswith(PNG_SIGNATURE)
    fig.widgets["w"].value = -0.3
    assert calls[-1] == {"w": -0.3, "gate": "AND"}
    assert bytes(fig.image.value) != before
    fig.set(w=0.2, gate="OR")  # several controls, one redraw
    assert calls[-1] == {"w": 0.2, "gate": "OR"}
    assert calls[-2] == {"w": -0.3, "gate": "AND"}


def test_a_draw_that_raises_shows_the_error_instead_of_propagating(caplog):
    def draw(fig, w):
        if w < 0:
            raise ZeroDivisionError("w must be positive in this figure")
        line_draw(fig, w)

    fig = interactive_figure(draw, w=Slider(-1.0, 1.0, step=0.1, value=0.5))
    assert fig.errors == []
    with caplog.at_level(logging.ERROR, logger="scratchdl.widgets"):
        fig.widgets["w"].value = -0.5  # must not raise
    assert fig.errors == ["ZeroDivisionError: w must be positive in this figure"]
    assert bytes(fig.image.value).startswith(PNG_SIGNATURE)
    assert "ZeroDivisionError" in caplog.text
    fig.widgets["w"].value = 0.5  # and it recovers
    assert len(fig.errors) == 1


def test_interactive_figure_arguments_are_checked():
    with pytest.raises(ValueError, match="at least one control"):
        interactive_figure(line_draw)
    with pytest.raises(ValueError, match="w= to be a Slider"):
        interactive_figure(line_draw, w=0.5)
    with pytest.raises(ValueError, match="draw"):
        interactive_figure(None, w=Slider(0, 1, step=1, value=0))
    assert isinstance(make_figure(), InteractiveFigure)


# -- readable frames

def test_no_text_in_an_interactive_figure_is_smaller_than_the_minimum():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from scratchdl.plots import MIN_FONT_PT
    from scratchdl.widgets import STATIC_DPI, _render_rgb

    def tiny(fig, w):
        ax = fig.add_subplot(1, 1, 1)
        ax.plot([0, 1], [0, w], label="a line")
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_title("small title", fontsize=8)
        ax.text(0.5, 0.5, "note", fontsize=5)

    fig = Figure(figsize=(4, 3), dpi=STATIC_DPI)
    image, error = _render_rgb(fig, FigureCanvasAgg(fig), tiny, {"w": 1.0})
    assert error is None and image.size == (4 * STATIC_DPI, 3 * STATIC_DPI)
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert sizes and min(sizes) >= MIN_FONT_PT
    ticks = fig.axes[0].xaxis.get_ticklabels()
    assert all(t.get_fontsize() >= MIN_FONT_PT for t in ticks if t.get_text())


def test_frames_that_differ_little_travel_as_small_overlays(monkeypatch):
    monkeypatch.setenv("SCRATCHDL_STATIC_WIDGETS", "1")
    fig = interactive_figure(line_draw, w=Slider(-1.0, 1.0, step=0.5, value=0.5),
                             show=Checkbox(static=[False]))
    page = fig.static_html()
    data = player_data(page)
    first = decode(re.search(r'<img class="sdl-first" src="([^"]+)"', page).group(1))
    overlays = [decode(uri) for uri in data["overlays"][1:]]
    assert data["frames"]["3,0"][0] == 0  # the first frame itself: no overlay
    assert all(o.size == first.size for o in overlays)
    assert all(o.info.get("transparency") is not None for o in overlays)  # only what changed
    # the one fixed control is on the line that lists fixed values, with its index
    assert 'data-sdl-fixed data-sdl-index="1">show = off</span>' in page
    assert page.count('class="sdl-fixed"') == 1


def test_identical_frames_share_one_overlay(monkeypatch):
    monkeypatch.setenv("SCRATCHDL_STATIC_WIDGETS", "1")
    fig = interactive_figure(lambda fig, w, unused: line_draw(fig, w),
                             w=Slider(0, 2, step=1, value=0), unused=Checkbox())
    data = player_data(fig.static_html())
    assert len(data["frames"]) == 6
    assert len(data["overlays"]) == 1 + 2  # the clear pixel and the two frames unlike the first
    assert data["frames"]["1,0"][0] == data["frames"]["1,1"][0] != 0


def test_a_heavy_player_falls_back_to_a_lower_resolution(monkeypatch):
    import scratchdl.widgets as widgets
    monkeypatch.setenv("SCRATCHDL_STATIC_WIDGETS", "1")
    monkeypatch.setattr(widgets, "PLAYER_BUDGET_BYTES", 1)  # nothing fits: down to 1x
    page = make_figure().static_html()
    first = decode(re.search(r'<img class="sdl-first" src="([^"]+)"', page).group(1))
    assert first.size == (8 * widgets.DISPLAY_DPI, 4 * widgets.DISPLAY_DPI)
    assert 'width="640" height="320"' in page


def test_a_fixed_layout_keeps_the_frames_small(monkeypatch):
    """tight_layout moves the axes when a tick label changes width, so every pixel of a frame
    differs from the first; axes at fixed places leave only the curve and its labels."""
    monkeypatch.setenv("SCRATCHDL_STATIC_WIDGETS", "1")

    def decay(fig, rate, fixed):
        ax_map, ax = fig.subplots(1, 2)
        grid = np.linspace(-2, 2, 100)
        ax_map.contour(grid, grid, grid[:, None] ** 2 + grid ** 2, levels=20)   # the same map
        steps = np.arange(40)
        ax.semilogy(steps, 10.0 * rate ** steps)   # from 10 down to 10^-1 ... 10^-39
        ax.set(xlabel="step", ylabel="f (log scale)", title=f"rate {rate:g}")
        if fixed:
            fig.subplots_adjust(left=0.1, right=0.97, bottom=0.2, top=0.85, wspace=0.45)
        else:
            fig.tight_layout()

    sizes = {}
    for fixed in (False, True):
        page = interactive_figure(decay, rate=Slider(0.05, 0.95, step=0.05, value=0.95,
                                                     static=[0.05, 0.3, 0.6, 0.95]),
                                  fixed=Checkbox(fixed, static=[fixed]), figsize=(8, 3)).static_html()
        overlays = player_data(page)["overlays"][1:]
        sizes[fixed] = sum(len(uri) for uri in overlays)
        if fixed:
            assert all(decode(uri).info.get("transparency") is not None for uri in overlays)
    assert sizes[True] < 0.6 * sizes[False], sizes
