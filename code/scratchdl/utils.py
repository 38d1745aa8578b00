"""Small helpers shared by the package: random generators and input checks."""
import numpy as np


def as_rng(rng=None):
    """Return a ``numpy.random.Generator`` for ``rng``.

    ``rng`` may be None (fresh entropy), an int seed, or an existing Generator, which is
    returned unchanged so that callers can share one stream of random numbers.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError(f"expected an int seed, a numpy.random.Generator or None, got {type(rng).__name__}")


def _shape_text(shape):
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def check_array(x, name, shape=None, ndim=None):
    """Check that ``x`` is a numeric array of the expected shape and return it as an ndarray.

    ``shape`` is a tuple whose entries are ints or None (any size), e.g. ``(None, 784)``.
    A mismatch raises a ValueError that names ``name``, the expected and the received shape.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise ValueError(f"{name} expected a numeric array, got dtype {x.dtype}")
    if ndim is not None and x.ndim not in np.atleast_1d(ndim):
        raise ValueError(f"{name} expected a {ndim}-D array, got shape {x.shape}")
    if shape is not None:
        ok = x.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, x.shape))
        if not ok:
            raise ValueError(f"{name} expected input of shape {_shape_text(shape)}, got {x.shape}")
    return x
