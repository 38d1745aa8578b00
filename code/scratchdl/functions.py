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


def as_labels(scores, t):
    """Check class labels ``t`` against ``scores`` of shape (..., K); return them as indices.

    t: integer class indices of shape scores.shape[:-1], each in 0..K-1, or exact one-hot
    rows of shape scores.shape (every row all 0 but a single 1). Anything else (fractional
    or soft labels, strings, a wrong shape) raises a ValueError naming what came: labels
    are never truncated or argmaxed silently. Returns an intp array of shape scores.shape[:-1].
    """
    scores, t = np.asarray(scores), np.asarray(t)
    if scores.ndim == 0:
        raise ValueError("expected scores of shape (..., K), got a scalar")
    k = scores.shape[-1]
    index_shape = scores.shape[:-1]
    if t.dtype.kind not in "biuf":
        raise ValueError(f"expected integer class labels or one-hot rows, got an array of dtype {t.dtype}")
    if t.shape == scores.shape and t.shape != index_shape:
        onehot = t.reshape(-1, k) if t.size else t.reshape(0, k)
        if not (np.all((onehot == 0) | (onehot == 1)) and np.all(onehot.sum(axis=1) == 1)):
            raise ValueError("one-hot labels must have exactly one 1 per row and 0 elsewhere "
                             "(soft or smoothed labels are not class labels)")
        return np.argmax(t, axis=-1).astype(np.intp)
    if t.shape != index_shape:
        index_text = "(" + ", ".join(map(str, index_shape)) + (",)" if len(index_shape) == 1 else ")")
        raise ValueError(f"expected labels of shape {index_text} (class indices) or "
                         f"{scores.shape} (one-hot), got {t.shape}")
    if t.dtype.kind == "b" or (t.dtype.kind == "f" and not np.all(t == np.round(t))):
        raise ValueError(f"expected integer class indices, got {t.dtype} values such as "
                         f"{t.ravel()[:3].tolist()}: labels are never rounded")
    labels = t.astype(np.intp)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must lie in 0..{k - 1}, got {labels.min()}..{labels.max()}")
    return labels


def mse(y, t):
    """Mean squared error 0.5 * sum((y - t)^2), averaged over the batch. y, t: (N, K) or (K,)."""
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if y.shape != t.shape:
        raise ValueError(f"mse expected y and t of the same shape, got {y.shape} and {t.shape}")
    n = y.shape[0] if y.ndim == 2 else 1
    return 0.5 * np.sum((y - t) ** 2) / n


def cross_entropy(y, t, eps=1e-12):
    """Cross-entropy -mean(log y[t]) of probabilities y: (..., K), e.g. (N, K) or (K,).

    t holds index labels (...,) or one-hot rows (..., K) (see ``as_labels``). ``eps`` keeps log(0) finite.
    """
    y = np.asarray(y)
    t = as_labels(y, t)
    picked = np.take_along_axis(y, t[..., None], axis=-1)
    return -np.mean(np.log(picked + eps))


def cross_entropy_from_logits(logits, t):
    """Cross-entropy of softmax(logits), computed through log_softmax: stable for any logits."""
    logits = np.asarray(logits)
    t = as_labels(logits, t)
    return -np.mean(np.take_along_axis(log_softmax(logits), t[..., None], axis=-1))
