"""Optimizers: rules that turn gradients into parameter updates.

``step(params, grads)`` takes two dicts with the same keys (name -> array) and updates
every parameter array in place, so the layers holding those arrays see the change.
Per-parameter state (velocities, squared-gradient sums) is kept by key.
"""
import numpy as np

from . import parallel
from .utils import check_positive_number


class Optimizer:
    """Base class. ``learning_rate`` may be changed between steps (schedules do that)."""

    def __init__(self, learning_rate):
        if not learning_rate > 0:
            raise ValueError(f"{type(self).__name__} expected a learning_rate > 0, got {learning_rate}")
        self.learning_rate = float(learning_rate)
        self.state = {}
        self.iterations = 0

    def step(self, params, grads):
        if params.keys() != grads.keys():
            raise ValueError(f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}")
        self.iterations += 1
        for key, p in params.items():
            g = grads[key]
            if p.shape != g.shape:
                raise ValueError(f"gradient for {key!r} has shape {g.shape}, parameter has {p.shape}")
            self.update(key, p, g)

    def update(self, key, p, g):
        raise NotImplementedError

    def _slot(self, key, p, name="v"):
        """Per-parameter state array, created as zeros on first use."""
        slots = self.state.setdefault(key, {})
        if name not in slots:
            slots[name] = np.zeros_like(p)
        return slots[name]

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


class SGD(Optimizer):
    """p <- p - lr * g."""

    def __init__(self, learning_rate=0.01):
        super().__init__(learning_rate)

    def update(self, key, p, g):
        p -= self.learning_rate * g


class Momentum(Optimizer):
    """v <- m v - lr g;  p <- p + v.  A heavy ball that keeps rolling (Polyak, 1964).

    The velocity v here includes the learning rate (Saito's and CS231n's form). PyTorch's
    SGD(momentum=m) keeps b <- m b + g and steps p <- p - lr b instead: the same path while
    lr is constant, but a learning-rate change acts at once there and only gradually here.
    """

    def __init__(self, learning_rate=0.01, momentum=0.9):
        super().__init__(learning_rate)
        self.momentum = momentum

    def update(self, key, p, g):
        v = self._slot(key, p)
        v *= self.momentum
        v -= self.learning_rate * g
        p += v


class Nesterov(Momentum):
    """Nesterov momentum: v <- m v - lr g;  p <- p + m v - lr g (the look-ahead form).

    Like Momentum, the velocity includes the learning rate (PyTorch's nesterov=True keeps it
    out; the steps agree while lr is constant)."""

    def update(self, key, p, g):
        v = self._slot(key, p)
        v *= self.momentum
        v -= self.learning_rate * g
        p += self.momentum * v - self.learning_rate * g


class AdaGrad(Optimizer):
    """h <- h + g^2;  p <- p - lr g / (sqrt(h) + eps) (Duchi et al., 2011).

    eps defaults to 1e-7 (Saito's value); PyTorch's Adagrad uses 1e-10. It matters only
    while h is tiny, i.e. in the first steps of a parameter with near-zero gradients."""

    def __init__(self, learning_rate=0.01, eps=1e-7):
        super().__init__(learning_rate)
        self.eps = eps

    def update(self, key, p, g):
        h = self._slot(key, p, "h")
        h += g * g
        p -= self.learning_rate * g / (np.sqrt(h) + self.eps)


class RMSprop(Optimizer):
    """h <- d h + (1 - d) g^2;  p <- p - lr g / (sqrt(h) + eps) (Tieleman & Hinton, 2012).

    eps defaults to 1e-7; PyTorch's RMSprop uses 1e-8 (its alpha is our decay_rate, 0.99 in
    both)."""

    def __init__(self, learning_rate=0.01, decay_rate=0.99, eps=1e-7):
        super().__init__(learning_rate)
        self.decay_rate, self.eps = decay_rate, eps

    def update(self, key, p, g):
        h = self._slot(key, p, "h")
        h *= self.decay_rate
        h += (1 - self.decay_rate) * g * g
        p -= self.learning_rate * g / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): momentum on g and on g^2, both bias-corrected.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
    p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, key, p, g):
        m, v = self._slot(key, p, "m"), self._slot(key, p, "v")
        step, denom = self._slot(key, p, "step"), self._slot(key, p, "denom")   # scratch space
        arrays = (p, g, m, v, step, denom)
        if parallel.active(p.size) and all(a.flags.c_contiguous for a in arrays):
            flat = [a.reshape(-1) for a in arrays]     # stretches of every array, one per worker
            parallel.run(lambda a, b: self._update(*(x[a:b] for x in flat)), p.size)
        else:
            self._update(*arrays)

    def _update(self, p, g, m, v, step, denom):
        t = self.iterations
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=step)
        m += step
        v *= self.beta2
        np.multiply(g, 1 - self.beta2, out=step)
        step *= g
        v += step
        # the formula below, computed in place (big layers would otherwise allocate five
        # temporaries per step): p -= lr * m_hat / (sqrt(v_hat) + eps)
        np.divide(v, 1 - self.beta2 ** t, out=denom)          # v_hat
        np.sqrt(denom, out=denom)
        denom += self.eps
        np.divide(m, 1 - self.beta1 ** t, out=step)            # m_hat
        np.multiply(step, self.learning_rate, out=step)
        step /= denom
        p -= step


class ClipGradNorm(Optimizer):
    """Gradient clipping by global norm, wrapped around any optimizer (Pascanu et al., 2013).

    Before each step, the norm of all gradients together, ||g|| = sqrt(sum of every g^2), is
    measured; if it exceeds ``max_norm`` every gradient is scaled by max_norm / ||g||, so the
    step keeps its direction but not its size. The caller's gradient arrays are not changed.
    ``last_norm`` holds the norm measured at the last step (before clipping).
    ``learning_rate`` reads and sets the inner optimizer's, so schedules work through it.
    """

    def __init__(self, optimizer, max_norm):
        self.max_norm = check_positive_number(max_norm, "max_norm", "ClipGradNorm")
        self.optimizer = get_optimizer(optimizer)
        self.state = self.optimizer.state
        self.iterations = 0
        self.last_norm = None

    @property
    def learning_rate(self):
        return self.optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.optimizer.learning_rate = value

    def step(self, params, grads):
        norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))
        self.last_norm = norm
        if norm > self.max_norm:
            scale = self.max_norm / norm
            grads = {key: g * np.asarray(scale, dtype=g.dtype) for key, g in grads.items()}
        self.optimizer.step(params, grads)
        self.iterations += 1

    def __repr__(self):
        return f"ClipGradNorm({self.optimizer!r}, max_norm={self.max_norm:g})"


_BY_NAME = {"sgd": SGD, "momentum": Momentum, "nesterov": Nesterov,
            "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}


def get_optimizer(optimizer, **kwargs):
    """An optimizer from a name ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
    with keyword arguments, or an Optimizer object returned as it is."""
    if isinstance(optimizer, Optimizer):
        if kwargs:
            raise ValueError("keyword arguments are only used with an optimizer name, not an Optimizer object")
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in _BY_NAME:
        return _BY_NAME[optimizer.lower()](**kwargs)
    raise ValueError(f"unknown optimizer {optimizer!r}: expected one of {sorted(_BY_NAME)} or an Optimizer object")
