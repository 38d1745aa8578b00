"""Draw the site's logo, favicon and the teaser figure of the landing page.

    .venv/bin/python tools/make_art.py      # writes assets/brand/ and assets/figures/

Everything is drawn with matplotlib and the book's own package, in the house palette, with
fixed seeds: running it again gives the same pictures. The outputs are committed (the site
serves them itself; nothing comes from a CDN), so run this only to change them.

- assets/brand/logo.svg: a small network, 2 inputs, 3 hidden units, 1 output, whose
  connections are coloured by the sign of their weight (blue positive, orange negative).
- assets/brand/favicon.png: the same network at 64 x 64 pixels, thicker.
- assets/figures/teaser.png: three things the book builds, side by side: the first-layer
  filters of the shipped SimpleConvNet (chapter 7), three optimizers crossing a long
  valley (chapter 5), and the decision boundary of a small MLP trained here on two moons.
"""

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.hashsalt"] = "scratchdl"  # the same SVG ids on every run

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from scratchdl import io as sdl_io
from scratchdl import landscapes, plots
from scratchdl.datasets import data_path
from scratchdl.models import MLP
from scratchdl.optimizers import Adam

ROOT = Path(__file__).resolve().parents[1]
BRAND = ROOT / "assets" / "brand"
FIGURES = ROOT / "assets" / "figures"
P = plots.PALETTE

# node positions of the logo's network: 2 inputs, 3 hidden units, 1 output
LAYERS = [[(0.18, 0.32), (0.18, 0.68)],
          [(0.5, 0.18), (0.5, 0.5), (0.5, 0.82)],
          [(0.82, 0.5)]]
# weight signs of the connections (+1 blue, -1 orange), fixed so the logo never changes
SIGNS = [[+1, -1, +1, -1, +1, +1], [+1, -1, +1]]
NODE_COLORS = [P["blue"], P["sky_blue"], P["green"]]


def draw_network(ax, line_width, node_size, edge_width):
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.axis("off")
    for (left, right), signs in zip(zip(LAYERS, LAYERS[1:]), SIGNS):
        pairs = [(a, b) for a in left for b in right]
        for (a, b), sign in zip(pairs, signs):
            ax.plot([a[0], b[0]], [a[1], b[1]], color=P["blue"] if sign > 0 else P["orange"],
                    lw=line_width, solid_capstyle="round", zorder=1)
    for layer, color in zip(LAYERS, NODE_COLORS):
        xs, ys = zip(*layer)
        ax.scatter(xs, ys, s=node_size, color=color, edgecolor="white", linewidth=edge_width,
                   zorder=2)


def make_logo():
    fig = plt.figure(figsize=(1.0, 1.0))
    fig.patch.set_alpha(0)  # the theme's header shows through, light or dark
    ax = fig.add_axes([0, 0, 1, 1])
    draw_network(ax, line_width=3.0, node_size=260, edge_width=1.5)
    path = BRAND / "logo.svg"
    fig.savefig(path, format="svg", transparent=True, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return path


def make_favicon():
    fig = plt.figure(figsize=(1.0, 1.0), dpi=64)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.add_patch(plt.Rectangle((0.02, 0.02), 0.96, 0.96, facecolor="white", edgecolor="none",
                               transform=ax.transAxes, zorder=0))
    draw_network(ax, line_width=3.2, node_size=150, edge_width=0.8)
    path = BRAND / "favicon.png"
    _save_png(fig, path, dpi=64, transparent=True)
    plt.close(fig)
    return path


def _save_png(fig, path, dpi, transparent=False, colors=None):
    """PNG without the matplotlib version and date (same bytes on every run), optionally
    reduced to a palette of `colors` colours (a third of the size for flat figures)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, transparent=transparent, metadata={"Software": None})
    image = Image.open(buffer)
    image.load()
    if colors:
        image = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.FASTOCTREE,
                                              dither=Image.Dither.NONE)
    image.save(path, format="PNG", optimize=True)


def two_moons(n, rng):
    """Two interleaving half circles with noise: x (n, 2), y (n,) in {0, 1}."""
    angle = rng.uniform(0, np.pi, n)
    y = rng.integers(0, 2, n)
    x = np.column_stack([np.cos(angle), np.sin(angle)])
    x[y == 1] = np.column_stack([1 - np.cos(angle[y == 1]), 0.5 - np.sin(angle[y == 1])])
    return x + rng.normal(0, 0.12, (n, 2)), y


def make_teaser():
    plots.use_style()
    fig = plt.figure(figsize=(8.5, 3.0))
    grid = fig.add_gridspec(1, 3, width_ratios=[1.1, 1.3, 1], wspace=0.22,
                            left=0.01, right=0.99, top=0.9, bottom=0.08)

    # 1. the 30 first-layer filters of the shipped SimpleConvNet, 5 x 6, each scaled to its
    # own largest weight (positive red, negative blue), one blank pixel between them
    weights = sdl_io.read_npz(data_path("simple_convnet.npz"))["0.W"][:, 0].astype(float)
    weights /= np.abs(weights).max(axis=(1, 2), keepdims=True)
    rows, cols, size = 5, 6, weights.shape[1]
    mosaic = np.full((rows * (size + 1) - 1, cols * (size + 1) - 1), np.nan)
    for k, w in enumerate(weights):
        r, c = divmod(k, cols)
        mosaic[r * (size + 1):r * (size + 1) + size, c * (size + 1):c * (size + 1) + size] = w
    ax = fig.add_subplot(grid[0])
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=-1, vmax=1)
    ax.axis("off")
    ax.set_title("filters a CNN learned (ch. 7)", fontsize=12)

    # 2. three optimizers across a long valley
    ax = fig.add_subplot(grid[1])
    surface = landscapes.elongated_bowl
    landscapes.draw_contours(ax, surface)
    runs = [("SGD", "sgd", {"learning_rate": 0.9}, P["vermillion"]),
            ("momentum", "momentum", {"learning_rate": 0.1, "momentum": 0.8}, P["blue"]),
            ("Adam", "adam", {"learning_rate": 0.3}, P["orange"])]
    for label, name, kwargs, color in runs:
        path = landscapes.descend(surface, name, start=(-8.0, 3.5), steps=40, **kwargs)
        landscapes.draw_path(ax, path, label=label, color=color)
    ax.set_aspect("auto")
    ax.set_ylim(-5, 6.5)
    ax.legend(loc="upper center", ncol=3, fontsize=11, frameon=True, facecolor="white",
              framealpha=1.0, edgecolor="none", handlelength=1.2, columnspacing=1.0)
    ax.set_title("three optimizers, one valley (ch. 5)", fontsize=12)
    ax.set(xlabel="", ylabel="")
    ax.tick_params(labelsize=10)

    # 3. a small MLP learns a curved boundary
    rng = np.random.default_rng(0)
    x, y = two_moons(300, rng)
    model = MLP([2, 24, 24, 2], activation="relu", init="he", rng=1)
    optimizer = Adam(learning_rate=0.02)
    for _ in range(600):
        model.loss(x, y)
        model.backward()
        optimizer.step(model.params, model.grads)
    ax = fig.add_subplot(grid[2])
    plots.decision_boundary(model.predict, x, y, ax=ax, resolution=150)
    ax.set_title("an MLP's decision boundary", fontsize=12)
    ax.set(xlabel="", ylabel="", xticks=[], yticks=[])

    path = FIGURES / "teaser.png"
    _save_png(fig, path, dpi=160, colors=128)
    plt.close(fig)
    return path


def main():
    BRAND.mkdir(parents=True, exist_ok=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    for path in (make_logo(), make_favicon(), make_teaser()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1000:.1f} KB")


if __name__ == "__main__":
    main()
