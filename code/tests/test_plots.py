"""The house style and the shared plots: right number of axes, opaque backgrounds, no show()."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from scratchdl import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def is_opaque_white(color):
    return mcolors.to_rgba(color) == (1.0, 1.0, 1.0, 1.0)


def test_use_style_sets_opaque_white_and_palette():
    with matplotlib.rc_context():
        plots.use_style()
        rc = matplotlib.rcParams
        assert is_opaque_white(rc["figure.facecolor"])
        assert is_opaque_white(rc["axes.facecolor"])
        assert is_opaque_white(rc["savefig.facecolor"])
        assert rc["figure.dpi"] == 100
        assert tuple(rc["figure.figsize"]) == (plots.PAGE_WIDTH_IN, plots.PAGE_WIDTH_IN / 2)
        assert not rc["axes.spines.top"] and not rc["axes.spines.right"]
        cycle = [c.upper() for c in rc["axes.prop_cycle"].by_key()["color"]]
        assert set(cycle) == {c.upper() for c in plots.PALETTE.values()}


def test_palette_is_okabe_ito():
    assert len(plots.PALETTE) == 8
    assert plots.PALETTE["orange"] == "#E69F00"
    assert all(mcolors.is_color_like(c) for c in plots.PALETTE.values())


def test_image_grid_flat_images_and_highlighted_mistakes():
    rng = np.random.default_rng(0)
    images = rng.random((12, 784))
    labels = np.arange(12) % 10
    predictions = labels.copy()
    predictions[3] = 5
    fig = plots.image_grid(images, labels, predictions, ncols=5)
    assert len(fig.axes) == 15  # 3 rows of 5, the last three empty
    assert is_opaque_white(fig.get_facecolor())
    wrong = fig.axes[3].title
    right = fig.axes[0].title
    assert wrong.get_text() == "5\n(true 3)"          # two lines: one is wider than an image
    assert mcolors.to_hex(wrong.get_color()).upper() == plots.HIGHLIGHT.upper()
    assert mcolors.to_hex(right.get_color()) == "#000000"


def page_width_pixels(fig):
    """Width of the PNG a notebook shows (bbox tight, at the figure's dpi)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return Image.open(io.BytesIO(buffer.getvalue())).width


@pytest.mark.parametrize("draw", [
    lambda: plots.image_grid(np.zeros((20, 28, 28)), labels=np.arange(20) % 10,
                             predictions=(np.arange(20) + 1) % 10),
    lambda: plots.image_grid(np.zeros((12, 28, 28)), labels=np.arange(12) % 10, ncols=6),
    lambda: plots.activation_histograms([np.zeros(10)] * 6),
    lambda: plots.loss_curve([3.0, 2.0, 1.0]).figure,
])
def test_figures_fit_the_page_with_no_text_under_the_minimum(draw):
    """A figure no wider than the page is shown at its natural size, so its text is too."""
    from matplotlib.text import Text

    fig = draw()
    assert page_width_pixels(fig) <= plots.PAGE_WIDTH_IN * fig.dpi
    shown = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
    assert min(t.get_fontsize() for t in shown) >= plots.MIN_FONT_PT


def test_image_grid_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        plots.image_grid(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="labels"):
        plots.image_grid(np.zeros((3, 4, 4)), labels=[1, 2])


def test_loss_curve_from_history_and_list_draws_into_given_axes():
    history = {"loss": list(np.linspace(2.3, 0.1, 200)), "iteration": list(range(1, 201))}
    ax = plots.loss_curve(history)
    assert len(ax.lines) == 2  # raw (faint) and smoothed
    assert is_opaque_white(ax.figure.get_facecolor())
    fig, own = plt.subplots()
    returned = plots.loss_curve([3.0, 2.0, 1.0], ax=own, smooth=0)
    assert returned is own and len(own.lines) == 1 and len(fig.axes) == 1


def test_accuracy_curves():
    history = {"epoch": [1, 2, 3], "train_accuracy": [0.8, 0.9, 0.95], "eval_accuracy": [0.78, 0.88, 0.9]}
    ax = plots.accuracy_curves(history)
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])
    ax = plots.accuracy_curves({"train_accuracy": [0.5, 0.6], "eval_accuracy": []})
    assert len(ax.lines) == 1


def test_activation_histograms_one_axes_per_layer():
    rng = np.random.default_rng(0)
    acts = [rng.random((100, 20)) for _ in range(5)]
    fig = plots.activation_histograms(acts, titles=[f"{i}-layer" for i in range(1, 6)])
    assert len(fig.axes) == 5
    assert fig.axes[2].get_title() == "3-layer"
    assert is_opaque_white(fig.get_facecolor())
    # redraw into the same figure (what a widget does on every change)
    same = plots.activation_histograms(acts[:3], fig=fig, range=(-1, 1))
    assert same is fig and len(fig.axes) == 3


def test_decision_boundary():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)

    def predict(points):
        return np.column_stack([-(points[:, 0] + points[:, 1]), points[:, 0] + points[:, 1]])

    ax = plots.decision_boundary(predict, x, y, resolution=50)
    assert len(ax.figure.axes) == 1
    assert len(ax.collections) >= 3  # filled regions and one scatter per class
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plots.decision_boundary(predict, rng.standard_normal((5, 3)), np.zeros(5))


def test_plots_never_call_show(monkeypatch):
    def fail():
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    plots.loss_curve([1.0, 0.5])
    plots.image_grid(np.zeros((2, 4, 4)))
    plots.activation_histograms([np.zeros(10)])


def test_house_style_has_no_font_under_the_minimum():
    sizes = {key: value for key, value in plots.STYLE.items()
             if key.endswith(("size", "fontsize")) and not key.startswith(("figure.fig", "lines"))
             and isinstance(value, (int, float))}
    assert "legend.fontsize" in sizes and "xtick.labelsize" in sizes
    assert all(value >= plots.MIN_FONT_PT >= 11 for value in sizes.values()), sizes
