"""Two-dimensional loss surfaces and the paths optimizers take across them.

A surface is small enough to draw as a contour map, so every optimizer's behaviour can be
seen step by step. The optimizers are the real ones from ``scratchdl.optimizers``.
"""
from dataclasses import dataclass

import numpy as np

from .optimizers import get_optimizer


@dataclass(frozen=True)
class Surface:
    """f(x, y) with its gradient. ``f`` works elementwise on arrays; ``grad(x, y)`` -> (dx, dy)."""

    f: object
    grad: object
    name: str
    xlim: tuple = (-10.0, 10.0)
    ylim: tuple = (-5.0, 5.0)
    minimum: tuple = (0.0, 0.0)

    def __call__(self, x, y):
        return self.f(x, y)


bowl = Surface(lambda x, y: x ** 2 + y ** 2, lambda x, y: (2 * x, 2 * y),
               "f(x, y) = x² + y²", xlim=(-3.0, 3.0), ylim=(-3.0, 3.0))

elongated_bowl = Surface(lambda x, y: x ** 2 / 20 + y ** 2, lambda x, y: (x / 10, 2 * y),
                         "f(x, y) = x²/20 + y²", xlim=(-10.0, 10.0), ylim=(-5.0, 5.0))


@dataclass
class Path:
    """Where an optimizer went. points: (steps + 1, 2); values: (steps + 1,) of f at each point.

    ``diverged`` is True when the run left every sensible range (|x| or |y| > 1e6, or NaN;
    the path then stops at the last finite point) or ended higher than it started.
    """

    points: np.ndarray
    values: np.ndarray
    diverged: bool


def descend(surface, optimizer="sgd", start=(-7.0, 2.0), steps=30, **optimizer_kwargs):
    """Run ``optimizer`` (a name or an Optimizer object) from ``start`` for ``steps`` steps."""
    if int(steps) < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    optimizer = get_optimizer(optimizer, **optimizer_kwargs)
    p = np.array(start, dtype=np.float64)
    if p.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {p.shape}")
    points = [p.copy()]
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(steps)):
            g = np.array(surface.grad(p[0], p[1]), dtype=np.float64)
            optimizer.step({"p": p}, {"p": g})
            if not np.all(np.isfinite(p)) or np.max(np.abs(p)) > 1e6:
                diverged = True
                break
            points.append(p.copy())
    points = np.array(points)
    values = surface(points[:, 0], points[:, 1])
    diverged = diverged or bool(values[-1] > values[0])
    return Path(points, values, diverged)


def draw_contours(ax, surface, levels=None, resolution=200):
    """Contour lines of ``surface`` on ``ax`` over its xlim/ylim, with the minimum marked."""
    xs = np.linspace(*surface.xlim, resolution)
    ys = np.linspace(*surface.ylim, resolution)
    gx, gy = np.meshgrid(xs, ys)
    z = surface(gx, gy)
    if levels is None:   # evenly spaced in sqrt(f): rings look evenly spaced on a bowl
        levels = np.linspace(np.sqrt(z.min()), np.sqrt(z.max()), 14)[1:] ** 2
    ax.contour(gx, gy, z, levels=levels, colors="0.7", linewidths=0.8)
    ax.plot(*surface.minimum, marker="+", color="0.3", markersize=10, mew=1.5)
    ax.set(xlim=surface.xlim, ylim=surface.ylim, xlabel="x", ylabel="y")
    ax.set_aspect("equal" if _aspect_ok(surface) else "auto")
    return ax


def _aspect_ok(surface):
    width = surface.xlim[1] - surface.xlim[0]
    height = surface.ylim[1] - surface.ylim[0]
    return 0.2 <= height / width <= 5


def draw_path(ax, path, label=None, color=None):
    """The optimizer's path as connected dots on ``ax``; a diverged run is labelled so."""
    (line,) = ax.plot(path.points[:, 0], path.points[:, 1], "o-", ms=3, lw=1.2,
                      color=color, label=label)
    if path.diverged:
        ax.text(0.5, 0.5, "diverged", transform=ax.transAxes, ha="center", va="center",
                fontsize=16, color=line.get_color(), bbox=dict(facecolor="white", alpha=0.85, edgecolor="none"))
    return line
