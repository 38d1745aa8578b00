"""The perceptron (Rosenblatt, 1957): logic gates, the learning rule, and network drawings.

A perceptron with weights w: (D,) and bias b maps an input x: (D,) to

    y = 1 if w . x + b > 0 else 0.

Chapter 1 writes it inline first; this module holds the reusable version.
"""
import numpy as np

from scratchdl.functions import step
from scratchdl.utils import as_rng, check_array

__all__ = ["INPUTS", "GATES", "truth_table", "Perceptron", "draw_network"]

# The four rows of a two-input truth table, in the usual order.
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)

# Target outputs for the rows of INPUTS.
GATES = {
    "AND": np.array([0, 0, 0, 1], dtype=np.float64),
    "OR": np.array([0, 1, 1, 1], dtype=np.float64),
    "NAND": np.array([1, 1, 1, 0], dtype=np.float64),
    "NOR": np.array([1, 0, 0, 0], dtype=np.float64),
    "XOR": np.array([0, 1, 1, 0], dtype=np.float64),
}


def truth_table(gate):
    """Inputs and targets of a two-input gate.

    gate: "AND", "OR", "NAND", "NOR" or "XOR" (any case).
    Returns (x, t): x (4, 2) the rows (0,0), (0,1), (1,0), (1,1); t (4,) the targets 0/1.
    """
    name = str(gate).upper()
    if name not in GATES:
        raise ValueError(f"truth_table expected one of {list(GATES)}, got {gate!r}")
    return INPUTS.copy(), GATES[name].copy()


class Perceptron:
    """One threshold unit: y = step(x @ w + b), trained with Rosenblatt's learning rule.

    n_inputs: D. weights: (D,) or None (zeros). bias: a float.
    learning_rate: eta in  w <- w + eta (t - y) x,  b <- b + eta (t - y).
    """

    def __init__(self, n_inputs=2, weights=None, bias=0.0, learning_rate=0.1):
        if int(n_inputs) != n_inputs or n_inputs < 1:
            raise ValueError(f"Perceptron expected n_inputs >= 1, got {n_inputs!r}")
        if not learning_rate > 0:
            raise ValueError(f"Perceptron expected learning_rate > 0, got {learning_rate!r}")
        self.n_inputs = int(n_inputs)
        self.learning_rate = float(learning_rate)
        if weights is None:
            self.weights = np.zeros(self.n_inputs)
        else:
            self.weights = check_array(weights, "Perceptron weights",
                                       shape=(self.n_inputs,)).astype(np.float64)
        self.bias = float(bias)

    def _check_x(self, x):
        x = check_array(x, "Perceptron", shape=(None, self.n_inputs))
        return x.astype(np.float64)

    def net_input(self, x):
        """The weighted sum before the threshold. x: (N, D) -> (N,)."""
        return self._check_x(x) @ self.weights + self.bias

    def predict(self, x):
        """Outputs 0.0 or 1.0. x: (N, D) -> (N,)."""
        return step(self.net_input(x))

    def fit(self, x, t, epochs=100, shuffle=False, rng=None, stop_when_converged=True):
        """Train with the perceptron learning rule, one sample at a time.

        x: (N, D) inputs, t: (N,) targets 0 or 1. An epoch visits every sample once, in
        order, or in a random order when shuffle=True (rng: seed or Generator).
        Returns errors: (E,) int array, the number of samples misclassified (= weight
        updates) during each epoch; E = epochs, or fewer when stop_when_converged and an
        epoch made no error. Also sets self.converged_epoch: the first epoch with zero
        errors (1-based), or None, and self.history: (E + 1, D + 1) the weights and bias
        before the first epoch and after each one.
        """
        x = self._check_x(x)
        t = check_array(t, "Perceptron targets", shape=(x.shape[0],)).astype(np.float64)
        if not np.all((t == 0) | (t == 1)):
            raise ValueError(f"Perceptron expected targets 0 or 1, got {np.unique(t)}")
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"Perceptron expected epochs >= 1, got {epochs!r}")
        rng = as_rng(rng) if shuffle else None
        errors = []
        history = [np.append(self.weights, self.bias)]
        self.converged_epoch = None
        for epoch in range(1, int(epochs) + 1):
            order = rng.permutation(len(x)) if shuffle else range(len(x))
            mistakes = 0
            for i in order:
                y = float(x[i] @ self.weights + self.bias > 0)
                if y != t[i]:
                    # move the line towards a missed 1, away from a wrong 1
                    self.weights = self.weights + self.learning_rate * (t[i] - y) * x[i]
                    self.bias = self.bias + self.learning_rate * (t[i] - y)
                    mistakes += 1
            errors.append(mistakes)
            history.append(np.append(self.weights, self.bias))
            if mistakes == 0:
                self.converged_epoch = epoch
                if stop_when_converged:
                    break
        self.history = np.array(history)
        return np.array(errors, dtype=int)


def draw_network(ax, node_labels, weights=None, biases=None, node_color="#E8F1F8",
                 edge_color="#0072B2", radius=0.2, spacing=1.6):
    """Draw a small layered network: circles for units, arrows for weighted connections.

    node_labels: list of layers, each a list of str (one per unit), left to right.
    weights: list with one array (n_layer, n_next) per pair of layers (numbers, or str
    such as "$w_1$"), printed on the arrows; None draws unlabelled arrows.
    biases: list with one (n_next,) array per non-input layer, printed under its units;
    None prints none (a str is printed as given, a number as "b = 1.5").
    radius: of the circles; spacing: between layers (units in a layer are 1 apart).
    Returns ax.
    """
    sizes = [len(layer) for layer in node_labels]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"draw_network expected at least two non-empty layers, got sizes {sizes}")
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
    height = max(sizes)
    # layer k at x = k * spacing, its units centred on y = 0, one unit apart
    positions = [[(k * spacing, (n - 1) / 2 - i) for i in range(n)] for k, n in enumerate(sizes)]
    for k in range(len(sizes) - 1):
        for i, (x0, y0) in enumerate(positions[k]):
            for j, (x1, y1) in enumerate(positions[k + 1]):
                ax.annotate("", xy=(x1 - radius, y1), xytext=(x0 + radius, y0),
                            arrowprops=dict(arrowstyle="-|>", color=edge_color, lw=1.5,
                                            shrinkA=0, shrinkB=0))
                if weights is not None:
                    # on the arrow, near its source: arrows into one unit meet at its end
                    lx = x0 + radius + 0.35 * (x1 - x0 - 2 * radius)
                    ly = y0 + 0.35 * (y1 - y0)
                    ax.text(lx, ly, _label(weights[k][i, j]), ha="center", va="center",
                            fontsize=11, color=edge_color, zorder=5,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none"))
    for k, layer in enumerate(positions):
        for i, (x, y) in enumerate(layer):
            ax.add_patch(_circle((x, y), radius, node_color))
            ax.text(x, y, node_labels[k][i], ha="center", va="center", fontsize=10.5, zorder=4)
            if biases is not None and k > 0:
                ax.text(x, y - radius - 0.05, _bias_label(biases[k - 1][i]), ha="center",
                        va="top", fontsize=10)
    ax.set_xlim(-0.5, (len(sizes) - 1) * spacing + 0.5)
    ax.set_ylim(-(height - 1) / 2 - 0.55, (height - 1) / 2 + 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _label(value):
    return str(value) if isinstance(value, str) else f"{value:g}"


def _bias_label(value):
    return str(value) if isinstance(value, str) else f"b = {value:g}"


def _circle(center, radius, color):
    from matplotlib.patches import Circle
    return Circle(center, radius, facecolor=color, edgecolor="black", linewidth=1.2, zorder=3)
