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
from PIL import Image  # a dependency of matplotlib, so always installed

from .controls import Checkbox, Dropdown, LogSlider, Slider, _Control
from .plots import HIGHLIGHT

__all__ = ["Slider", "LogSlider", "Dropdown", "Checkbox", "interactive_figure", "InteractiveFigure"]

logger = logging.getLogger(__name__)

STATIC_ENV_VAR = "SCRATCHDL_STATIC_WIDGETS"
MAX_STATIC_FRAMES = 64
LIVE_DPI = 100    # the live PNG: 8 x 4 inches -> 800 x 400 pixels
STATIC_DPI = 80   # the website's frames: smaller, 64 of them travel in one page
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
        canvas.draw()
    except Exception as exc:  # noqa: BLE001 - shown to the reader, logged for the author
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


FRAME_BUDGET_BYTES = 16_000  # 64 frames of 16 KB: about 1.4 MB of base64 HTML


def _png(image, compact):
    """PNG bytes of an RGB image: fast for the live widget, small for the website."""
    buffer = io.BytesIO()
    if not compact:
        image.save(buffer, format="PNG", compress_level=1)  # live: speed over size
        return buffer.getvalue()
    # a palette without dithering (dither noise compresses badly) is a third of the size of
    # a full-colour PNG; octree keeps small accents (a thin orange path) their true colour,
    # median cut turned them yellow. Busy frames (filled contours) get 64 colours.
    for colors in (256, 64):
        buffer = io.BytesIO()
        image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                       dither=Image.Dither.NONE).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= FRAME_BUDGET_BYTES:
            break
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the figure

def interactive_figure(draw, *, figsize=(8, 4), alt=None, title=None, **controls):
    """An interactive figure: draw(fig, **values) redrawn whenever a control changes.

    draw: called with a cleared matplotlib Figure and one keyword argument per control.
    figsize: (width, height) in inches. alt: alt text of the website's frames, a format
    string over the control names, e.g. "Perceptron with w1={w1}". title: a caption.
    controls: name=Slider(...) | LogSlider(...) | Dropdown(...) | Checkbox(...).
    The product of the controls' static value counts must be at most 64.
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

    def frames(self):
        """Draw every frame of the static grid: {key: (png bytes, alt text)}.

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
            frames[",".join(map(str, indices))] = (_png(image, compact=True),
                                                  self.alt_text(values))
        return frames

    def static_html(self):
        """The website's player: native controls swapping precomputed frames (cached)."""
        if self._static_html is None:
            self._static_html = _player_html(self)
        return self._static_html


# ---------------------------------------------------------------------------- the player

_PLAYER_CSS = """\
.sdl-player{margin:1em 0;max-width:100%}
.sdl-player .sdl-controls{display:flex;flex-wrap:wrap;gap:.4em 1.6em;align-items:center;margin:0 0 .5em}
.sdl-player .sdl-control{display:flex;align-items:center;gap:.5em}
.sdl-player output{min-width:3.5em;font-variant-numeric:tabular-nums}
.sdl-player img{display:block;max-width:100%;height:auto;background:#fff}
.sdl-player figcaption{font-size:.9em;margin-top:.3em}
.sdl-player .sdl-note{font-style:italic}"""

# ES5, no dependencies: the key of the frame to show is the index of every control's value
_PLAYER_JS = """\
(function () {
  var root = document.getElementById("%(id)s");
  var frames = JSON.parse(root.querySelector("script[data-sdl-frames]").textContent);
  var img = root.querySelector("img[data-sdl-frame]");
  var controls = root.querySelectorAll("[data-sdl-control]");
  function update() {
    var key = [];
    for (var i = 0; i < controls.length; i++) {
      var input = controls[i].querySelector("input, select");
      if (!input) { key.push(0); continue; }  // fixed on the website
      if (input.type === "checkbox") {
        key.push(input.checked ? input.dataset.on : input.dataset.off); continue;
      }
      key.push(input.value);
      if (input.type === "range") {
        var text = JSON.parse(input.dataset.values)[input.value];
        controls[i].querySelector("output").textContent = text;
        input.setAttribute("aria-valuetext", text);
      }
    }
    key = key.join(",");
    if (frames[key]) {
      img.src = frames[key][0]; img.alt = frames[key][1];
      img.setAttribute("data-frame-key", key);
    }
  }
  root.addEventListener("input", update);
  root.addEventListener("change", update);
})();"""


def _control_html(uid, name, control, index):
    e = html.escape
    label = control.label or name
    cid = f"{uid}-{name}"
    attrs = f'class="sdl-control" data-sdl-control="{e(name)}"'
    if len(control.static) == 1:
        value = control.format(control.static[0])
        return (f'<div {attrs} data-sdl-fixed><span>{e(label)} = {e(value)} '
                f'<span class="sdl-note">(run the notebook to change it)</span></span></div>')
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


def _player_html(figure):
    """A <figure> with native controls, the frames as data URIs and a few lines of JS."""
    frames = {key: (f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}", alt)
              for key, (png, alt) in figure.frames().items()}
    # escape <, > and &: the JSON sits inside a <script> element
    frames_json = (json.dumps(frames, ensure_ascii=False, separators=(",", ":"))
                   .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    digest = hashlib.sha1(frames_json.encode()).hexdigest()[:8]
    uid = f"sdl-player-{next(InteractiveFigure._counter)}-{digest}"
    indices = [c.initial_index() for c in figure.controls.values()]
    key = ",".join(map(str, indices))
    src, alt = frames[key]
    width, height = (round(x * STATIC_DPI) for x in figure.figsize)
    controls = "\n".join(_control_html(uid, name, control, i)
                         for (name, control), i in zip(figure.controls.items(), indices))
    e = html.escape
    title = f"<strong>{e(figure.title)}</strong> " if figure.title else ""
    note = ("" if len(frames) == 1 else
            f'<span class="sdl-note">{len(frames)} precomputed frames; '
            f'run the notebook to try any value.</span>')
    return f"""\
<figure class="sdl-player" id="{uid}" data-sdl-player data-frame-count="{len(frames)}">
<style>{_PLAYER_CSS}</style>
<div class="sdl-controls">
{controls}
</div>
<img data-sdl-frame data-frame-key="{key}" src="{src}" alt="{e(alt)}" width="{width}" height="{height}">
<figcaption>{title}{note}</figcaption>
<script type="application/json" data-sdl-frames>{frames_json}</script>
<script>
{_PLAYER_JS % {"id": uid}}
</script>
</figure>"""
