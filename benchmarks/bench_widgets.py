"""Benchmark scratchdl.widgets: live redraw time and the website player's size and build time.

Three figures like the book's: a perceptron's decision line over a scatter with the
positive half-plane shaded; a contour plot of a loss with a gradient descent path next to
the loss curve; five histograms of activations in a row. For each: the median time of a
live redraw (a control's value set as the reader would; the redraw runs in the observer)
over 20 changes, in wall-clock and CPU time (the second is steady when other processes
share the machine), and the static player's frame count, HTML size and build time.
Target: a live redraw of a typical figure (contour + line plot) in at most 150 ms.

Run: .venv/bin/python benchmarks/bench_widgets.py   (about 25 s of CPU; 30-45 s on an idle
2-core machine)
"""

import statistics
import time

import numpy as np

from scratchdl.widgets import Checkbox, Dropdown, LogSlider, Slider, interactive_figure

GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "XOR": [0, 1, 1, 0]}
CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def perceptron_figure():
    rng = np.random.default_rng(0)
    points = np.repeat(CORNERS, 25, axis=0) + rng.normal(0, 0.08, (100, 2))

    def draw(fig, w1, w2, b, gate):
        ax = fig.add_subplot(1, 1, 1)
        xx, yy = np.meshgrid(np.linspace(-0.5, 1.5, 200), np.linspace(-0.5, 1.5, 200))
        ax.contourf(xx, yy, (w1 * xx + w2 * yy + b > 0).astype(float), levels=[-0.5, 0.5, 1.5],
                    colors=["#ffffff", "#cfe3f5"])
        labels = np.repeat(GATES[gate], 25)
        for label, color, marker in [(0, "#d55e00", "o"), (1, "#0072b2", "s")]:
            chosen = points[labels == label]
            ax.scatter(chosen[:, 0], chosen[:, 1], c=color, marker=marker, label=f"y = {label}")
        x = np.linspace(-0.5, 1.5, 2)
        if abs(w2) > 1e-9:
            ax.plot(x, -(w1 * x + b) / w2, color="black")
        ax.set(xlim=(-0.5, 1.5), ylim=(-0.5, 1.5), xlabel="x₁", ylabel="x₂",
               title=f"{gate}: w₁={w1}, w₂={w2}, b={b}")
        ax.legend(loc="upper right")

    figure = interactive_figure(
        draw, figsize=(6, 4),
        w1=Slider(-1.0, 1.0, step=0.1, value=0.5, static=[-1, -0.5, 0.5, 1], label="w₁"),
        w2=Slider(-1.0, 1.0, step=0.1, value=0.5, static=[-1, -0.5, 0.5, 1], label="w₂"),
        b=Slider(-1.5, 1.5, step=0.1, value=-0.7, static=[-0.7]),
        gate=Dropdown(list(GATES), value="AND"),
        alt="Perceptron decision line w1={w1}, w2={w2}, b={b} over the {gate} gate's points")
    return figure, "w1", [round(v, 1) for v in np.linspace(-1, 1, 21)]


def gradient_descent_figure():
    xx, yy = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1, 3, 200))
    loss_surface = (1 - xx) ** 2 + 5 * (yy - xx ** 2) ** 2

    def draw(fig, learning_rate, momentum, start):
        ax_path, ax_loss = fig.subplots(1, 2)
        point, velocity = np.array([-1.5, 2.5 if start == "top" else -0.5]), np.zeros(2)
        path = [point]
        for _ in range(60):
            x, y = point
            grad = np.array([-2 * (1 - x) - 20 * x * (y - x ** 2), 10 * (y - x ** 2)])
            velocity = momentum * velocity - learning_rate * grad
            point = point + velocity
            if not np.all(np.isfinite(point)) or np.abs(point).max() > 1e3:
                break
            path.append(point)
        path = np.array(path)
        losses = (1 - path[:, 0]) ** 2 + 5 * (path[:, 1] - path[:, 0] ** 2) ** 2
        ax_path.contourf(xx, yy, np.log1p(loss_surface), levels=20, cmap="viridis")
        ax_path.contour(xx, yy, np.log1p(loss_surface), levels=10, colors="white",
                        linewidths=0.5)
        ax_path.plot(path[:, 0], path[:, 1], "o-", color="#e69f00", markersize=3)
        ax_path.set(xlim=(-2, 2), ylim=(-1, 3), xlabel="x", ylabel="y", title="Path")
        ax_loss.semilogy(losses, color="#0072b2")
        ax_loss.set(xlabel="step", ylabel="loss", title=f"Loss (lr={learning_rate:g})")
        fig.tight_layout()

    figure = interactive_figure(
        draw, figsize=(8, 4),
        learning_rate=LogSlider(1e-3, 1e-1, value=0.01,
                                static=[0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1]),
        momentum=Slider(0.0, 0.9, step=0.1, value=0.0, static=[0, 0.5, 0.8, 0.9]),
        start=Dropdown(["top", "bottom"]),
        alt="Gradient descent with learning rate {learning_rate}, momentum {momentum}, "
            "starting at the {start}: path on the loss contours and the loss per step")
    return figure, "learning_rate", list(np.round(np.logspace(-3, -1, 21), 5))


def histograms_figure(tight_layout=False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 100))
    weights = [rng.normal(size=(100, 100)) for _ in range(5)]
    activations = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
                   "ReLU": lambda z: np.maximum(z, 0)}

    def draw(fig, scale, activation, share_y):
        axes = fig.subplots(1, 5, sharey=share_y)
        h = x
        for i, (ax, w) in enumerate(zip(axes, weights)):
            h = activations[activation](h @ (w * scale))
            ax.hist(h.ravel(), bins=30, range=(-1, 1) if activation == "tanh" else (0, 1),
                    histtype="stepfilled", color="#0072b2")
            ax.set(title=f"layer {i + 1}", xlabel="activation")
        axes[0].set_ylabel("count")
        if tight_layout:
            fig.tight_layout()  # ~100-250 ms with 5 axes: it lays out every tick label
        else:
            fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.88, wspace=0.3)

    figure = interactive_figure(
        draw, figsize=(10, 3),
        scale=Dropdown([("std 1", 1.0), ("std 0.01", 0.01), ("Xavier", 0.1), ("He", 0.1414)],
                       value=1.0, label="weight init"),
        activation=Dropdown(list(activations), value="sigmoid"),
        share_y=Checkbox(False, label="same y axis"),
        title="Activations of 5 layers")
    return figure, "activation", ["sigmoid", "tanh", "ReLU"] * 7


def main():
    rows = []
    for name, build in [("perceptron (scatter + half-plane)", perceptron_figure),
                        ("gradient descent (contour + loss)", gradient_descent_figure),
                        ("5 histograms in a row", histograms_figure),
                        ("5 histograms, fig.tight_layout()",
                         lambda: histograms_figure(tight_layout=True))]:
        figure, control, sweep = build()
        widget = figure.widgets[control]
        times, cpu_times = [], []
        for value in sweep[:20]:
            if widget.value == value:
                continue
            start, cpu_start = time.perf_counter(), time.process_time()
            widget.value = value  # the observer redraws, as when the reader moves it
            times.append(time.perf_counter() - start)
            cpu_times.append(time.process_time() - cpu_start)
        assert not figure.errors, figure.errors
        redraw = (name, 1000 * statistics.median(times), 1000 * statistics.median(cpu_times),
                  1000 * max(times))
        if "tight_layout" in name:  # the same frames as the row above: live cost only
            rows.append(redraw + (None,) * 4)
            continue
        start = time.perf_counter()
        page = figure.static_html()
        static_seconds = time.perf_counter() - start
        n_frames = int(page.split('data-frame-count="')[1].split('"')[0])
        size = len(page.encode())
        rows.append(redraw + (n_frames, size / 1e6, size / 1e3 / n_frames, static_seconds))
    # wall-clock times suffer when other processes share the CPU; cpu ms is this process's
    header = ("figure", "redraw ms", "cpu ms", "max ms", "frames", "HTML MB", "KB/frame",
              "static s")
    print(f"{header[0]:<36}" + "".join(f"{h:>10}" for h in header[1:]))
    for name, *numbers in rows:
        formats = [".1f", ".1f", ".1f", "d", ".2f", ".1f", ".1f"]
        print(f"{name:<36}" + "".join("{:>10}".format("-" if x is None else format(x, f))
                                       for x, f in zip(numbers, formats)))


if __name__ == "__main__":
    main()
