"""Diagnostics for chapter 6: look inside a deep network, and search for hyperparameters.

- ``probe_deep_net`` pushes a batch through a stack of Affine + activation layers (Saito's
  experiment with 5 layers of 100 units) and returns every layer's activations and the
  size of every layer's weight gradient, so initializers can be compared at a glance.
- ``split_validation`` holds out part of the training data: hyperparameters are chosen
  on it, never on the test set.
- ``random_search`` and ``narrow_ranges`` implement random search over log-uniform
  ranges (Bergstra & Bengio, 2012) and the step that shrinks the ranges around the best
  trials.
"""
import math

import numpy as np

from .layers import Affine, layer_from_name
from .utils import as_rng, check_array


def probe_deep_net(x, depth=5, width=100, activation="sigmoid", init="xavier", rng=0,
                   upstream=None):
    """Forward and backward through ``depth`` layers of ``width`` units, recording each layer.

    x: (N, D) input batch. Each layer is Affine(D_in, width, init) (biases 0) followed by the
    activation ("sigmoid", "tanh", "relu", "leaky_relu"). init: a name, a std or a callable
    (see scratchdl.initializers). rng: seed or Generator for the weights and, unless
    ``upstream`` (N, width) is given, for the random gradient sent back from the top.

    Returns a dict:
      "activations": list of depth arrays (N, width), the output of each activation;
      "weight_gradient_norms": (depth,) Frobenius norm of dL/dW for each layer, where
        L = sum(top activations * upstream);
      "weights": list of the depth weight matrices.
    """
    x = check_array(x, "probe_deep_net", ndim=2)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise ValueError(f"probe_deep_net expected a positive integer depth, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"probe_deep_net expected a positive integer width, got {width!r}")
    rng = as_rng(rng)
    layers, n_in = [], x.shape[1]
    for _ in range(depth):
        layers.append((Affine(n_in, width, init=init, rng=rng), layer_from_name(activation)))
        n_in = width
    activations, a = [], np.asarray(x, dtype=np.float64)
    # a saturating stack may overflow exp() on the way; the values it gives (0 or 1) are right
    with np.errstate(over="ignore"):
        for affine, act in layers:
            a = act.forward(affine.forward(a))
            activations.append(a)
    if upstream is None:
        upstream = rng.standard_normal(a.shape)
    upstream = check_array(upstream, "probe_deep_net upstream", shape=a.shape)
    grad_norms = np.zeros(depth)
    dout = np.asarray(upstream, dtype=np.float64)
    for i in range(depth - 1, -1, -1):
        affine, act = layers[i]
        dout = affine.backward(act.backward(dout))
        grad_norms[i] = np.linalg.norm(affine.grads["W"])
    return {"activations": activations, "weight_gradient_norms": grad_norms,
            "weights": [affine.params["W"] for affine, _ in layers]}


def split_validation(x, y, validation_fraction=0.2, rng=0):
    """Shuffle and split training data into a training part and a validation part.

    x: (N, ...), y: (N,) or (N, K). Returns (train_x, train_y), (val_x, val_y) with
    round(N * validation_fraction) validation samples.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
        raise ValueError(f"split_validation expected x and y with the same number of samples, "
                         f"got x {x.shape} and y {y.shape}")
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"split_validation expected a validation_fraction in (0, 1), "
                         f"got {validation_fraction}")
    n_val = int(round(x.shape[0] * validation_fraction))
    if n_val < 1 or n_val >= x.shape[0]:
        raise ValueError(f"split_validation: {x.shape[0]} samples with fraction "
                         f"{validation_fraction} leave an empty part")
    order = as_rng(rng).permutation(x.shape[0])
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def _check_ranges(ranges):
    if not isinstance(ranges, dict) or not ranges:
        raise ValueError(f"expected ranges as a dict name -> (low, high), got {ranges!r}")
    for name, bounds in ranges.items():
        ok = isinstance(bounds, (tuple, list)) and len(bounds) == 2 and 0 < bounds[0] <= bounds[1]
        if not ok:
            raise ValueError(f"range for {name!r} must be (low, high) with 0 < low <= high "
                             f"(sampled log-uniformly), got {bounds!r}")
    return {name: (float(lo), float(hi)) for name, (lo, hi) in ranges.items()}


def sample_log_uniform(ranges, n, rng=0):
    """Draw n values per name, uniformly in log10 between low and high.

    ranges: {"learning_rate": (1e-6, 1e-2), ...}. Returns {name: (n,) array}.
    """
    ranges = _check_ranges(ranges)
    rng = as_rng(rng)
    return {name: 10.0 ** rng.uniform(math.log10(lo), math.log10(hi), size=n)
            for name, (lo, hi) in ranges.items()}


def random_search(objective, ranges, n_trials, rng=0):
    """Random search (Bergstra & Bengio, 2012): try n_trials random settings, record the score.

    objective: called as objective(**params) for each trial, returns a float score (higher is
    better, e.g. validation accuracy; NaN for a failed run). ranges: {name: (low, high)},
    sampled log-uniformly. Returns a list of dicts {name: value, ..., "score": score} in trial
    order.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"random_search expected a positive integer n_trials, got {n_trials!r}")
    samples = sample_log_uniform(ranges, n_trials, rng)
    results = []
    for i in range(n_trials):
        params = {name: float(values[i]) for name, values in samples.items()}
        results.append({**params, "score": float(objective(**params))})
    return results


def best_trials(results, k=5):
    """The k trials with the highest score (NaN scores last), best first."""
    def key(r):
        s = r["score"]
        return -math.inf if math.isnan(s) else s
    return sorted(results, key=key, reverse=True)[:k]


def narrow_ranges(results, k=5, names=None):
    """New (low, high) ranges spanning the k best trials: the next, narrower round of search.

    names: the parameters to narrow (default: every key except "score").
    Returns {name: (min over the k best, max over the k best)}.
    """
    top = best_trials(results, k)
    if not top:
        raise ValueError("narrow_ranges expected at least one trial")
    names = names or [n for n in top[0] if n != "score"]
    return {name: (min(r[name] for r in top), max(r[name] for r in top)) for name in names}
