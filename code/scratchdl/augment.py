"""Data augmentation: new training images from old ones, by small random shifts and rotations.

A digit moved two pixels to the left, or turned by eight degrees, is still the same digit.
Training on such variants, drawn afresh for every batch, teaches a network that these
changes do not matter, and is the cheapest way to more data (Simard et al., 2003, reached
99.6% on MNIST with a convolutional network and distorted digits).

Images are (N, C, H, W) arrays; every function returns new arrays and takes an ``rng``.
``augmented_batches(...)`` is a batch source for ``Trainer(batches=...)``.
"""
import numpy as np

from .training import minibatches
from .utils import as_rng, check_array, check_positive_int


def _check_images(x, owner):
    x = check_array(x, owner, ndim=4)
    if x.dtype.kind != "f":
        raise ValueError(f"{owner} expected floating-point images (N, C, H, W), got dtype {x.dtype}")
    return x


def random_shift(x, max_shift=2, rng=None):
    """Move each image by a whole number of pixels, dy and dx each uniform in
    -max_shift..max_shift, filling the uncovered border with zeros (the background).

    x: (N, C, H, W) float. Returns an array of x's shape and dtype.
    """
    x = _check_images(x, "random_shift")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"random_shift expected max_shift to be an integer >= 0, got {max_shift!r}")
    n, _, h, w = x.shape
    s = int(max_shift)
    shifts = as_rng(rng).integers(-s, s + 1, size=(n, 2))
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    out = np.empty_like(x)
    for i, (dy, dx) in enumerate(shifts):   # one slice per image: N cheap copies, no pixel loop
        out[i] = padded[i, :, s - dy:s - dy + h, s - dx:s - dx + w]
    return out


def random_rotation(x, max_degrees=10.0, rng=None):
    """Turn each image about its centre by an angle uniform in [-max_degrees, max_degrees],
    sampling the source bilinearly; pixels that come from outside the image are 0.

    x: (N, C, H, W) float. Returns an array of x's shape and dtype.
    """
    x = _check_images(x, "random_rotation")
    if not 0 <= max_degrees <= 180:
        raise ValueError(f"random_rotation expected max_degrees in [0, 180], got {max_degrees!r}")
    n = x.shape[0]
    angles = np.deg2rad(as_rng(rng).uniform(-max_degrees, max_degrees, size=n))
    return rotate(x, angles)


def rotate(x, angles):
    """Turn image i by angles[i] radians (counter-clockwise as displayed) about its centre.

    x: (N, C, H, W) float; angles: (N,). Bilinear sampling, zeros outside. Every image is
    done at once: the source coordinates of all output pixels form one (N, H, W) array.
    """
    x = _check_images(x, "rotate")
    n, c, h, w = x.shape
    angles = np.asarray(angles, dtype=np.float64).reshape(-1)
    if angles.shape != (n,):
        raise ValueError(f"rotate expected one angle per image, ({n},), got {np.shape(angles)}")
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    # inverse map: where in the source does each output pixel come from (row axis points down)
    src_y = cy + cos * (yy - cy) + sin * (xx - cx)
    src_x = cx - sin * (yy - cy) + cos * (xx - cx)
    y0, x0 = np.floor(src_y).astype(np.intp), np.floor(src_x).astype(np.intp)
    fy, fx = src_y - y0, src_x - x0
    padded = np.pad(x, ((0, 0), (0, 0), (1, 0), (1, 0)))   # row and column 0: zeros

    def index(i, size):   # a source row/column, or the zero row/column when outside the image
        return np.where((i >= 0) & (i < size), i + 1, 0)

    ry0, ry1, rx0, rx1 = index(y0, h), index(y0 + 1, h), index(x0, w), index(x0 + 1, w)
    images = np.arange(n)[:, None, None]
    out = np.empty_like(x)
    for k in range(c):
        p = padded[:, k]
        top = p[images, ry0, rx0] * (1 - fx) + p[images, ry0, rx1] * fx
        bottom = p[images, ry1, rx0] * (1 - fx) + p[images, ry1, rx1] * fx
        out[:, k] = top * (1 - fy) + bottom * fy
    return out


def augmented_batches(batch_size=100, max_shift=2, max_degrees=10.0):
    """A batch source for ``Trainer(batches=...)``: shuffled minibatches whose images are
    randomly rotated (up to ``max_degrees``) and then shifted (up to ``max_shift`` pixels),
    afresh for every batch, with the trainer's rng. Labels are unchanged."""
    batch_size = check_positive_int(batch_size, "batch_size", "augmented_batches")

    def source(x, y, rng):
        for x_batch, y_batch in minibatches(x, y, batch_size, rng):
            images = random_rotation(x_batch, max_degrees, rng) if max_degrees else x_batch
            yield random_shift(images, max_shift, rng), y_batch
    return source
