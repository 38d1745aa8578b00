"""Convolution and pooling, made fast by im2col: every patch becomes a column of a matrix,
and a whole convolution layer becomes one matrix product.

A 3x3 image and a 2x2 kernel (stride 1, no padding) have 2x2 = 4 output pixels, one per
patch. im2col writes each patch as a column::

    x = [[1, 2, 3],        col = im2col(x) = [[1, 2, 4, 5],    <- kernel position (0, 0)
         [4, 5, 6],                           [2, 3, 5, 6],    <- (0, 1)
         [7, 8, 9]]                           [4, 5, 7, 8],    <- (1, 0)
                                              [5, 6, 8, 9]]    <- (1, 1)
                                                ^ one column per output pixel

and the convolution with the kernel w is the row vector w.ravel() @ col = the 4 output
pixels. With F kernels of C channels, batches of N images and OH x OW outputs:
W.reshape(F, C*KH*KW) @ col, col of shape (C*KH*KW, N*OH*OW). No copy is made to find the
patches: numpy's sliding_window_view reads them from the image through strides; the one copy
is writing them into col. col2im is the adjoint (the backward of im2col): it adds every
column back onto the pixels it came from, which is how the gradient reaches the image.

Layout: the API is NCHW, x: (N, C, H, W), like PyTorch and Saito's book. Inside, col is
(C*KH*KW, N*OH*OW) rather than the transpose: filling it copies runs of OW neighbouring
pixels (whole image rows) where an (N*OH*OW, C*KH*KW) col copies runs of KW, three times
slower for MNIST's first layer; and the product W @ col is (F, N*OH*OW), channel-major,
which Conv2D returns as a transposed view of shape (N, F, OH, OW) instead of copying it.
numpy's elementwise operations (ReLU) and the pools keep that memory order, so in backward
the gradient arrives in it and reading it back as an (F, N*OH*OW) matrix is free as well.

Output sizes must be whole numbers: where PyTorch silently drops the last rows that do not
fill a window (a 3x3 kernel with stride 2 and padding 1 on 28 pixels), this module refuses
and says which sizes would fit.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import parallel
from .initializers import get_initializer
from .layers import Layer
from .utils import as_rng, check_array, check_positive_int


def _pair(value, name, owner, minimum=1):
    """(h, w) from an int or a pair of ints, each >= minimum."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum
                             for v in pair):
        raise ValueError(f"{owner} expected {name} to be an integer >= {minimum} or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _text(pair):
    """5 for (5, 5), (3, 5) for (3, 5): how a setting is written in a repr."""
    return pair[0] if pair[0] == pair[1] else pair


def _settings(owner, kernel_size, stride, padding):
    """((KH, KW), (SH, SW), (PH, PW)) from ints or pairs."""
    return (_pair(kernel_size, "kernel_size", owner), _pair(stride, "stride", owner),
            _pair(padding, "padding", owner, minimum=0))


def output_size(shape, kernel_size, stride=1, padding=0, owner="output_size"):
    """(OH, OW) = ((H + 2P - KH) / S + 1, (W + 2P - KW) / S + 1) for x of shape (..., H, W).

    Refuses (ValueError naming H, W, kernel, stride and padding) a kernel larger than the
    padded input, and a stride that does not tile it exactly: PyTorch silently drops the
    last rows and columns, which hides a design mistake.
    """
    (kh, kw), (sh, sw), (ph, pw) = _settings(owner, kernel_size, stride, padding)
    h, w = shape[-2:]
    where = f"an input of H x W = {h} x {w} with kernel {kh}x{kw}, stride {sh}x{sw}, padding {ph}x{pw}"
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ValueError(f"{owner} got {where}: the kernel is larger than the padded input "
                         f"({h + 2 * ph} x {w + 2 * pw})")
    sizes = []
    for axis, n, k, s, p in (("H", h, kh, sh, ph), ("W", w, kw, sw, pw)):
        rest = (n + 2 * p - k) % s
        if rest:
            fits = " or ".join(str(v) for v in (n - rest, n - rest + s) if v + 2 * p >= k)
            raise ValueError(f"{owner} got {where}: ({axis} + 2*padding - kernel) / stride + 1 = "
                             f"({n} + {2 * p} - {k}) / {s} + 1 is not a whole number; {axis} = {fits} "
                             f"would fit (or change the padding or stride)")
        sizes.append((n + 2 * p - k) // s + 1)
    return tuple(sizes)


def _patches(x, kernel, stride, padding, out_hw):
    """Every patch of the zero-padded x as a read-only view (C, KH, KW, N, OH, OW)."""
    (ph, pw), (sh, sw), (oh, ow) = padding, stride, out_hw
    if ph or pw:   # into zeros laid out channel-major, like col (np.pad is slower)
        n, c, h, w = x.shape
        padded = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=x.dtype).transpose(1, 0, 2, 3)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    windows = sliding_window_view(x, kernel, axis=(2, 3))   # (N, C, H', W', KH, KW), no copy
    windows = windows[:, :, :sh * (oh - 1) + 1:sh, :sw * (ow - 1) + 1:sw]
    return windows.transpose(1, 4, 5, 0, 2, 3)


def im2col(x, kernel_size, stride=1, padding=0):
    """x: (N, C, H, W) -> col: (C*KH*KW, N*OH*OW), one column per patch (see the module docstring)."""
    x = check_array(x, "im2col", ndim=4)
    k, s, p = _settings("im2col", kernel_size, stride, padding)
    view = _patches(x, k, s, p, output_size(x.shape, k, s, p, "im2col"))
    return view.reshape(view.shape[0] * k[0] * k[1], -1)   # reshape copies: the one copy


def col2im(col, x_shape, kernel_size, stride=1, padding=0):
    """col: (C*KH*KW, N*OH*OW) -> dx: x_shape = (N, C, H, W), the adjoint of im2col: each
    column is added back onto the pixels of its patch (overlapping patches add up)."""
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw) = _settings("col2im", kernel_size, stride, padding)
    oh, ow = output_size(x_shape, (kh, kw), (sh, sw), (ph, pw), "col2im")
    col = np.asarray(col)
    if col.shape != (c * kh * kw, n * oh * ow):
        raise ValueError(f"col2im expected col of shape {(c * kh * kw, n * oh * ow)} for x of shape "
                         f"{tuple(x_shape)}, got {col.shape}")
    patches = col.reshape(c, kh, kw, n, oh, ow)
    # channel-major like col, so each addition below runs over matching memory order
    dx = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=col.dtype)

    def add(c0, c1):             # channels c0..c1-1 (a share of the work, see scratchdl.parallel)
        for i in range(kh):      # a loop over the kernel offsets only: each one is a strided
            for j in range(kw):  # view of the whole batch, and within one offset no pixel repeats
                dx[c0:c1, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += patches[c0:c1, i, j]
    parallel.run(add, c, dx.size)
    return dx[:, :, ph:ph + h, pw:pw + w].transpose(1, 0, 2, 3)


def _check_images(x, owner, channels=None):
    """x as an array of shape (N, C, H, W) (C = channels if given), or a ValueError with a hint."""
    x = check_array(x, owner)
    if x.ndim == 4 and (channels is None or x.shape[1] == channels):
        return x
    expected = f"(N, {'C' if channels is None else channels}, H, W)"
    hint = ""
    if x.ndim == 4 and x.shape[-1] == channels:
        hint = ": did you forget to move the channel axis first? (x.transpose(0, 3, 1, 2))"
    elif x.ndim == 3:
        hint = ": a single image needs a batch axis (x[None])"
    elif x.ndim == 2:
        hint = ": flattened images need reshaping to (N, C, H, W)"
    raise ValueError(f"{owner} expected input of shape {expected}, got {x.shape}{hint}")


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every framework).

    x: (N, C, H, W) -> out: (N, F, OH, OW), OH = (H + 2P - KH) / S + 1 (likewise OW).
    W: (F, C, KH, KW), b: (F,). kernel_size, stride, padding: an int or an (h, w) pair.
    init: an initializer name, std or callable; He and Xavier use fan_in = C*KH*KW.
    """

    decay = ("W",)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, init="he",
                 rng=None, dtype=np.float64):
        super().__init__()
        self.in_channels = check_positive_int(in_channels, "in_channels", "Conv2D")
        self.out_channels = check_positive_int(out_channels, "out_channels", "Conv2D")
        self.kernel_size, self.stride, self.padding = _settings("Conv2D", kernel_size, stride, padding)
        self.dtype = np.dtype(dtype)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.params = {"W": np.asarray(get_initializer(init)(shape, as_rng(rng)), dtype=self.dtype),
                       "b": np.zeros(self.out_channels, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, x, train=True):
        x = _check_images(x, repr(self), self.in_channels).astype(self.dtype, copy=False)
        out_hw = output_size(x.shape, self.kernel_size, self.stride, self.padding, repr(self))
        patches = _patches(x, self.kernel_size, self.stride, self.padding, out_hw)
        n, f, k = x.shape[0], self.out_channels, self.params["W"][0].size
        # The bias is a weight on an input that is always 1: a row of ones under col adds it
        # inside the matrix product (no pass over the output), and in backward the same
        # product then yields db as the last column of dW.
        pixels = out_hw[0] * out_hw[1]
        col = np.empty((k + 1, n * pixels), dtype=self.dtype)
        cols = col[:k].reshape(patches.shape)
        weights = np.concatenate([self.params["W"].reshape(f, k), self.params["b"][:, None]], axis=1)
        out = np.empty((f, n * pixels), dtype=self.dtype)

        def images(a, b):        # images a..b-1 (a share of the work, see scratchdl.parallel)
            cols[:, :, :, a:b] = patches[:, :, :, a:b]       # the one copy of im2col
            col[k, a * pixels:b * pixels] = 1
            np.matmul(weights, col[:, a * pixels:b * pixels], out=out[:, a * pixels:b * pixels])
        parallel.run(images, n, col.size)
        self.col, self.x_shape, self.out_shape = col, x.shape, (n, f) + out_hw
        # (F, N*OH*OW) read as (N, F, OH, OW) without a copy: see the module docstring
        return out.reshape(f, n, *out_hw).transpose(1, 0, 2, 3)

    def backward(self, dout, input_grad=True):
        """dout: (N, F, OH, OW) -> dx: (N, C, H, W), or None with ``input_grad=False``."""
        col = self._cached("col")
        dout = self._check_dout(dout, self.out_shape).astype(self.dtype, copy=False)
        f, k = self.out_channels, col.shape[0] - 1
        d2 = dout.transpose(1, 0, 2, 3).reshape(f, -1)    # free if dout has forward's layout
        # (F, C*KH*KW + 1): [dW | db], a sum over every output pixel; with several workers
        # each sums its share of the pixels and the shares are added
        parts = parallel.run(lambda a, b: d2[:, a:b] @ col[:, a:b].T, col.shape[1], col.size)
        grads = parts[0]
        for part in parts[1:]:
            grads += part
        self.grads["W"][...] = grads[:, :k].reshape(self.grads["W"].shape)
        self.grads["b"][...] = grads[:, k]
        if not input_grad:
            return None      # the first layer: skips a matrix product and the col2im
        w_t = self.params["W"].reshape(f, k).T
        dcol = np.empty((k, d2.shape[1]), dtype=self.dtype)    # (C*KH*KW, N*OH*OW)
        parallel.run(lambda a, b: np.matmul(w_t, d2[:, a:b], out=dcol[:, a:b]), d2.shape[1], dcol.size)
        return col2im(dcol, self.x_shape, self.kernel_size, self.stride, self.padding)

    def __repr__(self):
        return (f"Conv2D({self.in_channels}, {self.out_channels}, kernel_size={_text(self.kernel_size)}, "
                f"stride={_text(self.stride)}, padding={_text(self.padding)})")


class _Pool2D(Layer):
    """Shared by the pools. A pool has no matrix product to feed, so instead of an im2col
    copy it loops over the offsets inside a window (2 for a 2x2 window), each offset one
    strided view of the whole batch. Windows are separable: the max (or sum) over a window
    is the max over its rows of the max within each row, so it takes two steps, along W
    then along H, KH + KW offsets instead of KH * KW."""

    def __init__(self, size=2, stride=None):
        super().__init__()
        owner = type(self).__name__
        self.size = _pair(size, "size", owner)
        self.stride = self.size if stride is None else _pair(stride, "stride", owner)
        if max(self.size) > 255:    # MaxPool2D keeps window positions as uint8
            raise ValueError(f"{owner} expected a window of at most 255 x 255, got size={size!r}")

    def _start(self, x):
        x = _check_images(x, repr(self))
        self.out_hw = output_size(x.shape, self.size, self.stride, 0, repr(self))
        self.x = x       # kept for its shape and memory order: dx is allocated like it
        return x

    def _along_w(self, x):
        return _offsets(x, 3, self.size[1], self.stride[1], self.out_hw[1])

    def _along_h(self, x):
        return _offsets(x, 2, self.size[0], self.stride[0], self.out_hw[0])

    def __repr__(self):
        return f"{type(self).__name__}(size={_text(self.size)}, stride={_text(self.stride)})"


def _offsets(x, axis, k, s, n_out):
    """The k strided views x[..., o : o + s*(n_out-1) + 1 : s, ...] along ``axis``, o = 0..k-1."""
    before = (slice(None),) * axis
    return [x[before + (slice(o, o + s * (n_out - 1) + 1, s),)] for o in range(k)]


class MaxPool2D(_Pool2D):
    """The largest value of each size x size window. x: (N, C, H, W) -> (N, C, OH, OW),
    OH = (H - size) / stride + 1; stride defaults to size (windows that do not overlap).
    Backward routes each gradient to the position of its window's maximum (the first one in
    reading order on ties, as PyTorch does); where windows overlap, gradients add up."""

    def forward(self, x, train=True):
        x = self._start(x)
        # allocated like the views, so they keep x's memory order (K order, as ufuncs do)
        like_rows = self._along_w(x)[0]
        like_out = self._along_h(like_rows)[0]
        rows, self.w_index = np.empty_like(like_rows), np.empty_like(like_rows, dtype=np.uint8)
        out, self.h_index = np.empty_like(like_out), np.empty_like(like_out, dtype=np.uint8)

        def images(a, b):        # images a..b-1 (a share of the work, see scratchdl.parallel)
            _max_of(self._along_w(x[a:b]), rows[a:b], self.w_index[a:b])            # (N, C, H, OW)
            _max_of(self._along_h(rows[a:b]), out[a:b], self.h_index[a:b])         # (N, C, OH, OW)
        parallel.run(images, len(x), x.size)
        return out

    def backward(self, dout, input_grad=True):
        h_index = self._cached("h_index")
        dout = self._check_dout(dout, h_index.shape)
        tiled_h, tiled_w = self.stride[0] == self.size[0], self.stride[1] == self.size[1]
        # copied into the memory order of the indices: numpy walks arrays of different orders
        # with long strides, several times slower than this one small copy
        d = np.empty_like(h_index, dtype=dout.dtype)
        drows = (np.empty_like if tiled_h else np.zeros_like)(self.w_index, dtype=d.dtype)
        dx = (np.empty_like if tiled_w else np.zeros_like)(self.x, dtype=d.dtype)

        def images(a, b):
            d[a:b] = dout[a:b]
            _route(d[a:b], h_index[a:b], drows[a:b], self._along_h, tiled_h)
            _route(drows[a:b], self.w_index[a:b], dx[a:b], self._along_w, tiled_w)
        parallel.run(images, len(d), dx.size)
        return dx


def _max_of(views, best, index):
    """Into ``best`` and ``index`` (uint8): the elementwise max of equally shaped views and
    the index of the first view holding it. Branch-free arithmetic only: masked writes
    (np.where, copyto(where=)) are ten times slower on masks as random as the signs of
    activations."""
    if len(views) == 1:     # a window one pixel wide along this axis
        best[...] = views[0]
        index[...] = 0
        return
    np.greater(views[1], views[0], out=index.view(bool))     # strictly: a tie keeps the first
    np.maximum(views[0], views[1], out=best)
    for offset, view in enumerate(views[2:], start=2):
        larger = np.greater(view, best).view(np.uint8)
        np.maximum(best, view, out=best)
        np.maximum(index, larger * np.uint8(offset), out=index)    # offset > every earlier index


def _route(d, index, dx, offsets, tiled):
    """Backward of _max_of, into dx (uninitialised if ``tiled``, zeros otherwise): each value
    of d goes to the view of dx its index names."""
    for offset, view in enumerate(offsets(dx)):
        if tiled:    # every pixel in exactly one window: write, no zeros to add to
            np.multiply(d, index == offset, out=view)
        else:        # gaps between windows stay zero, overlapping windows add up
            view += d * (index == offset)


class AvgPool2D(_Pool2D):
    """The mean of each size x size window. x: (N, C, H, W) -> (N, C, OH, OW), OH =
    (H - size) / stride + 1; stride defaults to size. Backward spreads each gradient evenly
    over its window."""

    def forward(self, x, train=True):
        x = self._start(x)
        rows = _sum_of(self._along_w(x))
        out = _sum_of(self._along_h(rows))
        out /= self.size[0] * self.size[1]
        return out

    def backward(self, dout, input_grad=True):
        out_hw = self._cached("out_hw")
        dout = self._check_dout(dout, self.x.shape[:2] + out_hw)
        share = dout / (self.size[0] * self.size[1])    # each pixel's weight in its window's mean
        share = share.astype(np.result_type(share, self.x, np.float32), copy=False)
        drows = np.zeros(self.x.shape[:3] + out_hw[1:], dtype=share.dtype)    # (N, C, H, OW)
        for view in self._along_h(drows):
            view += share          # +=: overlapping windows share pixels
        dx = np.zeros(self.x.shape, dtype=share.dtype)
        for view in self._along_w(dx):
            view += drows
        return dx


def _sum_of(views):
    """Elementwise sum of equally shaped views, as floats (a pool of integers averages to floats)."""
    total = views[0].astype(np.result_type(views[0], np.float32))    # a copy
    for view in views[1:]:
        total += view
    return total


class GlobalAvgPool2D(Layer):
    """The mean of each channel over the whole image: x: (N, C, H, W) -> (N, C). Replaces
    the flatten + large affine layer at the end of deeper networks."""

    def forward(self, x, train=True):
        x = _check_images(x, "GlobalAvgPool2D")
        self.x_shape = x.shape
        return x.mean(axis=(2, 3))

    def backward(self, dout, input_grad=True):
        n, c, h, w = self._cached("x_shape")
        dout = self._check_dout(dout, (n, c))
        dx = np.empty((n, c, h, w), dtype=np.result_type(dout, np.float32))
        dx[...] = (dout / (h * w))[:, :, None, None]    # each pixel had weight 1 / (H*W)
        return dx
