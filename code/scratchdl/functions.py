"""Activation and loss functions, written once and used by every chapter.

All functions take NumPy arrays of any shape unless a shape is given, and never modify
their input.
"""
import numpy as np


def step(x):
    """Heaviside step: 1 where x > 0, else 0 (the perceptron's activation)."""
    return (np.asarray(x) > 0).astype(np.float64)


def sigmoid(x):
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    # exp of a negative number never overflows: use exp(-|x|) on both sides of zero
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_grad(x):
    """Derivative of the sigmoid: s(x) * (1 - s(x))."""
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent, (exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return np.tanh(x)


def tanh_grad(x):
    """Derivative of tanh: 1 - tanh(x)^2."""
    return 1.0 - np.tanh(x) ** 2


def relu(x):
    """max(0, x), elementwise."""
    return np.maximum(x, 0)


def relu_grad(x):
    """1 where x > 0, else 0 (the kink at 0 gets the derivative 0)."""
    return (np.asarray(x) > 0).astype(np.float64)


def leaky_relu(x, alpha=0.01):
    """x where x > 0, else alpha * x."""
    x = np.asarray(x)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_grad(x, alpha=0.01):
    """1 where x > 0, else alpha."""
    return np.where(np.asarray(x) > 0, 1.0, alpha)


def step_grad(x):
    """The step function is flat everywhere it is defined: its derivative is 0."""
    return np.zeros_like(np.asarray(x, dtype=np.float64))


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along ``axis``. x: (N, K) or (K,).

    The maximum is subtracted first: exp(1000) overflows, and softmax(x - c) == softmax(x).
    """
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """log(softmax(x)) without ever taking the log of 0. x: (N, K) or (K,)."""
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _as_batch(y, t):
    """Return y as (N, K) and t as index labels (N,), accepting one-hot or index t."""
    y = np.asarray(y)
    t = np.asarray(t)
    if y.ndim == 1:  # a single example: scores (K,), label () or one-hot (K,)
        y = y[None, :]
        t = t[None] if t.ndim in (0, 1) else t
    if y.ndim != 2:
        raise ValueError(f"expected scores of shape (N, K) or (K,), got {y.shape}")
    if t.shape == y.shape:
        t = np.argmax(t, axis=1)
    elif t.shape != (y.shape[0],):
        raise ValueError(
            f"expected labels of shape ({y.shape[0]},) (indices) or {y.shape} (one-hot), got {t.shape}")
    t = t.astype(np.intp)
    if t.size and (t.min() < 0 or t.max() >= y.shape[1]):
        raise ValueError(f"labels must lie in 0..{y.shape[1] - 1}, got {t.min()}..{t.max()}")
    return y, t


def mse(y, t):
    """Mean squared error 0.5 * sum((y - t)^2), averaged over the batch. y, t: (N, K) or (K,)."""
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if y.shape != t.shape:
        raise ValueError(f"mse expected y and t of the same shape, got {y.shape} and {t.shape}")
    n = y.shape[0] if y.ndim == 2 else 1
    return 0.5 * np.sum((y - t) ** 2) / n


def cross_entropy(y, t, eps=1e-12):
    """Cross-entropy -mean(log y[t]) of probabilities y: (N, K) or (K,).

    t holds index labels (N,) or one-hot rows (N, K). ``eps`` keeps log(0) finite.
    """
    y, t = _as_batch(y, t)
    return -np.mean(np.log(y[np.arange(y.shape[0]), t] + eps))


def cross_entropy_from_logits(logits, t):
    """Cross-entropy of softmax(logits), computed through log_softmax: stable for any logits."""
    logits, t = _as_batch(logits, t)
    return -np.mean(log_softmax(logits)[np.arange(logits.shape[0]), t])
