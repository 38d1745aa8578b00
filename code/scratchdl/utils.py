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


def check_positive_int(value, name, owner):
    """Return ``value`` as an int if it is a positive integer (not a bool); otherwise raise a
    ValueError like "Trainer expected batch_size to be a positive integer, got 0"."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{owner} expected {name} to be a positive integer, got {value!r}")
    return int(value)


def check_positive_number(value, name, owner):
    """Return ``value`` as a float if it is a finite number > 0 (not a bool); otherwise raise a
    ValueError like "ClipGradNorm expected max_norm > 0 (a finite number), got -1"."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{owner} expected {name} > 0 (a finite number), got {value!r}")
    return float(value)


def check_samples(x, t, owner, allow_empty=False):
    """x and t as arrays with the same number of samples (their first axis); with
    ``allow_empty=False`` at least one. A mismatch raises a ValueError naming both shapes."""
    x, t = np.asarray(x), np.asarray(t)
    if x.ndim == 0 or t.ndim == 0 or x.shape[0] != t.shape[0]:
        raise ValueError(f"{owner} expected as many labels as inputs (the same number of samples): "
                         f"got x of shape {x.shape} and t of shape {t.shape}")
    if x.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{owner} got no samples (x of shape {x.shape})")
    return x, t
