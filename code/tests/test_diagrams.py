"""The diagrams: the right number of units, arrows, cells and labels; clear errors; opaque figures."""
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.image as mimage  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle  # noqa: E402

from scratchdl import diagrams  # noqa: E402
from scratchdl.conv import im2col  # noqa: E402
from scratchdl.diagrams import (BACKWARD_COLOR, FORWARD_COLOR, NODE_FILL,  # noqa: E402
                                PATCH_COLORS, draw_equation, draw_graph, draw_im2col,
                                draw_matrix, draw_network, draw_windows)
from scratchdl.plots import GREYS, MIN_FONT_PT, PALETTE  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def patches(ax, kind):
    return [p for p in ax.patches if isinstance(p, kind)]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def same_color(a, b):
    return np.allclose(mcolors.to_rgba(a), mcolors.to_rgba(b))


# the receipt of chapter 4: 2 apples at 100, times tax 1.1
RECEIPT_NODES = {"price": (0, 1.5, "apple price", "in"), "count": (1.6, 0.0, "apple count", "below"),
                 "mul": (3.2, 1.5, "×", "op"), "tax": (5.2, 0.0, "tax", "below"),
                 "mul_tax": (6.8, 1.5, "×", "op"), "total": (9.6, 1.5, "total", "out")}
RECEIPT_EDGES = [("price", "mul", "100", "2.2"), ("count", "mul", "2", "110"),
                 ("mul", "mul_tax", "200", "1.1"), ("tax", "mul_tax", "1.1", "200"),
                 ("mul_tax", "total", "220", "1")]


def test_palette_colours_and_greys():
    assert FORWARD_COLOR == PALETTE["blue"] and BACKWARD_COLOR == PALETTE["vermillion"]
    for grey in GREYS.values():
        r, g, b = mcolors.to_rgb(grey)
        assert r == g == b
    # the node fill is the palette's blue, faded towards white: same hue, much lighter
    fill, blue = (mcolors.rgb_to_hsv(mcolors.to_rgb(c)) for c in (NODE_FILL, PALETTE["blue"]))
    assert abs(fill[0] - blue[0]) < 0.02 and fill[2] > 0.95


def test_network_perceptron_counts_units_arrows_and_labels():
    fig, ax = plt.subplots()
    weights = [np.array([[-1.0, 1.0], [-1.0, 1.0]]), np.array([[1.0], [1.0]])]
    biases = [np.array([1.5, -0.5]), np.array([-1.5])]
    draw_network([["x1", "x2"], ["s1", "s2"], ["y"]], weights=weights, biases=biases, ax=ax)
    assert len(patches(ax, Circle)) == 2 + 2 + 1
    arrows = patches(ax, FancyArrowPatch)
    assert len(arrows) == 2 * 2 + 2 * 1
    assert all(a.get_arrowstyle().__class__.__name__ == "CurveFilledB" for a in arrows)  # "-|>"
    labels = texts(ax)
    assert len(labels) == 5 + 6 + 3                          # units, weights, biases
    assert sorted(t for t in labels if t.startswith("b =")) == ["b = -0.5", "b = -1.5", "b = 1.5"]
    assert labels.count("-1") == 2 and labels.count("1") == 4
    assert all(same_color(c.get_facecolor(), NODE_FILL) for c in patches(ax, Circle))


def test_network_labels_may_be_strings():
    ax = draw_network([["$x_1$", "$x_2$"], ["$y$"]], weights=[[["$w_1$"], ["$w_2$"]]],
                      biases=[["bias $b$"]])
    assert {"$w_1$", "$w_2$", "bias $b$"} <= set(texts(ax))


def test_network_from_sizes_with_captions_and_colours():
    colors = [PALETTE["blue"], PALETTE["orange"], PALETTE["orange"], PALETTE["green"]]
    ax = draw_network([2, 3, 2, 2], node_colors=colors, arrows=False, edge_color=GREYS["mid"],
                      layer_labels=["x", "z1", "z2", "y"], bundle_labels=["W1", "W2", "W3"],
                      spacing=3.0, radius=0.3)
    circles = patches(ax, Circle)
    assert len(circles) == 9
    assert [mcolors.to_hex(c.get_facecolor()).upper() for c in circles] == \
        [c.upper() for c in colors[:1] * 2 + colors[1:2] * 3 + colors[2:3] * 2 + colors[3:] * 2]
    lines = patches(ax, FancyArrowPatch)
    assert len(lines) == 2 * 3 + 3 * 2 + 2 * 2
    assert all(same_color(line.get_edgecolor(), GREYS["mid"]) for line in lines)
    assert all(line.get_arrowstyle().__class__.__name__ == "Curve" for line in lines)   # "-", no head
    assert sorted(texts(ax)) == sorted(["x", "z1", "z2", "y", "W1", "W2", "W3"])  # no unit labels
    # the captions are inside the limits, in a row under and over the units
    y_captions = {t.get_text(): t.get_position()[1] for t in ax.texts}
    assert len({y_captions[k] for k in ("x", "z1", "z2", "y")}) == 1
    assert ax.get_ylim()[0] < y_captions["x"] < -1.3 < 1.3 < y_captions["W1"] < ax.get_ylim()[1]


@pytest.mark.parametrize("kwargs, message", [
    (dict(layers=[["a", "b"]]), "at least two layers"),
    (dict(layers=[2, 0]), "at least two layers"),
    (dict(layers=[2, "ab"]), "at least two layers"),
    (dict(layers=[["a", "b"], ["c", "d"]], weights=[np.ones((2, 3))]),
     r"weights\[0\] of shape \(2, 2\).*\(2, 3\)"),
    (dict(layers=[2, 2, 1], weights=[np.ones((2, 2))]), "2 weights arrays, got 1"),
    (dict(layers=[2, 1], biases=[np.zeros(2)]), r"biases\[0\] of shape \(1,\).*\(2,\)"),
    (dict(layers=[2, 1], layer_labels=["x"]), "2 layer_labels, got 1"),
    (dict(layers=[2, 1], bundle_labels=["W1", "W2"]), "1 bundle_labels, got 2"),
    (dict(layers=[2, 1], node_colors=["red", "green", "blue"]), "one colour, or 2"),
])
def test_network_bad_input_names_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw_network(**kwargs)


def test_graph_counts_nodes_arrows_and_labels():
    ax = draw_graph(RECEIPT_NODES, RECEIPT_EDGES, notes_below={"mul": "local: y"},
                    notes_above={"mul_tax": "2"}, title="receipt")
    assert len(patches(ax, Circle)) == 2                      # the two "op" nodes
    arrows = patches(ax, FancyArrowPatch)
    assert len(arrows) == 2 * len(RECEIPT_EDGES)              # forward and backward per edge
    assert sum(same_color(a.get_edgecolor(), BACKWARD_COLOR) for a in arrows) == len(RECEIPT_EDGES)
    by_text = {t.get_text(): t for t in ax.texts}
    for name in ("apple price", "apple count", "tax", "total", "local: y", "2"):
        assert name in by_text
    for _, _, forward, backward in RECEIPT_EDGES:
        assert any(t.get_text() == forward and same_color(t.get_color(), FORWARD_COLOR) for t in ax.texts)
        assert any(t.get_text() == backward and same_color(t.get_color(), BACKWARD_COLOR)
                   for t in ax.texts)
    assert same_color(by_text["local: y"].get_color(), GREYS["dark"])
    assert by_text["local: y"].get_position()[1] < 1.5 < by_text["2"].get_position()[1]
    assert ax.get_title() == "receipt"


def test_graph_forward_only_and_backward_labels_are_optional():
    edges = [(s, t, f, None) for s, t, f, _ in RECEIPT_EDGES]
    ax = draw_graph(RECEIPT_NODES, edges)
    assert len(patches(ax, FancyArrowPatch)) == len(edges)
    assert len(ax.texts) == len(RECEIPT_NODES) + len(edges)   # a label per node, a value per edge


def test_graph_arrows_stop_at_circles_and_boxes():
    nodes = {"a": (0, 0, "a", "in"), "op": (2, 0, "+", "op"),
             "box": (5, 0, "square,\nmean", "box"), "b": (7, 0, "b", "out")}
    ax = draw_graph(nodes, [("a", "op", None, None), ("op", "box", None, None),
                            ("box", "b", None, None)])
    ax.figure.canvas.draw()
    box = next(t for t in ax.texts if t.get_text() == "square,\nmean").get_bbox_patch()
    box_extent = box.get_window_extent()
    circle = patches(ax, Circle)[0]
    centre = ax.transData.transform((2, 0))
    radius_px = ax.transData.transform((2.42, 0))[0] - centre[0]
    into_op, op_to_box, box_out = patches(ax, FancyArrowPatch)
    x_into_op = into_op._get_path_in_displaycoord()[0][0].vertices[:, 0]
    assert x_into_op.max() < centre[0] - radius_px + 1         # stops at the circle
    x_op_box = op_to_box._get_path_in_displaycoord()[0][0].vertices[:, 0]
    assert x_op_box.min() > centre[0] + radius_px - 1 and x_op_box.max() < box_extent.x0 + 1
    x_box_out = box_out._get_path_in_displaycoord()[0][0].vertices[:, 0]
    assert x_box_out.min() > box_extent.x1 - 1
    assert circle.get_radius() == pytest.approx(0.42)


def assert_texts_inside(fig, ax):
    """Every text of ax lies inside the axes (2 pixels of slack) once the figure is drawn."""
    fig.canvas.draw()
    inside = ax.get_window_extent().padded(2)
    for t in ax.texts:
        extent = t.get_window_extent()
        assert inside.x0 <= extent.x0 and extent.x1 <= inside.x1, t.get_text()
        assert inside.y0 <= extent.y0 and extent.y1 <= inside.y1, t.get_text()


def test_graph_limits_hold_every_label():
    fig, ax = plt.subplots(figsize=(9, 2.6))
    draw_graph(RECEIPT_NODES, RECEIPT_EDGES, ax=ax, notes_below={"mul_tax": "local: subtotal"})
    assert_texts_inside(fig, ax)


# the apples-and-oranges receipt of chapter 4: two sloped edges meet at the add node
FRUIT_NODES = {"apple_price": (0, 4.4, "apple price", "in"),
               "apple_count": (1.6, 2.9, "apple count", "below"),
               "orange_price": (0, 1.5, "orange price", "in"),
               "orange_count": (1.6, 0.0, "orange count", "below"),
               "mul_apple": (3.2, 4.4, "×", "op"), "mul_orange": (3.2, 1.5, "×", "op"),
               "add": (6.2, 2.95, "+", "op"), "tax": (8.7, 1.0, "tax", "below"),
               "mul_tax": (9.4, 2.95, "×", "op"), "total": (12.0, 2.95, "total", "out")}
FRUIT_EDGES = [("apple_count", "mul_apple", "2", "110"), ("apple_price", "mul_apple", "100", "2.2"),
               ("orange_price", "mul_orange", "150", "3.3"), ("orange_count", "mul_orange", "3", "165"),
               ("mul_apple", "add", "200", "1.1"), ("mul_orange", "add", "450", "1.1"),
               ("add", "mul_tax", "650", "1.1"), ("tax", "mul_tax", "1.1", "650"),
               ("mul_tax", "total", "715", "1")]


def test_graph_labels_on_sloped_edges_keep_clear_of_their_arrows():
    """Along a sloped edge a corner of the label comes nearest to it: every label stays
    wholly on its side, the forward value above the edge, the derivative under its arrow."""
    fig, ax = plt.subplots(figsize=(10, 3.7))   # the size of chapter 4's receipt player
    draw_graph(FRUIT_NODES, FRUIT_EDGES, ax=ax)
    fig.tight_layout()
    fig.canvas.draw()
    to_px = ax.transData.transform
    backward_arrows = [a for a in patches(ax, FancyArrowPatch)
                       if same_color(a.get_edgecolor(), BACKWARD_COLOR)]
    for (source, target, forward, backward), arrow in zip(FRUIT_EDGES, backward_arrows):
        p0, p1 = to_px(FRUIT_NODES[source][:2]), to_px(FRUIT_NODES[target][:2])
        u = (p1 - p0) / np.linalg.norm(p1 - p0)
        up = np.array([-u[1], u[0]])
        if up[1] < 0:
            up = -up                                  # "above": up, as draw_graph says
        label = next(t for t in ax.texts if t.get_text() == forward
                     and same_color(t.get_color(), FORWARD_COLOR)
                     and abs((to_px(t.get_position()) - (p0 + p1) / 2) @ u) < 80)
        box = label.get_bbox_patch().get_window_extent()
        corners = np.array([(box.x0, box.y0), (box.x0, box.y1), (box.x1, box.y0), (box.x1, box.y1)])
        assert ((corners - p0) @ up).min() > 0, f"{forward} touches the edge {source} -> {target}"
        start = arrow._get_path_in_displaycoord()[0][0].vertices[0]
        label = min((t for t in ax.texts if t.get_text() == backward
                     and same_color(t.get_color(), BACKWARD_COLOR)),
                    key=lambda t: np.linalg.norm(to_px(t.get_position()) - (p0 + p1) / 2))
        box = label.get_bbox_patch().get_window_extent()
        corners = np.array([(box.x0, box.y0), (box.x0, box.y1), (box.x1, box.y0), (box.x1, box.y1)])
        assert ((corners - start) @ up).max() < 0, f"{backward} touches its arrow {source} -> {target}"


def test_graph_notes_keep_clear_of_a_two_line_box():
    fig, ax = plt.subplots(figsize=(2.6, 1.6))   # about 40 points per unit, as labels are sized
    nodes = {"a": (0, 0, "a", "in"), "box": (3, 0, "square,\nmean", "box")}
    draw_graph(nodes, [("a", "box", None, None)], ax=ax,
               notes_above={"box": "above"}, notes_below={"box": "below"})
    fig.tight_layout()
    fig.canvas.draw()
    box = next(t for t in ax.texts if t.get_text() == "square,\nmean").get_bbox_patch()
    extent = box.get_window_extent()
    above = next(t for t in ax.texts if t.get_text() == "above").get_window_extent()
    below = next(t for t in ax.texts if t.get_text() == "below").get_window_extent()
    assert above.y0 >= extent.y1 and below.y1 <= extent.y0


@pytest.mark.parametrize("draw", [
    lambda: draw_network([["x1", "x2"], ["y"]], weights=[np.ones((2, 1))], biases=[np.zeros(1)],
                         layer_labels=["x", "y"], bundle_labels=["W"]),
    lambda: draw_graph(RECEIPT_NODES, RECEIPT_EDGES, notes_below={"mul": "local"},
                       notes_above={"mul_tax": "2"}),
    lambda: draw_matrix("X", (2, 2), values=[[1, 2], [3, 4]]),
    lambda: draw_im2col(),
    lambda: draw_windows(5, 5, 3),
    lambda: diagrams.draw_unrolled_rnn(),
    lambda: diagrams.draw_lstm_cell(),
])
def test_no_text_under_the_minimum(draw):
    ax = draw()
    assert min(t.get_fontsize() for t in ax.texts) >= MIN_FONT_PT


@pytest.mark.parametrize("nodes, edges, kwargs, message", [
    ({"a": (0, 0, "a", "circle")}, [], {}, r"kind one of \('op', 'box'"),
    ({"a": (0, 0, "a")}, [], {}, r"\(x, y, label, kind\)"),
    ({"a": (0, 0, "a", "in")}, [("a", "b", None, None)], {}, r"between the nodes \['a'\]"),
    ({"a": (0, 0, "a", "in"), "b": (0, 0, "b", "op")}, [("a", "b", None, None)], {},
     "two different points"),
    ({"a": (0, 0, "a", "in")}, [], {"notes_below": {"z": "?"}}, r"notes for \['z'\]"),
])
def test_graph_bad_input_names_what_was_expected(nodes, edges, kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw_graph(nodes, edges, **kwargs)


def test_matrix_cells_name_shape_and_values():
    ax = draw_matrix("X", (4, 3), color=PALETTE["sky_blue"])
    assert len(patches(ax, Rectangle)) == 4 * 3
    assert texts(ax) == ["X", "(4, 3)"]
    ax = draw_matrix("b", (2,))                                 # a vector: one row, shape (2,)
    assert len(patches(ax, Rectangle)) == 2 and texts(ax) == ["b", "(2,)"]
    colors = [["red", "red"], ["blue", "blue"]]
    ax = draw_matrix("P", (2, 2), color=colors, values=[[1, 2], [3, 4.5]], show_shape=False)
    assert texts(ax) == ["1", "2", "3", "4.5", "P"]
    assert [mcolors.to_hex(r.get_facecolor()) for r in patches(ax, Rectangle)] == \
        ["#ff0000"] * 2 + ["#0000ff"] * 2


@pytest.mark.parametrize("kwargs, message", [
    (dict(shape=(2, 0)), r"shape \(rows, cols\) or \(n,\) of positive ints"),
    (dict(shape=(1, 2, 3)), r"shape \(rows, cols\)"),
    (dict(shape=(2, 2), values=np.zeros((2, 3))), r"values of shape \(2, 2\), got \(2, 3\)"),
    (dict(shape=(2, 2), color=[["red", "red"]]), r"one colour or \(2, 2\) colours, got \(1, 2\)"),
])
def test_matrix_bad_input_names_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw_matrix("M", **kwargs)


def test_equation_lays_out_parts_left_to_right():
    parts = [("X", (4, 3), "C0"), "@", ("W", (3, 2), "C1"), "+", ("b", (2,), "C2"), "=",
             ("Y", (4, 2), "C3")]
    ax = draw_equation(parts, xy=(1.0, 2.0), cell=0.5)
    assert len(patches(ax, Rectangle)) == 12 + 6 + 2 + 8
    labels = texts(ax)
    assert [t for t in labels if t in "@+="] == ["@", "+", "="]
    x_of = {t.get_text(): t.get_position()[0] for t in ax.texts}
    assert x_of["X"] < x_of["@"] < x_of["W"] < x_of["+"] < x_of["b"] < x_of["="] < x_of["Y"]
    first = min(patches(ax, Rectangle), key=lambda r: (r.get_x(), -r.get_y()))
    assert (first.get_x(), first.get_y() + 0.5) == pytest.approx((1.0, 2.0))   # top-left at xy
    assert ax.get_xlim()[0] < 1.0 and ax.get_ylim()[1] > 2.0   # the limits grew to hold it


@pytest.mark.parametrize("parts, message", [
    ([("X", (4, 3))], r"a str symbol or a tuple \(name, shape, color\)"),
    ([["X", (4, 3), "red"]], "a str symbol or a tuple"),
    ([("X", (4, -3), "red")], r"draw_equation expected a shape"),
])
def test_equation_bad_input_names_what_was_expected(parts, message):
    with pytest.raises(ValueError, match=message):
        draw_equation(parts)


@pytest.mark.parametrize("draw", [
    lambda: draw_network([2, 1]),
    lambda: draw_graph(RECEIPT_NODES, RECEIPT_EDGES),
    lambda: draw_matrix("X", (2, 2)),
    lambda: draw_equation([("X", (2, 2), "C0"), "=", ("Y", (2, 2), "C1")]),
    lambda: draw_im2col(),
    lambda: draw_windows(5, 5, 3),
    lambda: diagrams.draw_unrolled_rnn(),
    lambda: diagrams.draw_lstm_cell(),
])
def test_new_figures_are_opaque_and_white(draw):
    with matplotlib.rc_context({"figure.facecolor": "none", "savefig.transparent": True}):
        ax = draw()
    fig = ax.figure
    assert mcolors.to_rgba(fig.get_facecolor()) == (1.0, 1.0, 1.0, 1.0)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    image = mimage.imread(io.BytesIO(buffer.getvalue()))
    assert image.shape[2] == 3 or np.all(image[..., 3] == 1.0)   # no transparent pixel


def test_everything_public_is_listed():
    assert set(diagrams.__all__) == {"NODE_FILL", "FORWARD_COLOR", "BACKWARD_COLOR", "PATCH_COLORS",
                                     "draw_network", "draw_graph", "draw_matrix", "draw_equation",
                                     "draw_im2col", "draw_windows", "draw_unrolled_rnn", "draw_lstm_cell"}


IM2COL_CELL = 0.45   # draw_im2col's default cell side


def cell_grid(ax, x0, y0, rows, cols, cell=IM2COL_CELL):
    """{(i, j): (rectangle, text)} of the matrix drawn with its top-left corner at (x0, y0)."""
    found = {}
    for r in patches(ax, Rectangle):
        j = (r.get_x() - x0) / cell
        i = (y0 - r.get_y()) / cell - 1
        if np.isclose(j, round(j)) and np.isclose(i, round(i)) and 0 <= round(i) < rows \
                and 0 <= round(j) < cols and np.isclose(r.get_width(), cell):
            found[round(i), round(j)] = r
    return found


def column_matrix(ax, name):
    """(rectangles by (row, col), numbers by (row, col)) of the matrix called `name`."""
    title = next(t for t in ax.texts if t.get_text().startswith(name))
    rows, cols = (int(v) for v in title.get_text()[len(name) + 2:-1].split(", "))
    x_centre, y_top = title.get_position()
    x0, y0 = x_centre - cols * IM2COL_CELL / 2, y_top - 0.12
    cells = cell_grid(ax, x0, y0, rows, cols)
    numbers = {}
    for t in ax.texts:
        x, y = t.get_position()
        j, i = (x - x0) / IM2COL_CELL - 0.5, (y0 - y) / IM2COL_CELL - 0.5
        if np.isclose(j, round(j)) and np.isclose(i, round(i)) and (round(i), round(j)) in cells:
            numbers[round(i), round(j)] = int(t.get_text())
    return rows, cols, cells, numbers


@pytest.mark.parametrize("height, width, kernel, stride, padding", [
    (4, 4, 3, 1, 0), (3, 3, 3, 2, 1), (3, 5, 3, 1, 0), (5, 5, 3, 2, 0)])
def test_im2col_columns_hold_the_patches_of_the_package(height, width, kernel, stride, padding):
    ax = draw_im2col(height, width, kernel, stride, padding, filters=3)
    rows, cols, cells, numbers = column_matrix(ax, "col")
    image = np.arange(1, height * width + 1, dtype=float).reshape(1, 1, height, width)
    expected = im2col(image, kernel, stride, padding)        # zero padding gives the number 0
    assert (rows, cols) == expected.shape and len(cells) == rows * cols
    assert np.array_equal([[numbers[i, j] for j in range(cols)] for i in range(rows)], expected)
    for (i, j), rect in cells.items():                        # column j in the colour of patch j
        assert same_color(rect.get_facecolor()[:3], mcolors.to_rgb(PATCH_COLORS[j]))
    out_rows, out_cols, out_cells, _ = column_matrix(ax, "out")
    assert (out_rows, out_cols) == (3, cols)
    assert all(same_color(r.get_facecolor()[:3], mcolors.to_rgb(PATCH_COLORS[j]))
               for (i, j), r in out_cells.items())
    w_rows, w_cols, _, _ = column_matrix(ax, "W")
    assert (w_rows, w_cols) == (3, kernel * kernel)
    # one copy of the padded image per patch, each with its patch coloured in
    hp, wp = height + 2 * padding, width + 2 * padding
    colored = [r for r in patches(ax, Rectangle)
               if any(same_color(r.get_facecolor()[:3], mcolors.to_rgb(c)) for c in PATCH_COLORS)]
    assert len(colored) == cols * kernel * kernel * 2 + 3 * cols    # copies + col, and out
    assert len(patches(ax, Rectangle)) == cols * hp * wp + rows * cols + 3 * cols + 3 * rows


def test_im2col_labels_fit_inside_the_axes():
    # as tall as the diagram needs at about 42 points per unit, the scale labels are sized at
    fig, ax = plt.subplots(figsize=(8, 5))
    draw_im2col(3, 3, 3, stride=2, padding=1, ax=ax)
    assert_texts_inside(fig, ax)


@pytest.mark.parametrize("kwargs, message", [
    (dict(height=6, width=6, kernel_size=3), r"at most 6 patches.*4 x 4 = 16"),
    (dict(height=4, width=4, kernel_size=3, stride=2), r"not a whole number"),
    (dict(height=4, width=4, kernel_size=5), r"larger than the padded input"),
    (dict(height=0), r"height to be an integer >= 1"),
    (dict(padding=-1), r"padding to be an integer >= 0"),
    (dict(filters=2.0), r"filters to be an integer >= 1"),
])
def test_im2col_bad_input_names_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw_im2col(**kwargs)


def centres(ax):
    (line,) = ax.lines
    return np.column_stack(line.get_data())


@pytest.mark.parametrize("size, kernel, stride, padding, out", [
    (7, 3, 1, 0, 5), (7, 3, 2, 0, 3), (7, 3, 2, 1, 4), (28, 5, 1, 2, 28), (7, 3, 3, 0, 2)])
def test_windows_one_dot_per_output_pixel(size, kernel, stride, padding, out):
    ax = draw_windows(size, size, kernel, stride, padding, cell=0.4)
    dots = centres(ax)
    assert len(dots) == out * out
    # the centres step by the stride, starting half a kernel in
    xs = np.unique(np.round(dots[:, 0] / 0.4, 6))
    assert np.allclose(xs, kernel / 2 + stride * np.arange(out))
    whole = (size + 2 * padding - kernel) % stride == 0
    assert f"output {out} x {out}" + ("" if whole else "\n(rounded down)") in texts(ax)
    padded = size + 2 * padding
    grey = [r for r in patches(ax, Rectangle) if same_color(r.get_facecolor(), GREYS["light"])]
    assert len(grey) == padded * padded - size * size


def test_windows_hatch_the_pixels_no_window_reaches():
    ax = draw_windows(7, 7, 3, stride=3)       # windows at 0 and 3 reach pixel 5: 6 is left out
    hatched = [r for r in patches(ax, Rectangle) if r.get_hatch()]
    assert len(hatched) == 7 * 7 - 6 * 6
    assert all(same_color(r.get_edgecolor(), PALETTE["vermillion"]) for r in hatched)
    tiled = draw_windows(7, 7, 3, stride=2)    # windows at 0, 2, 4 reach pixel 6: nothing left out
    assert not [r for r in patches(tiled, Rectangle) if r.get_hatch()]
    ax = draw_windows(7, 7, 3, stride=2, show_output=False)
    assert not any(t.get_text().startswith("output") for t in ax.texts)


@pytest.mark.parametrize("kwargs, message", [
    (dict(height=3, width=3, kernel_size=5), r"5x5 kernel larger than the padded image \(3 x 3\)"),
    (dict(height=3, width=3, kernel_size=2, stride=0), r"stride to be an integer >= 1"),
    (dict(height=3, width=3.5, kernel_size=2), r"width to be an integer >= 1"),
])
def test_windows_bad_input_names_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        draw_windows(**kwargs)


def arrows_in(ax, color):
    return [p for p in patches(ax, FancyArrowPatch) if same_color(p.get_edgecolor(), color)]


@pytest.mark.parametrize("steps, backward", [(4, True), (3, False), (2, True)])
def test_unrolled_rnn_draws_a_cell_a_loss_and_the_arrows_of_every_step(steps, backward):
    ax = diagrams.draw_unrolled_rnn(steps, backward=backward)
    labels = texts(ax)
    assert labels.count(r"$\tanh$") == steps
    names = [str(i) for i in range(1, steps)] + ["T"]
    assert [label for label in labels if label.startswith("$L_")] == [f"$L_{{{i}}}$" for i in names]
    assert [label for label in labels if label.startswith("$t=")] == [f"$t={i}$" for i in names]
    # forward, in black: x_t in, h_t up to the loss, h_{t-1} across (h0 into the first)
    assert len(arrows_in(ax, "black")) == 3 * steps
    # backward: down from each loss, and back across between neighbouring steps
    assert len(arrows_in(ax, BACKWARD_COLOR)) == (2 * steps - 1 if backward else 0)
    assert ("..." in labels) == (steps > 3)


@pytest.mark.parametrize("steps", [1, 0, 2.5, "4"])
def test_unrolled_rnn_bad_steps_name_what_was_expected(steps):
    with pytest.raises(ValueError, match="steps, an int >= 2"):
        diagrams.draw_unrolled_rnn(steps)


def test_lstm_cell_has_four_gates_and_a_thick_cell_path():
    ax = diagrams.draw_lstm_cell()
    labels = texts(ax)
    for gate, role in [("f", "forget"), ("i", "write"), ("g", "new"), ("o", "read")]:
        assert f"${gate}$\n{role}" in labels
    for state in ("$c_{t-1}$", "$c_t$", "$h_t$", r"$x_t,\ h_{t-1}$ "):
        assert state in labels
    cell_path = arrows_in(ax, PALETTE["orange"])
    assert len(cell_path) == 3 and all(p.get_linewidth() == 3 for p in cell_path)
    # the cell path runs straight along one line, from c_{t-1} to c_t
    ys = {round(y, 6) for p in cell_path for _, y in p._posA_posB}
    assert len(ys) == 1

