"""Numerical derivatives: the slow, obviously correct reference every backward pass is checked against."""
import numpy as np

from .utils import as_rng


def numerical_derivative(f, x, h=1e-4):
    """Central difference (f(x + h) - f(x - h)) / 2h of a scalar function of a scalar."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x, h=1e-5):
    """Gradient of the scalar function ``f()`` with respect to the array ``x``, by central differences.

    ``f`` takes no arguments and reads ``x`` (which is perturbed in place, one entry at a
    time, and restored), so it works for parameters stored inside a layer. x: any shape,
    a float array. Returns an array of x's shape.
    """
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        raise ValueError(f"numerical_gradient needs a float ndarray to perturb, got {type(x).__name__}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old  # restore: the caller's array must come back unchanged
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a, b):
    """Relative error ||a - b|| / (||a|| + ||b||) of two arrays (0 = equal, 1 = unrelated).

    Norms rather than elementwise ratios: an entry whose true gradient is ~0 would
    otherwise turn harmless rounding noise into a huge "error".
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error expected arrays of the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denominator)


def gradient_check(layer, x, rng=0, h=1e-6, train=True):
    """Compare a layer's backward pass with numerical gradients.

    The check uses the scalar loss L = sum(forward(x) * dout) for a random upstream gradient
    dout, so backward(dout) must equal dL/dx, and layer.grads[k] must equal dL/dparams[k].
    x: the layer's input (float64). Returns {"x": error, name: error for each parameter}.
    Layers with randomness (Dropout) must be made deterministic first (a fixed mask).
    A correct float64 backward pass gives errors around 1e-10; above 1e-7 is a bug, unless
    the true gradient is almost zero (then the relative error measures rounding noise):
    an upstream ``dout`` the layer ignores, e.g. drawn from the same seed as a BatchNorm
    input, makes it so. Use another ``rng`` and look at the gradient's size.
    """
    rng = as_rng(rng)
    x = np.array(x, dtype=np.float64)
    out = layer.forward(x.copy(), train=train)
    dout = rng.standard_normal(np.shape(out))

    def loss():
        return float(np.sum(layer.forward(x, train=train) * dout))

    layer.forward(x, train=train)
    dx = layer.backward(dout.copy())
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    errors = {"x": rel_error(analytic["x"], numerical_gradient(loss, x, h))}
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return errors
