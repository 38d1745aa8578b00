"""Every drawn diagram of the book, in the house palette of ``scratchdl.plots``.

- ``draw_network``: a layered network, circles for units and arrows for weights, with the
  perceptron's weights and biases written on it (chapter 1), or the layer sizes and the
  shapes of the weight matrices of a multilayer network (chapter 2).
- ``draw_graph``: a computational graph, operations as circles or boxes, forward values
  above the edges in blue and derivatives below them in vermillion (chapters 4 and 6).
- ``draw_matrix`` and ``draw_equation``: matrices as grids of cells with their shapes,
  laid out into equations such as X @ W + b = Y (chapter 4).
- ``draw_im2col``: how im2col copies every patch of an image into a column, and how one
  matrix product with the filters then computes the whole convolution (chapter 7).
- ``draw_windows``: the windows a kernel visits for a given padding and stride, the pixels
  no window reaches, and the output grid they make (chapter 7).
- ``draw_unrolled_rnn``: a recurrent network unrolled in time, the forward pass in black
  and backpropagation through time in vermillion (chapter 10).
- ``draw_lstm_cell``: the LSTM cell, its four gates and the additive cell path (chapter 10).

Colours come from the palette of ``scratchdl.plots``; ``FORWARD_COLOR``, ``BACKWARD_COLOR``,
``NODE_FILL`` below and the three ``plots.GREYS`` name the roles they play in a diagram.

Every function draws into ``ax`` when given one, otherwise into a new figure in the house
style, and returns the Axes; none calls ``plt.show()``. No text is smaller than
``plots.MIN_FONT_PT``. Positions are data units on an equal-aspect Axes with the axis lines
hidden.
"""
import re

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from .conv import output_size
from .plots import GREYS, MIN_FONT_PT, PALETTE, _new_axes

__all__ = ["NODE_FILL", "FORWARD_COLOR", "BACKWARD_COLOR", "PATCH_COLORS", "draw_network",
           "draw_graph", "draw_matrix", "draw_equation", "draw_im2col", "draw_windows",
           "draw_unrolled_rnn", "draw_lstm_cell"]

FORWARD_COLOR = PALETTE["blue"]          # values travelling forward
BACKWARD_COLOR = PALETTE["vermillion"]   # derivatives travelling backward
# the palette's blue mixed with 90% white: a fill that black labels stay readable on
NODE_FILL = mcolors.to_hex(0.1 * np.array(mcolors.to_rgb(PALETTE["blue"])) + 0.9)
# one colour per patch of an image (im2col), in an order where neighbours contrast
PATCH_COLORS = [PALETTE[name] for name in ("orange", "sky_blue", "green", "purple", "vermillion",
                                           "blue")]

# At the figure sizes the chapters use, one data unit is about 42 points. Text extents are
# estimated with it, so that the Axes limits leave room for every label.
_POINTS_PER_UNIT = 42.0


def _extent(text, fontsize, bold=False):
    """An estimate of (width, height) of a text in data units; bold glyphs are wider."""
    lines = str(text).split("\n")
    plain = [re.sub(r"\\[a-zA-Z]+|[${}^_]", "", line) for line in lines]   # mathtext markup
    em = 0.68 if bold else 0.58
    return (em * fontsize * max(max(len(line) for line in plain), 1) / _POINTS_PER_UNIT,
            1.25 * fontsize * len(lines) / _POINTS_PER_UNIT)


def _text(ax, bounds, x, y, text, fontsize=MIN_FONT_PT, ha="center", va="center", **kwargs):
    """ax.text, and append an estimate of the text's extent (x0, x1, y0, y1) to bounds."""
    width, height = _extent(text, fontsize, kwargs.get("fontweight") == "bold")
    x0 = x - {"left": 0, "center": width / 2, "right": width}[ha]
    y0 = y - {"bottom": 0, "center": height / 2, "baseline": 0, "top": height}[va]
    bounds.append((x0, x0 + width, y0, y0 + height))
    return ax.text(x, y, text, fontsize=fontsize, ha=ha, va=va, **kwargs)


def _clearance(text, fontsize, normal, gap):
    """How far from an edge (unit normal `normal`) to centre its bold label so that the label's
    box keeps `gap` from it: along a sloped edge a corner of the box comes nearest."""
    width, height = _extent(text, fontsize, bold=True)
    return gap + width / 2 * abs(normal[0]) + height / 2 * abs(normal[1])


def _fit_limits(ax, bounds, xpad=0.1, ypad=0.1):
    """Set equal-aspect limits that hold every (x0, x1, y0, y1) in bounds, and hide the axes."""
    x0, x1, y0, y1 = np.array(bounds, dtype=float).T
    ax.set_xlim(x0.min() - xpad, x1.max() + xpad)
    ax.set_ylim(y0.min() - ypad, y1.max() + ypad)
    ax.set_aspect("equal")
    ax.axis("off")


def _arrow(ax, start, end, color="black", linewidth=1.4, head=14, zorder=5, **kwargs):
    return ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>" if head else "-",
                                        mutation_scale=head or 1, color=color,
                                        linewidth=linewidth, zorder=zorder, **kwargs))


def _label(value, template="{:g}"):
    return str(value) if isinstance(value, str) else template.format(value)


def draw_network(layers, weights=None, biases=None, *, ax=None, layer_labels=None,
                 bundle_labels=None, node_colors=NODE_FILL, edge_color=FORWARD_COLOR,
                 arrows=True, radius=0.2, spacing=1.6):
    """Draw a layered network: circles for units, arrows (or lines) for the weights.

    layers: one entry per layer, left to right: a list of str, one label per unit
    (["$x_1$", "$x_2$"]), or an int, that many unlabelled units.
    weights: one array (n_layer, n_next) per pair of adjacent layers, of numbers or str
    ("$w_1$"), written on the arrows; None writes none.
    biases: one array (n_next,) per layer after the first, written under its units (a
    number as "b = 1.5", a str as given); None writes none.
    layer_labels: one str per layer, in a row under the network (e.g. "x\\n(N, 2)").
    bundle_labels: one str per pair of adjacent layers, in a row above the network
    (e.g. "W1 (2, 3)"): each bundle of arrows is one weight matrix.
    node_colors: one colour for every unit, or a list with one colour per layer.
    edge_color: of the connections and the weights; arrows=False draws plain lines.
    radius: of the circles; spacing: between layers (units of a layer are 1 apart).
    Returns the Axes.
    """
    _, ax = _new_axes(ax)
    sizes = [layer if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool)
             else len(layer) if isinstance(layer, (list, tuple)) else 0 for layer in layers]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"draw_network expected at least two layers, each an int >= 1 or a "
                         f"non-empty list of labels, got {layers!r}")
    unit_labels = [[""] * layer if isinstance(layer, (int, np.integer)) else list(layer)
                   for layer in layers]
    for name, arrays, shape_of in (("weights", weights, lambda k: (sizes[k], sizes[k + 1])),
                                   ("biases", biases, lambda k: (sizes[k + 1],))):
        if arrays is None:
            continue
        if len(arrays) != len(sizes) - 1:
            raise ValueError(f"draw_network expected {len(sizes) - 1} {name} arrays, got {len(arrays)}")
        for k, a in enumerate(arrays):
            if np.shape(a) != shape_of(k):
                raise ValueError(f"draw_network expected {name}[{k}] of shape {shape_of(k)}, "
                                 f"got {np.shape(a)}")
    weights = None if weights is None else [np.asarray(w) for w in weights]
    for name, values, count in (("layer_labels", layer_labels, len(sizes)),
                                ("bundle_labels", bundle_labels, len(sizes) - 1)):
        if values is not None and len(values) != count:
            raise ValueError(f"draw_network expected {count} {name}, got {len(values)}")
    if mcolors.is_color_like(node_colors):
        node_colors = [node_colors] * len(sizes)
    elif len(node_colors) != len(sizes) or not all(map(mcolors.is_color_like, node_colors)):
        raise ValueError(f"draw_network expected one colour, or {len(sizes)} (one per layer), "
                         f"as node_colors, got {node_colors!r}")

    # layer k at x = k * spacing, its units centred on y = 0, one unit apart
    positions = [[(k * spacing, (n - 1) / 2 - i) for i in range(n)] for k, n in enumerate(sizes)]
    top, bottom = (max(sizes) - 1) / 2 + radius, -(max(sizes) - 1) / 2 - radius
    bounds = [(-radius, (len(sizes) - 1) * spacing + radius, bottom, top)]
    for k in range(len(sizes) - 1):
        for i, (x0, y0) in enumerate(positions[k]):
            for j, (x1, y1) in enumerate(positions[k + 1]):
                # every arrow into a unit ends at the same point, the left of its circle
                _arrow(ax, (x0 + radius, y0), (x1 - radius, y1), color=edge_color,
                       linewidth=1.5 if arrows else 1.0, head=12 if arrows else 0, zorder=1)
                if weights is not None:
                    # near the source, where the arrows into one unit are still apart
                    _text(ax, bounds, x0 + radius + 0.35 * (x1 - x0 - 2 * radius),
                          y0 + 0.35 * (y1 - y0), _label(weights[k][i, j]), color=edge_color,
                          zorder=5, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))
        if bundle_labels is not None:
            _text(ax, bounds, (k + 0.5) * spacing, top + 0.25, bundle_labels[k], va="bottom")
    for k, layer in enumerate(positions):
        for i, (x, y) in enumerate(layer):
            ax.add_patch(Circle((x, y), radius, facecolor=node_colors[k], edgecolor="black",
                                linewidth=1.2, zorder=3))
            if unit_labels[k][i]:
                ax.text(x, y, unit_labels[k][i], ha="center", va="center", fontsize=MIN_FONT_PT,
                        zorder=4)
            if biases is not None and k > 0:
                _text(ax, bounds, x, y - radius - 0.05, _label(biases[k - 1][i], "b = {:g}"),
                      va="top")
    if layer_labels is not None:
        below = bottom - (0.4 if biases is not None else 0.0) - 0.25
        for k, text in enumerate(layer_labels):
            _text(ax, bounds, k * spacing, below, text, va="top")
    _fit_limits(ax, bounds, ypad=0.15)
    # centred labels reach past the outer layers by about half their width: a fixed margin
    margin = radius + (0.3 if layer_labels is None else spacing / 2 - 0.2)
    ax.set_xlim(-margin, (len(sizes) - 1) * spacing + margin)
    return ax


_NODE_KINDS = ("op", "box", "in", "out", "below", "above")
# where a bare value label sits around its point: offset, horizontal and vertical alignment
_LABEL_PLACES = {"in": ((-0.12, 0), "right", "center"), "out": ((0.12, 0), "left", "center"),
                 "below": ((0, -0.12), "center", "top"), "above": ((0, 0.12), "center", "bottom")}


def draw_graph(nodes, edges, *, ax=None, title=None, notes_below=None, notes_above=None,
               notes_color=GREYS["dark"], radius=0.42, op_fontsize=14, edge_fontsize=11.5):
    """Draw a computational graph: forward values above the edges, derivatives below.

    nodes: {name: (x, y, label, kind)}, kind one of
        "op"     an operation: a circle of the given radius with the label inside;
        "box"    an operation with a longer label: a rounded box around it;
        "in", "out", "below", "above": a bare value, its label left of, right of, under
                 or over the point (x, y), where its edges start or end.
    edges: [(source, target, forward_text, backward_text)] with names from nodes. The
        forward text is written above the arrow in FORWARD_COLOR; the backward text under
        it in BACKWARD_COLOR, with an arrow pointing back. Either may be None. "Above" is
        up, or left for a vertical edge.
    notes_below, notes_above: {name: text} written under or over a node in notes_color
        (local derivatives, the order of the backward pass, a node's gradient).
    radius: of an "op" circle (and the nominal size of a box); op_fontsize: of the
    operations' labels; edge_fontsize: of the values on the edges.
    Returns the Axes, with limits that fit the nodes and all their labels.
    """
    _, ax = _new_axes(ax)
    for name, node in nodes.items():
        if len(node) != 4 or node[3] not in _NODE_KINDS:
            raise ValueError(f"draw_graph expected node {name!r} as (x, y, label, kind) with kind "
                             f"one of {_NODE_KINDS}, got {node!r}")
    for edge in edges:
        if len(edge) != 4 or edge[0] not in nodes or edge[1] not in nodes:
            raise ValueError(f"draw_graph expected edges as (source, target, forward_text, "
                             f"backward_text) between the nodes {list(nodes)}, got {edge!r}")
    for notes in (notes_below, notes_above):
        unknown = set(notes or {}) - set(nodes)
        if unknown:
            raise ValueError(f"draw_graph expected notes for the nodes {list(nodes)}, "
                             f"got notes for {sorted(unknown)}")
    bounds, outlines = [], {}   # outlines: the patch an edge is clipped at, per operation
    half_heights = {}           # of the boxes, from their centre to their top or bottom
    for name, (x, y, label, kind) in nodes.items():
        bounds.append((x, x, y, y))
        if kind == "op":
            outlines[name] = ax.add_patch(Circle((x, y), radius, facecolor="white",
                                                 edgecolor="black", linewidth=1.8, zorder=3))
            bounds.append((x - radius, x + radius, y - radius, y + radius))
            ax.text(x, y, label, ha="center", va="center", fontsize=op_fontsize, zorder=4)
        elif kind == "box":
            box = dict(boxstyle="round,pad=0.4", facecolor="white", edgecolor="black", linewidth=1.8)
            text = _text(ax, bounds, x, y, label, fontsize=op_fontsize, zorder=4, bbox=box)
            outlines[name] = text.get_bbox_patch()
            # a label of two lines makes a box taller than a circle: notes keep clear of it
            half_heights[name] = max(radius, _extent(label, op_fontsize)[1] / 2
                                     + 0.4 * op_fontsize / _POINTS_PER_UNIT)
        else:
            (dx, dy), ha, va = _LABEL_PLACES[kind]
            _text(ax, bounds, x + dx, y + dy, label, ha=ha, va=va)
    labels = dict(fontsize=edge_fontsize, fontweight="bold", zorder=6,
                  bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    for source, target, forward_text, backward_text in edges:
        p0, p1 = np.array(nodes[source][:2], float), np.array(nodes[target][:2], float)
        if np.allclose(p0, p1):
            raise ValueError(f"draw_graph expected the edge {source!r} -> {target!r} to join two "
                             f"different points, got both at {tuple(p0)}")
        u = (p1 - p0) / np.linalg.norm(p1 - p0)
        normal = np.array([-u[1], u[0]])
        if normal[1] < -1e-9 or (abs(normal[1]) < 1e-9 and normal[0] > 0):
            normal = -normal            # "above" is up, or left for a vertical edge
        # an arrow is clipped at an operation's outline (drawn after it: a box is sized then)
        _arrow(ax, p0, p1, patchA=outlines.get(source), patchB=outlines.get(target),
               shrinkA=3 if source in outlines else 0, shrinkB=3 if target in outlines else 0)
        start = p0 + u * (radius if source in outlines else 0.0)
        end = p1 - u * (radius if target in outlines else 0.0)
        middle = (start + end) / 2
        if forward_text is not None:
            away = _clearance(forward_text, edge_fontsize, normal, gap=0.1)
            _text(ax, bounds, *(middle + away * normal), forward_text, color=FORWARD_COLOR,
                  **labels)
        if backward_text is not None:   # its arrow 0.18 under the edge, the label under that
            _arrow(ax, end - 0.18 * normal - 0.15 * (end - start),
                   start - 0.18 * normal + 0.15 * (end - start), color=BACKWARD_COLOR,
                   linewidth=1.2, head=11)
            away = _clearance(backward_text, edge_fontsize, normal, gap=0.3)
            _text(ax, bounds, *(middle - away * normal), backward_text, color=BACKWARD_COLOR,
                  **labels)
    for notes, sign, gap, va in ((notes_below, -1, 0.45, "top"), (notes_above, 1, 0.12, "bottom")):
        for name, text in (notes or {}).items():
            x, y, _, kind = nodes[name]
            offset = half_heights.get(name, radius if kind == "op" else 0.12) + gap
            _text(ax, bounds, x, y + sign * offset, text, va=va, color=notes_color)
    _fit_limits(ax, bounds)
    if title:
        ax.set_title(title)
    return ax


def _matrix_shape(shape, owner):
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    if len(shape) not in (1, 2) or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in shape):
        raise ValueError(f"{owner} expected a shape (rows, cols) or (n,) of positive ints, got {shape!r}")
    return shape


def draw_matrix(name, shape, *, ax=None, xy=(0.0, 0.0), color=PALETTE["sky_blue"],
                values=None, cell=0.32, show_shape=True):
    """Draw a matrix as a grid of cells, its name above it and its shape below.

    name: a str ("X", "W$^\\top$"). shape: (rows, cols), or (n,) for a vector, drawn as
    one row. xy: the top-left corner. color: one colour, or an array (rows, cols) of
    colours (to pick out cells, such as the patch of an image that im2col copies).
    values: optional (rows, cols) numbers (or str) written in the cells, at MIN_FONT_PT:
    a cell of 0.45 holds two digits. cell: the side of a cell in data units. Returns the Axes.
    """
    _, ax = _new_axes(ax)
    shape = _matrix_shape(shape, "draw_matrix")
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    colors = [[color] * cols for _ in range(rows)] if mcolors.is_color_like(color) else color
    if np.shape(colors)[:2] != (rows, cols) or not all(
            mcolors.is_color_like(c) for row in colors for c in row):
        raise ValueError(f"draw_matrix expected one colour or ({rows}, {cols}) colours, "
                         f"got {np.shape(color)} values")
    if values is not None and np.shape(values) != (rows, cols):
        raise ValueError(f"draw_matrix expected values of shape ({rows}, {cols}), got {np.shape(values)}")
    x, y = xy
    for i in range(rows):
        for j in range(cols):
            ax.add_patch(Rectangle((x + j * cell, y - (i + 1) * cell), cell, cell, alpha=0.85,
                                   facecolor=colors[i][j], edgecolor="white", linewidth=1.2))
            if values is not None:
                ax.text(x + (j + 0.5) * cell, y - (i + 0.5) * cell, _label(values[i][j]),
                        ha="center", va="center", fontsize=MIN_FONT_PT)
    bounds = [(x, x + cols * cell, y - rows * cell, y)]
    _text(ax, bounds, x + cols * cell / 2, y + 0.12, name, fontsize=12, va="bottom")
    if show_shape:
        _text(ax, bounds, x + cols * cell / 2, y - rows * cell - 0.1,
              f"({shape[0]},)" if len(shape) == 1 else f"({rows}, {cols})",
              va="top", color=GREYS["dark"])
    x0, x1, y0, y1 = np.array(bounds).T
    ax.update_datalim([(x0.min(), y0.min()), (x1.max(), y1.max())])
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_equation(parts, *, ax=None, xy=(0.0, 0.0), cell=0.32, fontsize=15):
    """Lay out matrices and symbols left to right, as in X @ W + b = Y.

    parts: a list whose items are a str, a symbol ("@", "+", "="), or a tuple
    (name, shape, color) for a matrix, as draw_matrix takes them: ("X", (4, 3), color).
    xy: the top-left corner of the first part; symbols are centred on the tallest matrix.
    cell: the side of a matrix cell. Returns the Axes.
    """
    _, ax = _new_axes(ax)
    for part in parts:
        if not isinstance(part, str) and (not isinstance(part, tuple) or len(part) != 3):
            raise ValueError(f"draw_equation expected each part to be a str symbol or a tuple "
                             f"(name, shape, color), got {part!r}")
    shapes = [_matrix_shape(part[1], "draw_equation") for part in parts if not isinstance(part, str)]
    tallest = max([shape[0] if len(shape) == 2 else 1 for shape in shapes], default=1)
    widths = iter(shape[-1] * cell for shape in shapes)
    x, y = xy
    for part in parts:
        if isinstance(part, str):
            ax.text(x + 0.3, y - tallest * cell / 2, part, ha="center", va="center", fontsize=fontsize)
            x += 0.6
        else:
            draw_matrix(part[0], part[1], ax=ax, xy=(x, y), color=part[2], cell=cell)
            x += next(widths) + 0.05
    return ax


def _window_starts(size, kernel, stride):
    """Where the windows along one axis of ``size`` (padded) pixels start: 0, S, 2S, ..."""
    return list(range(0, size - kernel + 1, stride))


def draw_im2col(height=4, width=4, kernel_size=3, stride=1, padding=0, *, filters=2, ax=None,
                cell=0.45):
    """Draw im2col on one single-channel image, and the product that finishes the convolution.

    Left: a copy of the image (pixels numbered 1, 2, ... in reading order, zero padding in
    grey) for every output pixel, laid out like the output grid, each with its patch
    filled in its own colour (``PATCH_COLORS``). Right, as a matrix product in Falk's layout:
    col (KH*KW, OH*OW), whose column p holds the pixel numbers of patch p in its colour;
    under it out = W @ col (filters, OH*OW), each entry level with the row of W
    (filters, KH*KW) on its left and under the column of col it multiplies.

    height, width: of the image; kernel_size, stride, padding: ints, as Conv2D takes them.
    The output may have at most len(PATCH_COLORS) = 6 pixels (one colour each); a size that
    is not whole raises the ValueError of ``scratchdl.conv.output_size``. cell: the side
    of a matrix cell in data units (0.45 holds a two-digit pixel number). Returns the Axes.
    """
    _, ax = _new_axes(ax)
    for name, value, minimum in (("height", height, 1), ("width", width, 1),
                                 ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                                 ("padding", padding, 0), ("filters", filters, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"draw_im2col expected {name} to be an integer >= {minimum}, got {value!r}")
    oh, ow = output_size((height, width), kernel_size, stride, padding, owner="draw_im2col")
    if oh * ow > len(PATCH_COLORS):
        raise ValueError(f"draw_im2col can give at most {len(PATCH_COLORS)} patches a colour each, "
                         f"got an output of {oh} x {ow} = {oh * ow} pixels: use a smaller image "
                         f"or a larger kernel or stride")
    k, hp, wp = kernel_size, height + 2 * padding, width + 2 * padding
    numbers = np.zeros((hp, wp), dtype=int)
    numbers[padding:padding + height, padding:padding + width] = \
        np.arange(1, height * width + 1).reshape(height, width)
    rows, cols = _window_starts(hp, k, stride), _window_starts(wp, k, stride)
    patches = [(r, c) for r in rows for c in cols]
    # pixels outside the patch: a pale grey, so the grid stays visible; padding: light grey
    pale = mcolors.to_hex(0.25 * np.array(mcolors.to_rgb(GREYS["light"])) + 0.75)
    inside = np.zeros((hp, wp), dtype=bool)
    inside[padding:padding + height, padding:padding + width] = True
    background = [[pale if inside[i, j] else GREYS["light"] for j in range(wp)] for i in range(hp)]

    # the col matrix and the product, top-left of col at (x_col, 0)
    gap_x, gap_y = 0.35 * hp * cell, 0.45
    group_w = ow * wp * cell + (ow - 1) * gap_x
    group_h = oh * (hp * cell + 0.4) - 0.4
    x_col = group_w + 1.6
    col_h = k * k * cell
    bounds = [(0.0, x_col + len(patches) * cell, -col_h, 0.0)]
    # copies of the image, one per patch, arranged like the output pixels
    top = -(col_h - group_h) / 2 if group_h < col_h else 0.0
    for p, (r, c) in enumerate(patches):
        i, j = divmod(p, ow)
        colors = [row[:] for row in background]
        for a in range(r, r + k):
            for b in range(c, c + k):
                colors[a][b] = PATCH_COLORS[p]
        xy = (j * (wp * cell + gap_x), top - i * (hp * cell + 0.4))
        draw_matrix("", (hp, wp), ax=ax, xy=xy, color=colors, values=numbers, cell=cell,
                    show_shape=False)
    pad_note = f", padding {padding} (grey)" if padding else ""
    _text(ax, bounds, group_w / 2, top + 0.3, f"x ({height}, {width}){pad_note}: {len(patches)} patches",
          fontsize=11, va="bottom")
    arrow_y = top - group_h / 2
    _arrow(ax, (group_w + 0.2, arrow_y), (x_col - 0.2, arrow_y), color=GREYS["dark"], linewidth=1.8)
    _text(ax, bounds, (group_w + x_col) / 2, arrow_y + 0.12, "im2col", fontsize=11, va="bottom",
          color=GREYS["dark"])

    col_values = [[numbers[r + a, c + b] for (r, c) in patches] for a in range(k) for b in range(k)]
    col_colors = [[PATCH_COLORS[p] for p in range(len(patches))] for _ in range(k * k)]
    draw_matrix(f"col ({k * k}, {len(patches)})", (k * k, len(patches)), ax=ax, xy=(x_col, 0.0),
                color=col_colors, values=col_values, cell=cell, show_shape=False)
    y_out = min(-col_h, top - group_h) - gap_y - 0.35   # under col and under the copies
    out_colors = [[PATCH_COLORS[p] for p in range(len(patches))] for _ in range(filters)]
    draw_matrix(f"out ({filters}, {len(patches)})", (filters, len(patches)), ax=ax,
                xy=(x_col, y_out), color=out_colors, cell=cell, show_shape=False)
    x_w = x_col - 0.15 - k * k * cell
    draw_matrix(f"W ({filters}, {k * k})", (filters, k * k), ax=ax, xy=(x_w, y_out),
                color=NODE_FILL, cell=cell, show_shape=False)
    bounds.append((x_w, x_col + len(patches) * cell, y_out - filters * cell, y_out + 0.4))
    note_x = x_col + len(patches) * cell + 0.15
    _text(ax, bounds, note_x, y_out - filters * cell / 2,
          "out = W @ col\none column per\noutput pixel", ha="left",
          color=GREYS["dark"])
    bounds.append((note_x, note_x + 2.4, y_out, y_out))   # the estimate runs short for this font
    _text(ax, bounds, x_w + k * k * cell / 2, y_out - filters * cell - 0.1,
          "one row per filter", va="top", color=GREYS["dark"])
    _fit_limits(ax, bounds)
    return ax


def draw_windows(height, width, kernel_size, stride=1, padding=0, *, ax=None, cell=0.4,
                 show_output=True):
    """Draw the windows a kernel visits on a (zero-padded) image, and the output they make.

    The padded image is a grid (padding in grey). The first window is filled in blue, the
    next one along the row is outlined in orange (the distance between them is the
    stride), and a dot marks the centre of every window visited. Pixels that no window
    reaches, because the stride does not tile the padded image exactly, are hatched in
    vermillion: there ``scratchdl.conv.output_size`` refuses. With ``show_output`` the output
    grid, one cell per window, is drawn on the right with the same two cells marked (its
    caption says "rounded down" when some pixels were never visited).

    height, width: of the image; kernel_size, stride, padding: ints (square kernels).
    cell: the side of a pixel in data units. Returns the Axes.
    """
    _, ax = _new_axes(ax)
    for name, value, minimum in (("height", height, 1), ("width", width, 1),
                                 ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                                 ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"draw_windows expected {name} to be an integer >= {minimum}, got {value!r}")
    k, hp, wp = kernel_size, height + 2 * padding, width + 2 * padding
    if k > hp or k > wp:
        raise ValueError(f"draw_windows got a {k}x{k} kernel larger than the padded image "
                         f"({hp} x {wp})")
    rows, cols = _window_starts(hp, k, stride), _window_starts(wp, k, stride)
    covered = np.zeros((hp, wp), dtype=bool)
    covered[:rows[-1] + k, :cols[-1] + k] = True
    bounds = [(0.0, wp * cell, -hp * cell, 0.0)]
    for i in range(hp):
        for j in range(wp):
            inside = padding <= i < padding + height and padding <= j < padding + width
            ax.add_patch(Rectangle((j * cell, -(i + 1) * cell), cell, cell,
                                   facecolor="white" if inside else GREYS["light"],
                                   edgecolor=GREYS["mid"], linewidth=0.8, zorder=1))
            if not covered[i, j]:
                ax.add_patch(Rectangle((j * cell, -(i + 1) * cell), cell, cell, facecolor="none",
                                       edgecolor=PALETTE["vermillion"], hatch="///",
                                       linewidth=0, zorder=2))
    ax.add_patch(Rectangle((0, -k * cell), k * cell, k * cell, facecolor=FORWARD_COLOR, alpha=0.3,
                           edgecolor="none", zorder=3))
    ax.add_patch(Rectangle((0, -k * cell), k * cell, k * cell, facecolor="none",
                           edgecolor=FORWARD_COLOR, linewidth=2.5, zorder=4))
    if len(cols) > 1:
        ax.add_patch(Rectangle((cols[1] * cell, -k * cell), k * cell, k * cell, facecolor="none",
                               edgecolor=PALETTE["orange"], linewidth=2.5, linestyle="--", zorder=4))
    centres = [((c + k / 2) * cell, -(r + k / 2) * cell) for r in rows for c in cols]
    ax.plot(*np.array(centres).T, "o", color="black", markersize=max(2.0, 10 * cell), zorder=5)
    _text(ax, bounds, wp * cell / 2, 0.12, f"input {height} x {width}, padding {padding}",
          fontsize=11, va="bottom")
    if show_output:
        x0 = wp * cell + 1.2
        oh, ow = len(rows), len(cols)
        y0 = -(hp - oh) * cell / 2
        for i in range(oh):
            for j in range(ow):
                color = FORWARD_COLOR if (i, j) == (0, 0) else \
                    PALETTE["orange"] if (i, j) == (0, 1) else "white"
                ax.add_patch(Rectangle((x0 + j * cell, y0 - (i + 1) * cell), cell, cell,
                                       facecolor=color, alpha=0.6 if color != "white" else 1.0,
                                       edgecolor="black", linewidth=0.8))
        _arrow(ax, (wp * cell + 0.25, -hp * cell / 2), (x0 - 0.25, -hp * cell / 2),
               color=GREYS["dark"])
        caption = f"output {oh} x {ow}" + ("" if covered.all() else "\n(rounded down)")
        _text(ax, bounds, x0 + ow * cell / 2, y0 + 0.12, caption, fontsize=11, va="bottom")
        bounds.append((x0, x0 + ow * cell, y0 - oh * cell, y0))
    _fit_limits(ax, bounds)
    return ax


def _box(ax, xy, text, width, height, color, fontsize=12):
    """A rounded box centred at xy with its label: one block of a diagram."""
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.02,rounding_size=0.08", facecolor=color,
                                edgecolor=GREYS["dark"], linewidth=1.2, zorder=3))
    return ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=4)


def draw_unrolled_rnn(steps=4, backward=True, *, ax=None):
    """Draw a recurrent network unrolled in time: at each step t a tanh cell takes x_t
    (through Wx) and h_{t-1} (through Wh) and gives h_t, which feeds a loss L_t and the next
    step. The last step is labelled T; with more than three steps, dots stand for the ones
    left out. backward: also draw the gradient's paths (vermillion), from each loss down
    into its cell and from each cell back to the one before. Returns the Axes.
    """
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"draw_unrolled_rnn expected steps, an int >= 2, got {steps!r}")
    _, ax = _new_axes(ax)
    gap = 2.0
    for t in range(steps):
        x0 = t * gap
        index = t + 1 if t < steps - 1 else "T"
        _box(ax, (x0, 0), r"$\tanh$", 1.0, 0.7, PALETTE["sky_blue"])
        ax.text(x0, -1.55, f"$x_{{{index}}}$", ha="center", va="center", fontsize=13)
        _arrow(ax, (x0, -1.3), (x0, -0.37))
        ax.text(x0 - 0.15, -0.85, "$W_x$", ha="right", va="center", fontsize=MIN_FONT_PT, color=GREYS["dark"])
        _box(ax, (x0, 1.55), f"$L_{{{index}}}$", 0.7, 0.5, PALETTE["yellow"])
        _arrow(ax, (x0, 0.37), (x0, 1.28))
        ax.text(x0 + 0.12, 0.8, f"$h_{{{index}}}$", ha="left", va="center", fontsize=12)
        ax.text(x0, -2.05, f"$t={index}$", ha="center", va="center", fontsize=MIN_FONT_PT, color=GREYS["dark"])
        _arrow(ax, (x0 - gap + (0.52 if t else 0.9), 0), (x0 - 0.52, 0))
        ax.text(x0 - gap / 2, 0.12, "$W_h$" if t else "$h_0$", ha="center", va="bottom", fontsize=MIN_FONT_PT,
                color=GREYS["dark"])
        if backward:
            _arrow(ax, (x0 - 0.3, 1.28), (x0 - 0.3, 0.37), color=BACKWARD_COLOR, linewidth=1.3)
            if t:
                _arrow(ax, (x0 - 0.52, -0.22), (x0 - gap + 0.52, -0.22), color=BACKWARD_COLOR, linewidth=1.3)
    if steps > 3:
        ax.text((steps - 2) * gap + 1.0, -0.6, "...", ha="center", va="center", fontsize=16)
    _fit_limits(ax, [(-gap + 0.6, (steps - 1) * gap + 0.8, -2.3, 2.0)], xpad=0, ypad=0)
    return ax


_GATE_ROLES = {"f": "forget", "i": "write", "g": "new", "o": "read"}


def draw_lstm_cell(*, ax=None):
    """Draw the LSTM cell: the cell state's path along the top (c_{t-1}, times the forget
    gate f, plus the input gate i times the candidate g, gives c_t), and the read below it
    (h_t = o times tanh(c_t)); the four gates take x_t and h_{t-1}. The cell path is drawn
    thick in orange: it has no weights and no squashing. Returns the Axes.
    """
    _, ax = _new_axes(ax)
    op, wire = "white", GREYS["dark"]
    y_c, y_gates, y_in = 2.4, 0.3, -1.1
    # the cell path along the top: c_{t-1} -> x f -> + i g -> c_t
    ax.text(-0.35, y_c, "$c_{t-1}$", ha="right", va="center", fontsize=14)
    ax.text(7.35, y_c, "$c_t$", ha="left", va="center", fontsize=14)
    for start, end in (((-0.3, y_c), (1.25, y_c)), ((1.55, y_c), (3.45, y_c)), ((3.75, y_c), (7.3, y_c))):
        _arrow(ax, start, end, color=PALETTE["orange"], linewidth=3)
    _box(ax, (1.4, y_c), r"$\times$", 0.3, 0.3, op)
    _box(ax, (3.6, y_c), "$+$", 0.3, 0.3, op)
    # the gates, all fed by x_t and h_{t-1}
    for x0, name in zip((1.4, 2.7, 3.9, 5.3), _GATE_ROLES):
        _box(ax, (x0, y_gates), f"${name}$\n{_GATE_ROLES[name]}", 0.95, 0.75,
             PALETTE["green"] if name == "g" else PALETTE["sky_blue"], fontsize=MIN_FONT_PT)
        _arrow(ax, (x0, y_in + 0.3), (x0, y_gates - 0.38), color=wire, linewidth=1.2)
    ax.plot([0.4, 5.3], [y_in + 0.3, y_in + 0.3], color=wire, lw=1.2)
    ax.text(0.35, y_in + 0.3, r"$x_t,\ h_{t-1}$ ", ha="right", va="center", fontsize=13)
    _arrow(ax, (1.4, y_gates + 0.38), (1.4, y_c - 0.15), color=wire, linewidth=1.2)
    # write: i times g, added to the cell
    _box(ax, (3.3, 1.35), r"$\times$", 0.3, 0.3, op)
    _arrow(ax, (2.7, y_gates + 0.38), (3.18, 1.25), color=wire, linewidth=1.2)
    _arrow(ax, (3.9, y_gates + 0.38), (3.42, 1.25), color=wire, linewidth=1.2)
    _arrow(ax, (3.35, 1.5), (3.55, y_c - 0.15), color=wire, linewidth=1.2)
    # read: tanh(c_t) times o gives h_t
    _box(ax, (6.2, 1.5), r"$\tanh$", 0.6, 0.4, op, fontsize=MIN_FONT_PT)
    _arrow(ax, (6.2, y_c), (6.2, 1.7), color=wire, linewidth=1.2)
    _box(ax, (6.2, 0.3), r"$\times$", 0.3, 0.3, op)
    _arrow(ax, (6.2, 1.3), (6.2, 0.45), color=wire, linewidth=1.2)
    _arrow(ax, (5.78, y_gates), (6.05, y_gates), color=wire, linewidth=1.2)
    _arrow(ax, (6.35, y_gates), (7.3, y_gates), color=wire, linewidth=1.5)
    ax.text(7.35, y_gates, "$h_t$", ha="left", va="center", fontsize=14)
    ax.text(3.6, 2.85, "the cell path: no weights, no squashing", ha="center", va="center",
            fontsize=MIN_FONT_PT, color=BACKWARD_COLOR)
    _fit_limits(ax, [(-1.5, 8.0, -1.3, 3.1)], xpad=0, ypad=0)
    return ax

