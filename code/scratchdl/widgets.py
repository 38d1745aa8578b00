"""Interactive figures that work live in a kernel and as a static player on the website.

One function makes every interactive figure of the book::

    def draw(fig, w1, gate):
        ax = fig.add_subplot(1, 1, 1)
        ...

    interactive_figure(draw, w1=Slider(-1.0, 1.0, step=0.1, value=0.5),
                       gate=Dropdown(["AND", "OR"]), alt="Perceptron with w1={w1} ({gate})")

Live (Jupyter, Binder, Colab, JupyterLite): ipywidgets controls and a PNG of the figure,
redrawn on every change. When the book is built (environment variable
``SCRATCHDL_STATIC_WIDGETS=1``) the figure is also drawn for every combination of the
controls' ``static`` values and a self-contained ``text/html`` player is added to the output:
native range inputs, selects and checkboxes that swap precomputed frames with a few lines of
inline JavaScript. Frames are never stored in the committed notebooks.
"""

import base64
import hashlib
import html
import io
import itertools
import json
import logging
import math
import os
import textwrap
import time

import ipywidgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from PIL import Image  # a dependency of matplotlib, so always installed

from . import plots
from .controls import Checkbox, Dropdown, LogSlider, Slider, _Control
from .plots import HIGHLIGHT

__all__ = ["Slider", "LogSlider", "Dropdown", "Checkbox", "interactive_figure", "InteractiveFigure"]

logger = logging.getLogger(__name__)

STATIC_ENV_VAR = "SCRATCHDL_STATIC_WIDGETS"
MAX_STATIC_FRAMES = 64
LIVE_DPI = 100    # the live PNG: 8 x 4 inches -> 800 x 400 pixels
# The website's frames: drawn at 2x (sharp on high-density screens) and shown at 1x, i.e.
# one figure inch is DISPLAY_DPI CSS pixels at most (less where the column is narrower).
DISPLAY_DPI = 80
STATIC_DPI = 2 * DISPLAY_DPI
MIN_FONT_PT = plots.MIN_FONT_PT  # no text in an interactive figure is smaller (raised after drawing)
PLAIN_TEXT = "Interactive figure: run the notebook to use the controls"


# ---------------------------------------------------------------------------- rendering

def _render_rgb(fig, canvas, draw, values):
    """Clear fig, call draw(fig, **values), return (RGB PIL image, error text or None).

    A draw that raises is a bug in the chapter: it is logged, and the error is drawn in
    place of the figure so that the widget keeps working.
    """
    fig.clf()
    error = None
    try:
        draw(fig, **values)
        canvas.draw()  # first: tick labels exist only once the figure has been drawn
        if _enforce_min_font(fig):
            canvas.draw()
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        logger.error("interactive_figure: %s raised for %s",
                     getattr(draw, "__name__", "draw"), values, exc_info=True)
        fig.clf()
        message = f"The figure could not be drawn for these values.\n\n{error}"
        fig.text(0.5, 0.5, "\n".join(textwrap.fill(line, 70) for line in message.split("\n")),
                 ha="center", va="center", color=HIGHLIGHT, family="monospace")
        canvas.draw()
    rgba = Image.fromarray(np.asarray(canvas.buffer_rgba()))
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB"), error  # opaque: dark mode


def _enforce_min_font(fig, minimum=None):
    """Raise every text of fig smaller than MIN_FONT_PT to that size; True if any changed.

    The frames are shown at most at their natural size, and often smaller (a phone, a
    narrow column), so a 8 pt legend becomes unreadable. Tick labels are raised through
    their axis (new ticks copy its settings); a legend keeps its layout, in font units.
    """
    minimum = MIN_FONT_PT if minimum is None else minimum
    changed = False
    for ax in fig.axes:
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            for which, labels in (("major", axis.get_ticklabels(which="major")),
                                  ("minor", axis.get_ticklabels(which="minor"))):
                shown = [t for t in labels if t.get_visible() and t.get_text()]
                if shown and min(t.get_fontsize() for t in shown) < minimum:
                    ax.tick_params(axis=name, which=which, labelsize=minimum)
                    changed = True
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text() and text.get_fontsize() < minimum:
            text.set_fontsize(minimum)
            changed = True
    for legend in fig.findobj(Legend):
        if legend._fontsize < minimum:  # its paddings and handle lengths are in font units
            legend._fontsize = minimum
            changed = True
    return changed


# 64 frames of 32 KB at 2x: the most a 3 MB page could hold. Most frames are far smaller,
# because most travel as the pixels that differ from the first frame (see _plan_frames).
FRAME_BUDGET_BYTES = 32_000
# The frames of one player, as base64 in the page. A page must stay under 3 MB (checked by
# tests/test_site.py); a chapter holds about 1 MB of other figures, and a player of 64 busy
# frames would take 2-3 MB at 2x, so such a player falls back to 1.5x (then 1x). A draw that
# puts its axes at fixed places (fig.subplots_adjust) rarely needs to: fig.tight_layout moves
# them whenever a tick label changes width, and then every pixel differs from the first frame
# (chapter 3's 64 frames went from about 2.5 MB to 1.0 MB at 2x, only by fixing the layout).
PLAYER_BUDGET_BYTES = 1_900_000


def _quantize(image, fast=False):
    """(the image with at most 255 colours, its PNG): one palette index stays free.

    A palette without dithering (dither noise compresses badly) is a third of the size of
    a full-colour PNG; octree keeps small accents (a thin orange path) their true colour,
    median cut turned them yellow. Busy frames (filled contours) get 64 colours.
    """
    for colors in (255, 64):
        quantized = image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                                   dither=Image.Dither.NONE)
        # octree's bucket averages turn white into 254: keep the page's white and black exact
        quantized.putpalette([255 if c >= 250 else 0 if c <= 5 else c
                              for c in quantized.getpalette()])
        png = _png_bytes(quantized, fast=fast)
        if len(png) <= FRAME_BUDGET_BYTES:
            break
    return quantized, png


def _png_bytes(image, fast=False, **options):
    """PNG bytes; fast: zlib level 6, 7 times quicker than the smallest and 10% larger."""
    buffer = io.BytesIO()
    if fast:
        image.save(buffer, format="PNG", compress_level=6, **options)
    else:
        image.save(buffer, format="PNG", optimize=True, **options)
    return buffer.getvalue()


def _png(image, compact):
    """PNG bytes of an RGB image: fast for the live widget, small for the website."""
    if not compact:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)  # live: speed over size
        return buffer.getvalue()
    return _quantize(image)[1]


def _delta(quantized, changed):
    """(palette image, its transparent index): every pixel outside the mask `changed` clear."""
    n_colors = len(quantized.getpalette()) // 3
    clear = min(n_colors, 255)  # the free index
    indices = np.asarray(quantized).copy()
    indices[~changed] = clear
    delta = Image.fromarray(indices, mode="P")
    delta.putpalette(quantized.getpalette()[:3 * clear] + [0, 0, 0])
    return delta, clear


# a 1 x 1 transparent PNG: the overlay while the first frame itself is shown
CLEAR_PIXEL = "data:image/png;base64," + base64.b64encode(
    _png_bytes(Image.new("LA", (1, 1), (0, 0)))).decode("ascii")


def _data_uri(png):
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _encode_within_budget(images, first):
    """The website's frames: (first frame's PNG, overlay data URIs, {key: overlay index}).

    At 2x, or at 1.5x, then 1x, when the frames would pass PLAYER_BUDGET_BYTES of HTML
    (their base64 text): a heavy player must not push its page past 3 MB. The choices are
    made on quick PNGs; only the chosen ones are then made small. Overlay 0 is CLEAR_PIXEL.
    """
    for factor in (1.0, 0.75, 0.5):
        scaled = images if factor == 1.0 else {
            key: image.resize((round(image.width * factor), round(image.height * factor)),
                              Image.Resampling.LANCZOS) for key, image in images.items()}
        first_image, plan, keys = _plan_frames(scaled, first)
        quick = sum(len(png) for _, _, png in plan) + len(_png_bytes(first_image, fast=True))
        if quick * 4 / 3 * 0.9 <= PLAYER_BUDGET_BYTES:  # base64; the small PNGs are ~10% less
            break
    overlays = [CLEAR_PIXEL] + [_data_uri(_png_bytes(image, **({} if clear is None else
                                                                {"transparency": clear})))
                                for image, clear, _ in plan]
    return _png_bytes(first_image), overlays, keys


def _plan_frames(images, first):
    """How to send the website's frames: (first frame as a palette image, plan, keys).

    images: {key: RGB image}, all the same size; first: the key shown at first. The first
    frame is shown as a picture of its own, and every frame is an overlay drawn over it:
    only the pixels that differ from it (the rest transparent), or the whole frame when
    that is smaller. Identical frames share one overlay. plan: [(palette image,
    transparent index or None, quick PNG)], one per overlay after overlay 0, the clear
    pixel; keys: {key: overlay index}.
    """
    base = np.asarray(images[first])
    plan, index_of, keys = [], {}, {}
    for key, image in images.items():
        pixels = np.asarray(image)
        digest = hashlib.sha1(pixels.tobytes()).hexdigest()
        if digest not in index_of:
            changed = (pixels != base).any(axis=2)
            if not changed.any():
                index_of[digest] = 0
            else:
                quantized, png = _quantize(image, fast=True)
                choice = (quantized, None, png)
                if changed.mean() < 0.5:  # else the transparent pixels save too little
                    delta, clear = _delta(quantized, changed)
                    delta_png = _png_bytes(delta, fast=True, transparency=clear)
                    if len(delta_png) < len(png):
                        choice = (delta, clear, delta_png)
                plan.append(choice)
                index_of[digest] = len(plan)
        keys[key] = index_of[digest]
    return _quantize(images[first], fast=True)[0], plan, keys


# ---------------------------------------------------------------------------- the figure

def interactive_figure(draw, *, figsize=(8, 4), alt=None, title=None, **controls):
    """An interactive figure: draw(fig, **values) redrawn whenever a control changes.

    draw: called with a cleared matplotlib Figure and one keyword argument per control.
    figsize: (width, height) in inches. alt: alt text of the website's frames, a format
    string over the control names, e.g. "Perceptron with w1={w1}". title: a caption.
    controls: name=Slider(...) | LogSlider(...) | Dropdown(...) | Checkbox(...).
    The product of the controls' static value counts must be at most 64. A draw that lays
    its axes out with fig.subplots_adjust, not fig.tight_layout, keeps the website's frames
    small (see PLAYER_BUDGET_BYTES).
    """
    return InteractiveFigure(draw, figsize=figsize, alt=alt, title=title, **controls)


class InteractiveFigure:
    """The object interactive_figure returns; its rich display is the widget.

    widgets: name -> ipywidget, image: the ipywidgets.Image showing the figure,
    container: the VBox displayed, values: the current values by name.
    """

    _counter = itertools.count(1)

    def __init__(self, draw, *, figsize=(8, 4), alt=None, title=None, **controls):
        if not callable(draw):
            raise ValueError(f"interactive_figure expected a function draw(fig, ...), "
                             f"got {draw!r}")
        if not controls:
            raise ValueError("interactive_figure expected at least one control, "
                             "e.g. w=Slider(-1.0, 1.0, step=0.1, value=0.5)")
        for name, control in controls.items():
            if not isinstance(control, _Control):
                raise ValueError(f"interactive_figure expected {name}= to be a Slider, "
                                 f"LogSlider, Dropdown or Checkbox, got {control!r}")
        if len(figsize) != 2 or not all(x > 0 for x in figsize):
            raise ValueError(f"interactive_figure expected figsize=(width, height) in inches, "
                             f"got {figsize!r}")
        counts = {name: len(control.static) for name, control in controls.items()}
        n_frames = math.prod(counts.values())
        if n_frames > MAX_STATIC_FRAMES:
            sizes = ", ".join(f"{name}: {count}" for name, count in counts.items())
            raise ValueError(
                f"interactive_figure: the website player would need {n_frames} frames "
                f"({sizes} static values), at most {MAX_STATIC_FRAMES} are allowed. "
                f"Pass fewer static values to some controls, "
                f"e.g. static=[...] with 3 values, or 1 to fix a control on the website")
        if alt is not None:
            try:
                alt.format(**{name: c.value for name, c in controls.items()})
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"interactive_figure: alt={alt!r} can only use the control "
                                 f"names {list(controls)} as {{name}} fields ({exc!r})") from None
        self.draw, self.controls = draw, controls
        self.figsize, self.alt, self.title = tuple(figsize), alt, title
        self.errors = []  # error texts of draws that raised (tests and authors check this)
        self._static_html = None

        self.figure = Figure(figsize=self.figsize, dpi=LIVE_DPI)
        self._canvas = FigureCanvasAgg(self.figure)
        self.widgets = {name: control.widget(control.label or name)
                        for name, control in controls.items()}
        self.image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(
            width=f"{self.figsize[0] * LIVE_DPI:.0f}px", max_width="100%", height="auto"))
        header = [ipywidgets.HTML(f"<strong>{html.escape(title)}</strong>")] if title else []
        self.container = ipywidgets.VBox([*header, *self.widgets.values(), self.image])
        self.last_redraw_seconds = None
        self.redraw()
        if self.last_redraw_seconds > 0.25:  # too slow to follow a drag: update on release
            for widget in self.widgets.values():
                if hasattr(widget, "continuous_update"):
                    widget.continuous_update = False
        for widget in self.widgets.values():
            widget.observe(self._on_change, names="value")

    @property
    def values(self):
        return {name: control.read(self.widgets[name])
                for name, control in self.controls.items()}

    def set(self, **values):
        """Set some controls' values (as a reader would) and redraw once."""
        unknown = set(values) - set(self.widgets)
        if unknown:
            raise ValueError(f"InteractiveFigure.set: no control named {sorted(unknown)}, "
                             f"the controls are {list(self.widgets)}")
        self._paused = True
        try:
            for name, value in values.items():
                self.widgets[name].value = value
        finally:
            self._paused = False
        self.redraw()

    _paused = False

    def _on_change(self, change):
        if not self._paused:
            self.redraw()

    def redraw(self):
        start = time.perf_counter()
        values = self.values
        image, error = _render_rgb(self.figure, self._canvas, self.draw, values)
        if error:
            self.errors.append(error)
        self.image.value = _png(image, compact=False)
        self.last_redraw_seconds = time.perf_counter() - start

    # -- display

    def __repr__(self):
        return PLAIN_TEXT if not self.title else f"{PLAIN_TEXT} ({self.title})"

    def _repr_mimebundle_(self, **kwargs):
        bundle = dict(self.container._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = repr(self)  # stable for nbval: no memory addresses
        if os.environ.get(STATIC_ENV_VAR, "").strip().lower() in ("1", "true", "yes"):
            bundle["text/html"] = self.static_html()
        return bundle

    def alt_text(self, values):
        if self.alt is not None:
            return self.alt.format(**values)
        shown = ", ".join(f"{c.label or name} = {c.format(values[name])}"
                          for name, c in self.controls.items())
        what = f"“{self.title}”" if self.title else "Interactive figure"
        return f"{what} for {shown}"

    def frame_images(self):
        """Draw every frame of the static grid at STATIC_DPI: {key: (RGB image, alt text)}.

        key: "i,j,..." indices into each control's static values, in control order.
        """
        fig = Figure(figsize=self.figsize, dpi=STATIC_DPI)
        canvas = FigureCanvasAgg(fig)
        names = list(self.controls)
        frames = {}
        for indices in itertools.product(*(range(len(c.static)) for c in self.controls.values())):
            values = {name: self.controls[name].static[i] for name, i in zip(names, indices)}
            image, error = _render_rgb(fig, canvas, self.draw, values)
            if error:
                self.errors.append(error)
            frames[",".join(map(str, indices))] = (image, self.alt_text(values))
        return frames

    def frames(self):
        """Every frame of the static grid as a compact PNG: {key: (png bytes, alt text)}."""
        return {key: (_png(image, compact=True), alt)
                for key, (image, alt) in self.frame_images().items()}

    def static_html(self):
        """The website's player: native controls swapping precomputed frames (cached)."""
        if self._static_html is None:
            self._static_html = _player_html(self)
        return self._static_html


# ---------------------------------------------------------------------------- the player

# Colours come from the book theme's variables when there are some (light and dark mode),
# with fallbacks that work on a white page. The theme gives images in outputs a padded
# light background in dark mode: not these, the overlay must stay transparent. Under 640 px the controls stack, one per row,
# above the figure, which scales to the width; "Enlarge" shows it at full size instead,
# scrolling sideways inside the player (never the page).
_PLAYER_CSS = """\
.sdl-player{margin:1em 0;padding:0!important;max-width:100%;accent-color:var(--pst-color-primary,#0a6e80)}
html[data-theme=dark] .sdl-player{color-scheme:dark;color:var(--pst-color-text-base,#ced6dd)}
.sdl-player .sdl-controls{display:flex;flex-wrap:wrap;gap:.4em 1.6em;align-items:center;margin:0 0 .5em}
.sdl-player .sdl-control{display:flex;align-items:center;gap:.5em}
.sdl-player input[type=range]{min-width:8em}
.sdl-player output{min-width:3.5em;font-variant-numeric:tabular-nums}
.sdl-player .sdl-fixed{flex-basis:100%;margin:0}
.sdl-player .sdl-scroll{overflow-x:auto;max-width:100%}
.sdl-player .sdl-frame{position:relative;max-width:100%;background:#fff}
.sdl-player .sdl-frame img{display:block;width:100%;height:auto;margin:0;padding:0!important;border-radius:0!important;background:transparent!important}
.sdl-player .sdl-frame img.sdl-first{background:#fff!important}
.sdl-player .sdl-frame img[data-sdl-frame]{position:absolute;top:0;left:0;height:100%}
.sdl-player.sdl-zoomed .sdl-frame{max-width:none}
.sdl-player figcaption{font-size:.9em;margin-top:.3em;color:var(--pst-color-text-base,#222);display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:baseline}
.sdl-player .sdl-note{font-style:italic;color:var(--pst-color-text-muted,#555)}
.sdl-player .sdl-zoom[hidden]{display:none}
.sdl-player .sdl-zoom{font:inherit;font-size:.9em;padding:.1em .6em;color:inherit;background:transparent;border:1px solid currentColor;border-radius:.3em;cursor:pointer}
@media (max-width:640px){
.sdl-player .sdl-controls{flex-direction:column;align-items:stretch;gap:.5em}
.sdl-player .sdl-control{width:100%}
.sdl-player .sdl-control input[type=range],.sdl-player .sdl-control select{flex:1 1 auto;min-width:0}
}"""

# ES5, no dependencies. The frame's key is the index of every control's value, in the
# order of the controls (data-sdl-index); a control fixed on the website has index 0.
_PLAYER_JS = """\
(function () {
  var root = document.getElementById("%(id)s");
  var data = JSON.parse(root.querySelector("script[data-sdl-frames]").textContent);
  var img = root.querySelector("img[data-sdl-frame]");
  var box = root.querySelector(".sdl-frame");
  var zoom = root.querySelector("button.sdl-zoom");
  var controls = root.querySelectorAll("[data-sdl-control]");
  function update() {
    var key = [];
    for (var i = 0; i < controls.length; i++) {
      var index = Number(controls[i].getAttribute("data-sdl-index"));
      var input = controls[i].querySelector("input, select");
      if (!input) { key[index] = 0; continue; }  // fixed on the website
      if (input.type === "checkbox") {
        key[index] = input.checked ? input.dataset.on : input.dataset.off; continue;
      }
      key[index] = input.value;
      if (input.type === "range") {
        var text = JSON.parse(input.dataset.values)[input.value];
        controls[i].querySelector("output").textContent = text;
        input.setAttribute("aria-valuetext", text);
      }
    }
    key = key.join(",");
    var frame = data.frames[key];
    if (frame) {
      img.src = data.overlays[frame[0]]; img.alt = frame[1];
      img.setAttribute("data-frame-key", key);
    }
  }
  function fits() {  // offer "Enlarge" only where the figure is shown smaller than its size
    var natural = Number(box.getAttribute("data-width"));
    if (!root.classList.contains("sdl-zoomed")) zoom.hidden = box.clientWidth >= natural - 1;
  }
  zoom.addEventListener("click", function () {
    var on = root.classList.toggle("sdl-zoomed");
    zoom.setAttribute("aria-pressed", on ? "true" : "false");
    zoom.textContent = on ? "Fit to width" : "Enlarge";
    if (!on) fits();
  });
  root.addEventListener("input", update);
  root.addEventListener("change", update);
  window.addEventListener("resize", fits);
  fits();
})();"""


def _control_html(uid, name, control, index, position):
    e = html.escape
    label = control.label or name
    cid = f"{uid}-{name}"
    attrs = f'class="sdl-control" data-sdl-control="{e(name)}" data-sdl-index="{position}"'
    label_html = f'<label for="{cid}">{e(label)}</label>'
    if isinstance(control, Slider):
        texts = [control.format(v) for v in control.static]
        return (f'<div {attrs}>{label_html}<input type="range" id="{cid}" min="0" '
                f'max="{len(texts) - 1}" step="1" value="{index}" '
                f'aria-valuetext="{e(texts[index])}" data-values="{e(json.dumps(texts))}">'
                f'<output for="{cid}">{e(texts[index])}</output></div>')
    if isinstance(control, Dropdown):
        options = "".join(
            f'<option value="{i}"{" selected" if i == index else ""}>'
            f'{e(control.format(v))}</option>' for i, v in enumerate(control.static))
        return f'<div {attrs}>{label_html}<select id="{cid}">{options}</select></div>'
    checked = " checked" if control.static[index] else ""
    return (f'<div {attrs}><input type="checkbox" id="{cid}"{checked} '
            f'data-on="{control.static.index(True)}" data-off="{control.static.index(False)}">'
            f'{label_html}</div>')


def _fixed_html(fixed):
    """One line for every control the website fixes: "Fixed here: a = 1, b = 2 (run...)"."""
    e = html.escape
    items = ", ".join(
        f'<span data-sdl-control="{e(name)}" data-sdl-fixed data-sdl-index="{position}">'
        f'{e(control.label or name)} = {e(control.format(control.static[0]))}</span>'
        for position, name, control in fixed)
    them = "it" if len(fixed) == 1 else "them"
    return (f'<p class="sdl-fixed">Fixed on this page: {items} '
            f'<span class="sdl-note">(run the notebook to change {them})</span></p>')


def _json_for_script(value):
    # escape <, > and &: the JSON sits inside a <script> element
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _player_html(figure):
    """A <figure> with native controls, the frames as data URIs and a few lines of JS."""
    indices = [c.initial_index() for c in figure.controls.values()]
    key = ",".join(map(str, indices))
    drawn = figure.frame_images()
    first_png, overlays, overlay_of = _encode_within_budget(
        {k: image for k, (image, _) in drawn.items()}, key)
    data = {"overlays": overlays,
            "frames": {k: [overlay_of[k], alt] for k, (_, alt) in drawn.items()}}
    data_json = _json_for_script(data)
    digest = hashlib.sha1(data_json.encode()).hexdigest()[:8]
    uid = f"sdl-player-{next(InteractiveFigure._counter)}-{digest}"
    width, height = (round(x * DISPLAY_DPI) for x in figure.figsize)
    moving, fixed = [], []
    for position, ((name, control), i) in enumerate(zip(figure.controls.items(), indices)):
        if len(control.static) == 1:
            fixed.append((position, name, control))
        else:
            moving.append(_control_html(uid, name, control, i, position))
    if fixed:
        moving.append(_fixed_html(fixed))
    e = html.escape
    title = f"<strong>{e(figure.title)}</strong>" if figure.title else ""
    n_frames = len(drawn)
    note = ("" if n_frames == 1 else
            f'<span class="sdl-note">{n_frames} precomputed frames; '
            f'run the notebook to try any value.</span>')
    first = "data:image/png;base64," + base64.b64encode(first_png).decode("ascii")
    controls = "\n".join(moving)
    return f"""\
<figure class="sdl-player" id="{uid}" data-sdl-player data-frame-count="{n_frames}">
<style>{_PLAYER_CSS}</style>
<div class="sdl-controls">
{controls}
</div>
<div class="sdl-scroll"><div class="sdl-frame" data-width="{width}" style="width:{width}px">
<img class="sdl-first" src="{first}" alt="" aria-hidden="true" width="{width}" height="{height}">
<img data-sdl-frame data-frame-key="{key}" src="{CLEAR_PIXEL}" alt="{e(drawn[key][1])}" width="{width}" height="{height}">
</div></div>
<figcaption>{title}{note}<button type="button" class="sdl-zoom" aria-pressed="false" hidden>Enlarge</button></figcaption>
<script type="application/json" data-sdl-frames>{data_json}</script>
<script>
{_PLAYER_JS % {"id": uid}}
</script>
</figure>"""
