"""Layers: one class each, forward and backward side by side.

Every layer has ``params`` and ``grads`` (dicts of arrays with the same keys; empty for
layers without parameters), ``forward(x, train=True)`` and ``backward(dout) -> dx``.
backward() must follow the forward() of the same batch, and never modifies ``dout``.
Gradients are written into the arrays of ``grads`` in place, so a reference to
``layer.grads["W"]`` stays valid across steps.
"""
import numpy as np

from . import functions as F
from .initializers import get_initializer
from .utils import as_rng, check_array


class Layer:
    """Base class. Subclasses set ``self.params``/``self.grads`` and implement forward/backward."""

    def __init__(self):
        self.params = {}
        self.grads = {}

    def forward(self, x, train=True):
        raise NotImplementedError

    def backward(self, dout):
        raise NotImplementedError

    def __call__(self, x, train=True):
        return self.forward(x, train)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Affine(Layer):
    """y = x @ W + b.  x: (N, n_in), W: (n_in, n_out), b: (n_out,), y: (N, n_out)."""

    def __init__(self, n_in, n_out, init="he", rng=None, dtype=np.float64):
        super().__init__()
        if int(n_in) < 1 or int(n_out) < 1:
            raise ValueError(f"Affine expected positive sizes, got n_in={n_in}, n_out={n_out}")
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.init = get_initializer(init)
        self.dtype = np.dtype(dtype)
        self.params = {"W": np.asarray(self.init((self.n_in, self.n_out), as_rng(rng)), dtype=self.dtype),
                       "b": np.zeros(self.n_out, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, train=True):
        x = check_array(x, "Affine", shape=(None, self.n_in))
        self.x = x.astype(self.dtype, copy=False)
        return self.x @ self.params["W"] + self.params["b"]

    def backward(self, dout, input_grad=True):
        """dout: (N, n_out) -> dx: (N, n_in). ``input_grad=False`` skips dx (None is
        returned): the first layer of a network never needs the gradient of its images."""
        np.matmul(self.x.T, dout, out=self.grads["W"])   # dW = x^T dout: (n_in, n_out)
        np.sum(dout, axis=0, out=self.grads["b"])          # db: every row used the same b
        return dout @ self.params["W"].T if input_grad else None   # dx = dout W^T

    def __repr__(self):
        return f"Affine({self.n_in}, {self.n_out})"


class ReLU(Layer):
    """y = max(0, x). x: any shape."""

    def forward(self, x, train=True):
        self.mask = x <= 0
        return np.where(self.mask, 0, x)

    def backward(self, dout):
        return np.where(self.mask, 0, dout)   # the gradient passes only where x > 0


class LeakyReLU(Layer):
    """y = x for x > 0, alpha * x otherwise. x: any shape."""

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = alpha

    def forward(self, x, train=True):
        self.mask = x <= 0
        return np.where(self.mask, self.alpha * x, x)

    def backward(self, dout):
        return np.where(self.mask, self.alpha * dout, dout)

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)). x: any shape."""

    def forward(self, x, train=True):
        self.y = F.sigmoid(x)        # cache the output: the derivative needs only y
        return self.y

    def backward(self, dout):
        return dout * self.y * (1.0 - self.y)


class Tanh(Layer):
    """y = tanh(x). x: any shape."""

    def forward(self, x, train=True):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1.0 - self.y ** 2)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), and back in backward."""

    def forward(self, x, train=True):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``rate`` and scale the
    survivors by 1 / (1 - rate), so the expected output equals the input and testing needs
    no rescaling. x: any shape.

    Set ``fixed_mask`` to a boolean array (True = keep) to reuse one mask, e.g. for a
    gradient check.
    """

    def __init__(self, rate=0.5, rng=None):
        super().__init__()
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout expected a rate in [0, 1), got {rate}")
        self.rate = float(rate)
        self.rng = as_rng(rng)
        self.fixed_mask = None

    def forward(self, x, train=True):
        if not train or self.rate == 0.0:
            self.scale = None
            return x
        if self.fixed_mask is not None:
            self.mask = np.asarray(self.fixed_mask, dtype=bool)
            if self.mask.shape != x.shape:
                raise ValueError(f"Dropout fixed_mask has shape {self.mask.shape}, input has {x.shape}")
        else:
            self.mask = self.rng.random(x.shape) >= self.rate
        self.scale = self.mask / (1.0 - self.rate)
        return x * self.scale.astype(x.dtype, copy=False)

    def backward(self, dout):
        return dout if self.scale is None else dout * self.scale.astype(dout.dtype, copy=False)

    def __repr__(self):
        return f"Dropout(rate={self.rate})"


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015).

    Training: normalize each feature with the batch mean and variance, then scale by gamma
    and shift by beta; keep running averages for testing. x: (N, D), or (N, C, H, W) with
    one gamma/beta per channel C.
    """

    def __init__(self, n_features, momentum=0.9, eps=1e-5, dtype=np.float64):
        super().__init__()
        self.n_features, self.momentum, self.eps = int(n_features), momentum, eps
        self.params = {"gamma": np.ones(n_features, dtype=dtype), "beta": np.zeros(n_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.running_mean = np.zeros(n_features, dtype=dtype)
        self.running_var = np.ones(n_features, dtype=dtype)

    def _to_2d(self, x):
        if x.ndim == 4:   # (N, C, H, W) -> (N*H*W, C): each channel is one feature
            return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
        return x

    def forward(self, x, train=True):
        if x.ndim not in (2, 4) or x.shape[1] != self.n_features:
            raise ValueError(f"BatchNorm expected input of shape (N, {self.n_features}) or "
                             f"(N, {self.n_features}, H, W), got {x.shape}")
        self.input_shape = x.shape
        x2 = self._to_2d(x)
        if train:
            mean = x2.mean(axis=0)
            self.xc = x2 - mean
            var = np.mean(self.xc ** 2, axis=0)
            self.std = np.sqrt(var + self.eps)
            self.xn = self.xc / self.std
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mean
            self.running_var *= m
            self.running_var += (1 - m) * var
            xn = self.xn
        else:
            xn = (x2 - self.running_mean) / np.sqrt(self.running_var + self.eps)
        out = self.params["gamma"] * xn + self.params["beta"]
        if x.ndim == 4:
            n, c, h, w = x.shape
            out = out.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return out

    def backward(self, dout):
        d2 = self._to_2d(dout)
        np.sum(d2, axis=0, out=self.grads["beta"])
        np.sum(d2 * self.xn, axis=0, out=self.grads["gamma"])
        dxn = d2 * self.params["gamma"]
        # the mean and the variance depend on every sample: their paths collapse into this
        dx = (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std
        if len(self.input_shape) == 4:
            n, c, h, w = self.input_shape
            dx = dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return dx

    def __repr__(self):
        return f"BatchNorm({self.n_features})"


class SoftmaxCrossEntropy(Layer):
    """Softmax followed by the mean cross-entropy loss.

    forward(logits, t): logits (N, K), t index labels (N,) or one-hot (N, K) -> scalar loss.
    backward(dout=1.0) -> (softmax(logits) - onehot(t)) / N, the gradient for the logits.
    Computed through log-softmax, so logits of +-1000 give finite values.
    """

    def forward(self, logits, t=None, train=True):
        if t is None:
            raise ValueError("SoftmaxCrossEntropy.forward needs the labels t as well as the logits")
        logits, self.t = F._as_batch(logits, t)
        log_p = F.log_softmax(logits)
        self.probs = np.exp(log_p)
        return float(-np.mean(log_p[np.arange(len(self.t)), self.t]))

    def backward(self, dout=1.0):
        n = self.probs.shape[0]
        dx = self.probs.copy()
        dx[np.arange(n), self.t] -= 1.0
        dx *= dout / n
        return dx


_ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU}


def layer_from_name(name, **kwargs):
    """An activation layer by name: "relu", "sigmoid", "tanh" or "leaky_relu"."""
    try:
        return _ACTIVATIONS[name.lower()](**kwargs)
    except KeyError:
        raise ValueError(f"unknown activation {name!r}: expected one of {sorted(_ACTIVATIONS)}") from None
