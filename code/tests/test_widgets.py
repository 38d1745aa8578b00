"""Tests for scratchdl.widgets: validation, the live widget, the website's static player."""

import base64
import json
import logging
import math
import re

import ipywidgets
import pytest

from scratchdl.widgets import (Checkbox, Dropdown, InteractiveFigure, LogSlider, Slider,
                               interactive_figure)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def line_draw(fig, w, b=0.0, gate="AND", show=False):
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [b, w + b], color="black" if show else "tab:blue")
    ax.set_ylim(-3, 3)
    ax.set_title(gate)


def player_frames(page):
    """The frame map of a player's HTML: {key: [data URI, alt]}."""
    match = re.search(r'<script type="application/json" data-sdl-frames>(.*?)</script>',
                      page, re.S)
    assert match, "no frame map in the player"
    return json.loads(match.group(1))


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
        assert uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1]).startswith(PNG_SIGNATURE)
    assert frames["2,0,0,0"][1] == "Line with w=0.5, b=-0.7 for AND, show=False"
    assert frames["3,0,1,1"][1] == "Line with w=1.0, b=-0.7 for OR, show=True"

    # one <img>, starting on the default values' frame
    assert page.count("<img") == 1
    img = re.search(r"<img [^>]*>", page).group(0)
    assert 'data-sdl-frame' in img and 'data-frame-key="2,0,0,0"' in img
    assert frames["2,0,0,0"][0] in img

    # native controls over the static values' indices, each with its label
    assert 'data-sdl-player' in page
    assert re.search(r'<input type="range" id="([^"]+)-w" min="0" max="3" step="1" value="2"', page)
    assert '<label for="' in page and ">w₁</label>" in page
    assert "<select" in page and ">logical OR</option>" in page
    assert 'type="checkbox"' in page and "show &lt;line&gt;" in page  # labels are escaped
    assert 'data-sdl-control="b" data-sdl-fixed' in page
    assert "b = -0.7" in page and "run the notebook to change it" in page

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
