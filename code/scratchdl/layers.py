"""Layers: one class each, forward and backward side by side.

The ``Layer`` contract, which every layer of the package keeps (and a test checks for
each one, code/tests/test_layer_contract.py):

- ``params`` and ``grads``: dicts of arrays with the same keys and shapes (empty for layers
  without parameters). backward() writes the gradients into the arrays of ``grads`` in
  place, so a reference to ``layer.grads["W"]`` stays valid across steps; optimizers update
  the arrays of ``params`` in place.
- ``buffers``: arrays that are not trained by gradients but belong to the layer's state and
  must be saved with it (BatchNorm's running mean and variance); usually empty.
- ``decay``: the names of the parameters that weight decay applies to (weights such as
  ``"W"``; never biases, BatchNorm's gamma and beta, or embedding rows). A model's L2
  penalty is built from these declarations, not from key names.
- ``forward(x, train=True)``: the output for a batch; ``train`` switches between training
  and inference behaviour (Dropout, BatchNorm). It caches what backward needs.
- ``backward(dout, input_grad=True)``: dout is d loss / d output, of exactly the shape
  forward() returned (anything else is a ValueError naming the layer). Returns d loss / d x,
  and fills ``grads``. With ``input_grad=False`` a layer may skip dx and return None (the
  first layer of a network: nobody needs the gradient of the data). backward() belongs to
  the forward() of the same batch, and never modifies ``dout`` or the cached input.
- ``reset_state()``: forget state carried from one batch to the next (recurrent layers);
  a no-op for the others.
"""
import numpy as np

from . import functions as F
from . import parallel
from .initializers import get_initializer
from .utils import as_rng, check_array, check_positive_int


class Layer:
    """Base class: see the module docstring for the contract. Subclasses fill ``params``,
    ``grads``, ``buffers`` and ``decay`` and implement forward/backward."""

    decay = ()

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}

    def forward(self, x, train=True):
        raise NotImplementedError

    def backward(self, dout, input_grad=True):
        raise NotImplementedError

    def reset_state(self):
        """Forget state carried between batches. Only recurrent layers have any."""

    def __call__(self, x, train=True):
        return self.forward(x, train)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _cached(self, name):
        """The value forward() cached under ``name``; a clear error if forward() never ran."""
        try:
            return self.__dict__[name]
        except KeyError:
            raise RuntimeError(f"{self!r}.backward() called before forward()") from None

    def _check_dout(self, dout, shape):
        """dout as an array, if it has the shape of forward()'s output: broadcasting a wrong
        dout would give a wrong gradient without any error."""
        dout = np.asarray(dout)
        if dout.shape != tuple(shape):
            raise ValueError(f"{self!r}.backward expected dout of shape {tuple(shape)} (the shape of "
                             f"its forward output), got {dout.shape}")
        return dout


class Affine(Layer):
    """y = x @ W + b.  x: (N, n_in), W: (n_in, n_out), b: (n_out,), y: (N, n_out).

    Inputs with more axes, x: (N, ..., n_in) -> y: (N, ..., n_out), apply the same W and b
    at every position (every time step of a sequence, chapter 10): the leading axes are
    read as one long batch.
    """

    decay = ("W",)

    def __init__(self, n_in, n_out, init="he", rng=None, dtype=np.float64):
        super().__init__()
        self.n_in = check_positive_int(n_in, "n_in", "Affine")
        self.n_out = check_positive_int(n_out, "n_out", "Affine")
        self.init = get_initializer(init)
        self.dtype = np.dtype(dtype)
        self.params = {"W": np.asarray(self.init((self.n_in, self.n_out), as_rng(rng)), dtype=self.dtype),
                       "b": np.zeros(self.n_out, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, train=True):
        x = check_array(x, repr(self))
        if x.ndim < 2 or x.shape[-1] != self.n_in:
            hint = ""
            if x.ndim > 2 and int(np.prod(x.shape[1:])) == self.n_in:
                hint = ": flatten each sample first, x.reshape(len(x), -1)"
            raise ValueError(f"{self!r} expected input of shape (N, {self.n_in}) or (N, ..., {self.n_in}), "
                             f"got {x.shape}{hint}")
        self.x = x.astype(self.dtype, copy=False)
        W, b = self.params["W"], self.params["b"]
        if not parallel.active(self.x.size):
            return self.x @ W + b
        x2 = self.x.reshape(-1, self.n_in)
        out = np.empty((len(x2), self.n_out), dtype=np.result_type(x2, W))

        def rows(r0, r1):       # a share of the rows (see scratchdl.parallel)
            np.matmul(x2[r0:r1], W, out=out[r0:r1])
            out[r0:r1] += b
        parallel.run(rows, len(x2), self.x.size)
        return out.reshape(self.x.shape[:-1] + (self.n_out,))

    def backward(self, dout, input_grad=True):
        """dout: (N, ..., n_out) -> dx: (N, ..., n_in), or None with ``input_grad=False``."""
        x = self._cached("x")
        dout = self._check_dout(dout, x.shape[:-1] + (self.n_out,))
        x2, d2 = x.reshape(-1, self.n_in), dout.reshape(-1, self.n_out)   # views for 2-D input
        dW = self.grads["W"]                          # dW = x^T dout: (n_in, n_out)
        parallel.run(lambda i0, i1: np.matmul(x2[:, i0:i1].T, d2, out=dW[i0:i1]), self.n_in, x2.size)
        np.sum(d2, axis=0, out=self.grads["b"])       # db: every row used the same b
        if not input_grad:
            return None
        W_t = self.params["W"].T                      # dx = dout W^T
        if not parallel.active(x2.size):
            return dout @ W_t
        dx = np.empty((len(d2), self.n_in), dtype=np.result_type(d2, W_t))
        parallel.run(lambda r0, r1: np.matmul(d2[r0:r1], W_t, out=dx[r0:r1]), len(d2), x2.size)
        return dx.reshape(x.shape)

    def __repr__(self):
        return f"Affine({self.n_in}, {self.n_out})"


class ReLU(Layer):
    """y = max(0, x). x: any shape."""

    def forward(self, x, train=True):
        if not (isinstance(x, np.ndarray) and x.ndim and x.dtype.kind == "f" and parallel.active(x.size)):
            self.mask = x > 0
            return np.maximum(x, 0)   # arithmetic, not np.where: several times faster on big arrays
        self.mask, out = np.empty_like(x, dtype=bool), np.empty_like(x)   # x's memory order

        def share(a, b):          # see scratchdl.parallel
            np.greater(x[a:b], 0, out=self.mask[a:b])
            np.maximum(x[a:b], 0, out=out[a:b])
        parallel.run(share, len(x), x.size)
        return out

    def backward(self, dout, input_grad=True):
        mask = self._cached("mask")
        dout = self._check_dout(dout, mask.shape)
        if not (dout.ndim and dout.dtype.kind == "f" and parallel.active(dout.size)):
            return dout * mask        # passes only where x > 0
        dx = np.empty_like(mask, dtype=dout.dtype)
        parallel.run(lambda a, b: np.multiply(dout[a:b], mask[a:b], out=dx[a:b]), len(dx), dx.size)
        return dx


class LeakyReLU(Layer):
    """y = x for x > 0, alpha * x otherwise. x: any shape."""

    def __init__(self, alpha=0.01):
        super().__init__()
        self.alpha = alpha

    def forward(self, x, train=True):
        self.mask = x <= 0
        return np.where(self.mask, self.alpha * x, x)

    def backward(self, dout, input_grad=True):
        mask = self._cached("mask")
        dout = self._check_dout(dout, mask.shape)
        return np.where(mask, self.alpha * dout, dout)

    def __repr__(self):
        return f"LeakyReLU(alpha={self.alpha})"


class Sigmoid(Layer):
    """y = 1 / (1 + exp(-x)). x: any shape."""

    def forward(self, x, train=True):
        self.y = F.sigmoid(x)        # cache the output: the derivative needs only y
        return self.y

    def backward(self, dout, input_grad=True):
        y = self._cached("y")
        return self._check_dout(dout, y.shape) * y * (1.0 - y)


class Tanh(Layer):
    """y = tanh(x). x: any shape."""

    def forward(self, x, train=True):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout, input_grad=True):
        y = self._cached("y")
        return self._check_dout(dout, y.shape) * (1.0 - y ** 2)


class Embedding(Layer):
    """A table of vectors, one row per id: forward picks rows, backward adds into them.

    ids: integer array of any shape S, each in [0, num_embeddings) -> out: S + (dim,).
    W: (num_embeddings, dim). Picking row i is the product of a one-hot vector with W, done
    without the product: forward is ``W[ids]`` and backward adds each output gradient onto
    the row it came from (``np.add.at``: an id used twice gets both gradients). Only the
    rows used by the batch are ever non-zero in ``grads["W"]``, and only those are written:
    the rows of the previous batch are cleared, the new ones filled (Trask's trick, chapter
    9); ``rows`` holds them, sorted. ``padding_idx``: an id whose row starts at zero and never
    gets a gradient, for padding sequences of different lengths. The table is not weight
    decayed (decay would touch every row at every step). ids carry no gradient: backward
    returns None.
    """

    def __init__(self, num_embeddings, dim, init=0.1, padding_idx=None, rng=None, dtype=np.float64):
        super().__init__()
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.dim = check_positive_int(dim, "dim", "Embedding")
        if padding_idx is not None and not (isinstance(padding_idx, (int, np.integer))
                                            and 0 <= padding_idx < self.num_embeddings):
            raise ValueError(f"Embedding expected padding_idx None or an int in [0, {self.num_embeddings}), "
                             f"got {padding_idx!r}")
        self.padding_idx = padding_idx
        self.dtype = np.dtype(dtype)
        W = np.asarray(get_initializer(init)((self.num_embeddings, self.dim), as_rng(rng)), dtype=self.dtype)
        if padding_idx is not None:
            W[padding_idx] = 0
        self.params = {"W": W}
        self.grads = {"W": np.zeros_like(W)}
        self.rows = np.zeros(0, dtype=np.intp)

    def forward(self, x, train=True):
        ids = np.asarray(x)
        if ids.dtype.kind not in "iu":
            raise ValueError(f"{self!r} expected integer ids, got an array of dtype {ids.dtype}"
                             + (" (convert token ids with .astype(int))" if ids.dtype.kind == "f" else ""))
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise ValueError(f"{self!r} expected ids in [0, {self.num_embeddings}), got values from "
                             f"{ids.min()} to {ids.max()}")
        self.ids = ids
        return self.params["W"][ids]

    def backward(self, dout, input_grad=True):
        """dout: ids.shape + (dim,) -> None (fills grads["W"] in the rows used)."""
        ids = self._cached("ids")
        dout = self._check_dout(dout, ids.shape + (self.dim,))
        grad = self.grads["W"]
        grad[self.rows] = 0                                  # the previous batch's rows only
        rows, inverse = np.unique(ids, return_inverse=True)
        sums = np.zeros((rows.size, self.dim), dtype=grad.dtype)
        np.add.at(sums, inverse.ravel(), dout.reshape(-1, self.dim))
        grad[rows] = sums
        if self.padding_idx is not None:
            grad[self.padding_idx] = 0
        self.rows = rows
        return None

    def __repr__(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"Embedding({self.num_embeddings}, {self.dim}{pad})"


class SumOverTime(Layer):
    """The sum over the second axis: x: (N, T, D) -> (N, D). After an Embedding with a
    padding row, the sum of a text's word vectors (chapter 9); mean=True divides by T."""

    def __init__(self, mean=False):
        super().__init__()
        self.mean = bool(mean)

    def forward(self, x, train=True):
        x = check_array(x, repr(self), ndim=3)
        self.shape = x.shape
        return x.mean(axis=1) if self.mean else x.sum(axis=1)

    def backward(self, dout, input_grad=True):
        """dout: (N, D) -> dx: (N, T, D), dout copied to every step (divided by T if mean)."""
        n, t, d = self._cached("shape")
        dout = self._check_dout(dout, (n, d))
        dx = np.repeat(dout[:, None, :], t, axis=1)
        return dx / t if self.mean else dx

    def __repr__(self):
        return "SumOverTime(mean=True)" if self.mean else "SumOverTime()"


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...), and back in backward."""

    def forward(self, x, train=True):
        x = np.asarray(x)
        if x.ndim < 1:
            raise ValueError("Flatten expected input of shape (N, ...), got a scalar")
        self.shape = x.shape
        if x.flags.c_contiguous or not parallel.active(x.size):
            return x.reshape(x.shape[0], -1)       # a view, or one copy
        out = np.empty((x.shape[0], x.size // x.shape[0]), dtype=x.dtype)

        def copy(a, b):           # a share of the samples (see scratchdl.parallel)
            out[a:b].reshape(x[a:b].shape)[...] = x[a:b]
        parallel.run(copy, len(x), x.size)
        return out

    def backward(self, dout, input_grad=True):
        shape = self._cached("shape")
        dout = self._check_dout(dout, (shape[0], int(np.prod(shape[1:]))))
        return dout.reshape(shape)


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
        self.shape = np.shape(x)
        if not train or self.rate == 0.0:
            self.scale = None
            return x
        if self.fixed_mask is not None:
            self.mask = np.asarray(self.fixed_mask, dtype=bool)
            if self.mask.shape != x.shape:
                raise ValueError(f"Dropout fixed_mask has shape {self.mask.shape}, input has {x.shape}")
        else:
            self.mask = self.rng.random(x.shape) >= self.rate
        # the scale in the input's dtype: float32 input gets a float32 scale, with the same
        # values as float64 division would give after rounding (1 / (1 - rate) or 0)
        x = np.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        self.scale = self.mask.astype(dtype)
        self.scale *= dtype.type(1.0 / (1.0 - self.rate))
        return x * self.scale

    def backward(self, dout, input_grad=True):
        dout = self._check_dout(dout, self._cached("shape"))
        return dout if self.scale is None else dout * self.scale.astype(dout.dtype, copy=False)

    def __repr__(self):
        return f"Dropout(rate={self.rate})"


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy, 2015).

    Training: normalize each feature with the batch mean and variance, then scale by gamma
    and shift by beta; keep running averages for testing. x: (N, D), or (N, C, H, W) with
    one gamma/beta per channel C. Inference (train=False) uses the running averages, and
    backward then differentiates that fixed affine map: dx = dout * gamma / sqrt(var + eps).

    Conventions that differ from PyTorch's BatchNorm1d/2d, for readers who compare:
    running = momentum * running + (1 - momentum) * batch, so the default momentum 0.9 here
    is PyTorch's momentum=0.1; the running variance averages the biased batch variance
    (divided by N, the one used to normalize), where PyTorch stores the unbiased one
    (divided by N - 1).
    """

    def __init__(self, n_features, momentum=0.9, eps=1e-5, dtype=np.float64):
        super().__init__()
        self.n_features = check_positive_int(n_features, "n_features", "BatchNorm")
        self.momentum, self.eps = momentum, eps
        self.params = {"gamma": np.ones(n_features, dtype=dtype), "beta": np.zeros(n_features, dtype=dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.buffers = {"running_mean": np.zeros(n_features, dtype=dtype),
                        "running_var": np.ones(n_features, dtype=dtype)}

    @property
    def running_mean(self):
        return self.buffers["running_mean"]

    @property
    def running_var(self):
        return self.buffers["running_var"]

    def _to_2d(self, x):
        if x.ndim == 4:   # (N, C, H, W) -> (N*H*W, C): each channel is one feature
            return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
        return x

    def forward(self, x, train=True):
        x = check_array(x, "BatchNorm")
        if x.ndim not in (2, 4) or x.shape[1] != self.n_features:
            raise ValueError(f"BatchNorm expected input of shape (N, {self.n_features}) or "
                             f"(N, {self.n_features}, H, W), got {x.shape}")
        self.input_shape = x.shape
        x2 = self._to_2d(x)
        if train:
            if x2.shape[0] < 2:
                raise ValueError(f"BatchNorm in training needs at least two values per feature to "
                                 f"estimate a variance, got input of shape {x.shape} (one sample: "
                                 f"use a larger batch, or train=False)")
            mean = x2.mean(axis=0)
            self.xc = x2 - mean
            var = np.mean(self.xc ** 2, axis=0)
            self.std = np.sqrt(var + self.eps)
            self.xn = self.xc / self.std
            m, running = self.momentum, self.buffers   # updated in place: saved models see it
            running["running_mean"] *= m
            running["running_mean"] += (1 - m) * mean
            running["running_var"] *= m
            running["running_var"] += (1 - m) * var
        else:
            self.std = np.sqrt(self.running_var + self.eps)
            self.xn = (x2 - self.running_mean) / self.std
        self.trained_batch = train
        out = self.params["gamma"] * self.xn + self.params["beta"]
        if x.ndim == 4:
            n, c, h, w = x.shape
            out = out.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return out

    def backward(self, dout, input_grad=True):
        d2 = self._to_2d(self._check_dout(dout, self._cached("input_shape")))
        np.sum(d2, axis=0, out=self.grads["beta"])
        np.sum(d2 * self.xn, axis=0, out=self.grads["gamma"])
        dxn = d2 * self.params["gamma"]
        if self.trained_batch:
            # the mean and the variance depend on every sample: their paths collapse into this
            dx = (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std
        else:
            dx = dxn / self.std   # the running statistics are constants
        if len(self.input_shape) == 4:
            n, c, h, w = self.input_shape
            dx = dx.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        return dx

    def __repr__(self):
        return f"BatchNorm({self.n_features})"


class Residual(Layer):
    """y = x + f(x), where f is a stack of layers (He et al., 2016).

    layers: the layers of f, applied in order; f(x) must have x's shape. Their parameters,
    gradients and buffers appear here under "{index in f}.{name}" (so a model sees
    "3.0.W" for the first weight inside its fourth layer), and their decay declarations carry
    over. backward: the gradient reaches x twice, straight through the sum and through f.
    """

    def __init__(self, layers):
        super().__init__()
        self.layers = list(layers)
        if not self.layers or not all(isinstance(layer, Layer) for layer in self.layers):
            raise ValueError(f"Residual expected a non-empty list of layers, got {layers!r}")
        for kind in ("params", "grads", "buffers"):   # the inner layers' own arrays, not copies
            setattr(self, kind, {f"{i}.{name}": a for i, layer in enumerate(self.layers)
                                 for name, a in getattr(layer, kind).items()})
        self.decay = tuple(f"{i}.{name}" for i, layer in enumerate(self.layers) for name in layer.decay)

    def forward(self, x, train=True):
        h = x
        for layer in self.layers:
            h = layer.forward(h, train=train)
        if np.shape(h) != np.shape(x):
            raise ValueError(f"Residual: its layers map input of shape {np.shape(x)} to {np.shape(h)}; "
                             f"y = x + f(x) needs f to keep the shape")
        self.shape = np.shape(x)
        return x + h

    def backward(self, dout, input_grad=True):
        dout = self._check_dout(dout, self._cached("shape"))
        d = dout
        for layer in reversed(self.layers):
            d = layer.backward(d)
        return dout + d   # the skip path passes dout unchanged: the gradient highway

    def reset_state(self):
        for layer in self.layers:
            layer.reset_state()

    def __repr__(self):
        return f"Residual([{', '.join(repr(layer) for layer in self.layers)}])"


_ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU}


def layer_from_name(name, **kwargs):
    """An activation layer by name: "relu", "sigmoid", "tanh" or "leaky_relu"."""
    try:
        return _ACTIVATIONS[name.lower()](**kwargs)
    except KeyError:
        raise ValueError(f"unknown activation {name!r}: expected one of {sorted(_ACTIVATIONS)}") from None
