"""The perceptron (Rosenblatt, 1957): logic gates and the learning rule.

A perceptron with weights w: (D,) and bias b maps an input x: (D,) to

    y = 1 if w . x + b > 0 else 0.

Chapter 1 writes it inline first; this module holds the reusable version. Its network
diagrams are drawn by scratchdl.diagrams.draw_network.
"""
import numpy as np

from scratchdl.functions import step
from .utils import as_rng, check_array, check_positive_int

__all__ = ["INPUTS", "GATES", "truth_table", "Perceptron"]

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
        n_inputs = check_positive_int(n_inputs, "n_inputs", "Perceptron")
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
        epochs = check_positive_int(epochs, "epochs", "Perceptron")
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

