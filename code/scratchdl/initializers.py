"""Weight initializers: callables ``init(shape, rng) -> ndarray``, chosen by name or object.

Fan-in and fan-out: for a dense weight (n_in, n_out) they are n_in and n_out; for a
convolution kernel (F, C, KH, KW) they are C*KH*KW and F*KH*KW.
"""
import numpy as np

from .utils import as_rng


def fans(shape):
    """Return (fan_in, fan_out) for a weight of this shape."""
    shape = tuple(shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        receptive = shape[2] * shape[3]
        return shape[1] * receptive, shape[0] * receptive
    if len(shape) == 1:
        return shape[0], shape[0]
    raise ValueError(f"cannot compute fans for a weight of shape {shape}: expected 1, 2 or 4 axes")


class Initializer:
    """Base class: subclasses implement ``std(shape)`` for a zero-mean Gaussian."""

    name = "initializer"

    def std(self, shape):
        raise NotImplementedError

    def __call__(self, shape, rng=None, dtype=np.float64):
        return (as_rng(rng).standard_normal(shape) * self.std(shape)).astype(dtype, copy=False)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Zeros(Initializer):
    """All weights 0: every unit in a layer computes the same thing (chapter 6 shows why that fails)."""

    name = "zeros"

    def __call__(self, shape, rng=None, dtype=np.float64):
        return np.zeros(shape, dtype=dtype)


class Constant(Initializer):
    """All weights equal to ``value``."""

    name = "constant"

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, rng=None, dtype=np.float64):
        return np.full(shape, self.value, dtype=dtype)

    def __repr__(self):
        return f"Constant(value={self.value})"


class Normal(Initializer):
    """Gaussian weights with a fixed standard deviation (0.01 is the classic small start)."""

    name = "normal"

    def __init__(self, std=0.01):
        if std < 0:
            raise ValueError(f"Normal expected std >= 0, got {std}")
        self._std = float(std)

    def std(self, shape):
        return self._std

    def __repr__(self):
        return f"Normal(std={self._std})"


class Xavier(Initializer):
    """Glorot & Bengio (2010): std = sqrt(2 / (fan_in + fan_out)), for sigmoid and tanh."""

    name = "xavier"

    def std(self, shape):
        fan_in, fan_out = fans(shape)
        return np.sqrt(2.0 / (fan_in + fan_out))


class He(Initializer):
    """He et al. (2015): std = sqrt(2 / fan_in), for ReLU, which zeroes half of its inputs."""

    name = "he"

    def std(self, shape):
        return np.sqrt(2.0 / fans(shape)[0])


zeros = Zeros()
xavier = Xavier()
he = He()


def constant(value=0.0):
    """Initializer filling every weight with ``value``."""
    return Constant(value)


def normal(std=0.01):
    """Initializer drawing Gaussian weights with standard deviation ``std``."""
    return Normal(std)


_BY_NAME = {"zeros": Zeros, "normal": Normal, "xavier": Xavier, "glorot": Xavier, "he": He}


def get_initializer(init):
    """An initializer from a name ("zeros", "normal", "xavier", "he"), a std (float) or a callable."""
    if isinstance(init, str):
        key = init.lower()
        if key not in _BY_NAME:
            raise ValueError(f"unknown initializer {init!r}: expected one of {sorted(_BY_NAME)}, a float std or a callable")
        return _BY_NAME[key]()
    if isinstance(init, (int, float, np.floating)) and not isinstance(init, bool):
        return Normal(std=float(init))
    if callable(init):
        return init
    raise ValueError(f"expected an initializer name, a float std or a callable, got {type(init).__name__}")
