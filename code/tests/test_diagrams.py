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
from scratchdl.diagrams import (BACKWARD_COLOR, FORWARD_COLOR, NODE_FILL,  # noqa: E402
                                draw_equation, draw_graph, draw_matrix, draw_network)
from scratchdl.plots import GREYS, PALETTE  # noqa: E402


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


def test_graph_limits_hold_every_label():
    fig, ax = plt.subplots(figsize=(9, 2.6))
    draw_graph(RECEIPT_NODES, RECEIPT_EDGES, ax=ax, notes_below={"mul_tax": "local: subtotal"})
    fig.canvas.draw()
    inside = ax.get_window_extent().padded(2)
    for t in ax.texts:
        extent = t.get_window_extent()
        assert inside.x0 <= extent.x0 and extent.x1 <= inside.x1, t.get_text()
        assert inside.y0 <= extent.y0 and extent.y1 <= inside.y1, t.get_text()


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
    assert set(diagrams.__all__) == {"NODE_FILL", "FORWARD_COLOR", "BACKWARD_COLOR",
                                     "draw_network", "draw_graph", "draw_matrix", "draw_equation"}
