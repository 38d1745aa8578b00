"""One house style for every figure in the book, and the plots the chapters share.

Every function returns the Figure (or Axes) it drew and never calls ``plt.show()``:
Jupyter shows the returned figure, and a script can save it. Functions that accept an
``ax`` draw into it, so several plots can share one figure.
"""
import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

# Okabe & Ito (2008), "Color Universal Design": eight colours that stay distinct for
# the common forms of colour blindness, and in greyscale print.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

# The order lines are drawn in: the strongest contrasts first, yellow (hard to see on
# white) last.
COLOR_CYCLE = [PALETTE[name] for name in
               ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "black", "yellow")]

HIGHLIGHT = PALETTE["vermillion"]  # wrong predictions, warnings, "look here"

# The only colours outside the palette: greys for what should recede behind it.
GREYS = {
    "dark": "#555555",   # notes and shape captions: readable, quieter than black text
    "mid": "#999999",    # connections that carry no label, reference lines
    "light": "#bbbbbb",  # background marks, e.g. the bars nobody should look at first
}

MIN_FONT_PT = 11
# The page shows a figure at its natural size (100 dpi: 100 pixels per inch) up to about
# 750 pixels, and scales a wider one down, its text with it: a 10-inch figure shows 11 pt
# text at 8 pt. A static figure is at most this wide, so its text is shown at full size.
PAGE_WIDTH_IN = 7.5

STYLE = {
    # opaque white everywhere: a transparent figure turns black-on-black in dark mode
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "savefig.transparent": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (PAGE_WIDTH_IN, PAGE_WIDTH_IN / 2),
    "axes.prop_cycle": mpl.cycler(color=COLOR_CYCLE),
    # nothing under MIN_FONT_PT, in a figure no wider than the page (interactive figures
    # raise any smaller text a chapter sets to it)
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.title_fontsize": 11,
    "figure.titlesize": 14,
    "figure.labelsize": 12,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "grid.alpha": 1.0,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
    "legend.frameon": False,
}


def use_style():
    """Apply the book's figure style to matplotlib (call once, at the top of a chapter)."""
    mpl.rcParams.update(STYLE)


def _new_axes(ax, figsize=None):
    """Return (fig, ax): the given ax and its figure, or a new styled figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    with mpl.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=figsize)
    return fig, ax


def image_grid(images, labels=None, predictions=None, ncols=10, cmap="gray_r", size=None):
    """Show images in a grid, with their labels and predictions as titles.

    images: (N, H, W), or (N, H*W) for square images (MNIST's (N, 784)).
    labels, predictions: (N,) integers, optional. A title reads "7" for a label alone or a
    right prediction; where a prediction is wrong it reads "1" over "(true 7)", in the
    highlight colour. size: inches per image; by default the grid is as wide as the
    page (PAGE_WIDTH_IN / ncols). Returns the Figure.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"image_grid expected (N, H, W) or (N, H*W) with square images, "
                             f"got {images.shape}")
        images = images.reshape(-1, side, side)
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"image_grid expected images of shape (N, H, W) or (N, H*W), got {images.shape}")
    n = images.shape[0]
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and np.shape(values) != (n,):
            raise ValueError(f"image_grid expected {name} of shape ({n},), got {np.shape(values)}")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    size = PAGE_WIDTH_IN / ncols if size is None else size
    wrong = np.zeros(n, dtype=bool)
    if predictions is not None and labels is not None:
        wrong = np.asarray(predictions) != np.asarray(labels)
    # two lines where a mistake is named: one line of "1 (true 7)" is wider than an image
    titles = predictions if predictions is not None else labels   # where nothing is wrong
    title_lines = 2 if wrong.any() else int(titles is not None)
    row_height = size + title_lines * 1.3 * MIN_FONT_PT / 72 + 0.05
    with mpl.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, row_height * nrows),
                                 squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i], cmap=cmap)
        if wrong[i]:
            ax.set_title(f"{predictions[i]}\n(true {labels[i]})", color=HIGHLIGHT,
                         fontsize=MIN_FONT_PT, linespacing=1.1)
        elif titles is not None:
            ax.set_title(f"{titles[i]}", fontsize=MIN_FONT_PT)
    fig.tight_layout()
    return fig


def _smooth(values, window):
    """Moving average over ``window`` points (shorter at the start, so no points are lost)."""
    values = np.asarray(values, dtype=np.float64)
    if window <= 1 or values.size < 2:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, values.size + 1), window)
    ends = np.arange(1, values.size + 1)
    return (cumsum[ends] - cumsum[ends - counts]) / counts


def loss_curve(history, ax=None, smooth="auto", label=None, log_scale=False):
    """Plot the training loss per iteration.

    history: a Trainer history dict (uses "loss" and, if present, "iteration"), or a
    sequence of losses. smooth: moving-average window in iterations; "auto" picks about
    1/50 of the run, 0 or 1 turns it off. With smoothing, the raw curve is drawn faint
    behind the smoothed one. Returns the Axes.
    """
    if isinstance(history, dict):
        losses = np.asarray(history["loss"], dtype=np.float64)
        iterations = np.asarray(history.get("iteration", np.arange(1, losses.size + 1)))
    else:
        losses = np.asarray(history, dtype=np.float64)
        iterations = np.arange(1, losses.size + 1)
    if iterations.shape != losses.shape:
        iterations = np.arange(1, losses.size + 1)
    fig, ax = _new_axes(ax)
    window = max(1, losses.size // 50) if smooth == "auto" else int(smooth or 1)
    if window > 1:
        line, = ax.plot(iterations, losses, alpha=0.25, linewidth=1.0)
        ax.plot(iterations, _smooth(losses, window), color=line.get_color(),
                label=label if label is not None else f"loss ({window}-iteration average)")
    else:
        ax.plot(iterations, losses, label=label if label is not None else "loss")
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss")
    if label is not None or window > 1:
        ax.legend()
    return ax


def accuracy_curves(history, ax=None, train_key="train_accuracy", eval_key="eval_accuracy"):
    """Plot training and evaluation accuracy per epoch, from a Trainer history.

    A gap that opens between the two curves is overfitting. Returns the Axes.
    """
    fig, ax = _new_axes(ax)
    for key, label, marker in ((train_key, "train", "o"), (eval_key, "test", "s")):
        values = history.get(key)
        if values is None or len(values) == 0:
            continue
        epochs = history.get("epoch")
        if epochs is None or len(epochs) != len(values):
            epochs = list(range(1, len(values) + 1))
        ax.plot(epochs, values, marker=marker, label=label)
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))   # no "epoch 1.5" ticks
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(top=1.0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    return ax


def activation_histograms(activations, fig=None, bins=30, range=(0, 1), titles=None):  # noqa: A002
    """One histogram per layer of the activation values, side by side (Saito, fig. 6-10).

    activations: a list of arrays, one per layer (any shape; all values are counted).
    range: the histogram's x range, e.g. (0, 1) for sigmoid, (-1, 1) for tanh.
    titles: one per layer, default "layer 1", "layer 2", ... Returns the Figure.
    """
    activations = list(activations)
    if not activations:
        raise ValueError("activation_histograms expected a non-empty list of arrays")
    titles = titles or [f"layer {i + 1}" for i in np.arange(len(activations))]
    if len(titles) != len(activations):
        raise ValueError(f"activation_histograms got {len(activations)} activations "
                         f"but {len(titles)} titles")
    n = len(activations)
    with mpl.rc_context(STYLE):   # the axes take their font sizes from it when they are made
        if fig is None:
            fig = plt.figure(figsize=(PAGE_WIDTH_IN, 3))
        else:
            fig.clear()
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    for i, (ax, a, title) in enumerate(zip(axes, activations, titles)):
        ax.hist(np.ravel(a), bins=bins, range=range, color=COLOR_CYCLE[0])
        ax.set_title(title)
        ax.set_xlabel("activation")
        if i == 0:
            ax.set_ylabel("count")
    fig.tight_layout()
    return fig


def decision_boundary(predict_fn, x, y, ax=None, resolution=200, padding=0.5):
    """Colour the plane by predicted class and scatter the points on top.

    predict_fn: maps (M, 2) inputs to class scores (M, K) or labels (M,).
    x: (N, 2) points, y: (N,) integer labels (or one-hot (N, K)). resolution: grid points
    per axis. padding: margin around the data, in input units. Returns the Axes.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision_boundary expected 2-D inputs of shape (N, 2), got {x.shape}")
    y = np.asarray(y)
    if y.ndim == 2:
        y = np.argmax(y, axis=1)
    if y.shape != (x.shape[0],):
        raise ValueError(f"decision_boundary expected labels of shape ({x.shape[0]},), got {y.shape}")
    fig, ax = _new_axes(ax, figsize=(5, 5))
    (x0_min, x1_min), (x0_max, x1_max) = x.min(axis=0) - padding, x.max(axis=0) + padding
    g0, g1 = np.meshgrid(np.linspace(x0_min, x0_max, resolution),
                         np.linspace(x1_min, x1_max, resolution))
    scores = np.asarray(predict_fn(np.column_stack([g0.ravel(), g1.ravel()])))
    grid_labels = np.argmax(scores, axis=1) if scores.ndim == 2 and scores.shape[1] > 1 \
        else (np.ravel(scores) > 0.5 if scores.dtype.kind == "f" else np.ravel(scores))
    grid_labels = np.asarray(grid_labels, dtype=int).reshape(g0.shape)
    n_classes = int(max(grid_labels.max(), y.max())) + 1
    colors = [COLOR_CYCLE[k % len(COLOR_CYCLE)] for k in np.arange(n_classes)]
    cmap = mpl.colors.ListedColormap(colors)
    ax.contourf(g0, g1, grid_labels, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    for k in np.arange(n_classes):
        ax.scatter(*x[y == k].T, s=18, color=colors[k], edgecolor="white", linewidth=0.5,
                   label=f"class {k}")
    ax.set_xlim(x0_min, x0_max)
    ax.set_ylim(x1_min, x1_max)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(False)
    return ax
