"""Losses: the last step of a network, from scores and targets to one number.

The ``Loss`` contract (separate from ``Layer``, because a loss also needs the targets):

- ``forward(scores, t) -> float``: the loss averaged over every position of the batch.
  scores: (..., K), e.g. (N, K) for classification or (N, T, V) for a prediction at every
  time step; t: the targets for those positions.
- ``backward(dout=1.0) -> dscores``: d loss / d scores, the shape of scores, for the last
  forward(). Never modifies anything the caller passed in.

An empty batch (no positions) is refused: the mean of nothing is not a loss.
"""
import numpy as np

from . import functions as F


class Loss:
    """Base class: forward(scores, t) -> float, backward(dout=1.0) -> d loss / d scores."""

    def forward(self, scores, t):
        raise NotImplementedError

    def backward(self, dout=1.0):
        raise NotImplementedError

    def __call__(self, scores, t):
        return self.forward(scores, t)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _positions(self, scores):
        """scores as a float array (..., K) and the number of positions it holds."""
        scores = np.asarray(scores)
        if scores.dtype.kind not in "fiu":
            raise ValueError(f"{type(self).__name__} expected numeric scores, got dtype {scores.dtype}")
        if scores.ndim == 0:
            raise ValueError(f"{type(self).__name__} expected scores of shape (..., K), got a scalar")
        n = scores.size // scores.shape[-1] if scores.shape[-1] else 0
        if n == 0 or scores.size == 0:
            raise ValueError(f"{type(self).__name__} got an empty batch (scores of shape {scores.shape})")
        return scores, n

    def _cached(self, name):
        if not hasattr(self, name):
            raise RuntimeError(f"{type(self).__name__}.backward() called before forward()")
        return getattr(self, name)


class SoftmaxCrossEntropy(Loss):
    """Softmax followed by the mean cross-entropy.

    forward(logits, t): logits (..., K); t class indices (...,) or one-hot rows (..., K)
    -> the mean of -log softmax(logits)[t] over every position (every sample, or every
    sample and time step).
    backward(dout=1.0) -> (softmax(logits) - onehot(t)) * dout / positions, shape (..., K).
    Computed through log-softmax, so logits of +-1000 give finite values.
    """

    def forward(self, logits, t):
        logits, n = self._positions(logits)
        self.t = F.as_labels(logits, t)
        log_p = F.log_softmax(logits)
        self.probs = np.exp(log_p)        # kept for backward (and for readers who plot it)
        self.n = n
        return float(-np.mean(np.take_along_axis(log_p, self.t[..., None], axis=-1)[..., 0]))

    def backward(self, dout=1.0):
        probs = self._cached("probs")
        dx = probs.copy()
        rows = dx.reshape(-1, dx.shape[-1])          # a view: one row per position
        rows[np.arange(self.n), self.t.ravel()] -= 1.0
        dx *= dout / self.n
        return dx


class MeanSquaredError(Loss):
    """0.5 * sum over K of (y - t)^2, averaged over the positions. y, t: (..., K), same shape.

    backward(dout=1.0) -> (y - t) * dout / positions.
    """

    def forward(self, y, t):
        y, n = self._positions(y)
        t = np.asarray(t)
        if t.shape != y.shape:
            raise ValueError(f"MeanSquaredError expected targets of the scores' shape {y.shape}, got {t.shape}")
        self.diff = y - t
        self.n = n
        return float(0.5 * np.sum(self.diff ** 2) / n)

    def backward(self, dout=1.0):
        return self._cached("diff") * (dout / self.n)
