"""Convolution and pooling (scratchdl/conv.py): numerical gradients (float64, relative error
< 1e-7), im2col/col2im against each other and against plain loops, shapes, dtypes, errors."""
import numpy as np
import pytest

from scratchdl.conv import AvgPool2D, Conv2D, GlobalAvgPool2D, MaxPool2D, col2im, im2col, output_size
from scratchdl.gradients import gradient_check
from scratchdl.layers import Affine, Flatten, ReLU
from scratchdl.models import Sequential

TOL = 1e-7


def conv_by_loops(x, W, b, stride, padding):
    """Convolution the slow, obvious way: one output pixel at a time."""
    (sh, sw), (ph, pw) = stride, padding
    n, c, h, w = x.shape
    f, _, kh, kw = W.shape
    xp = np.zeros((n, c, h + 2 * ph, w + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + w] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    patch = xp[i, :, r * sh:r * sh + kh, s * sw:s * sw + kw]
                    out[i, k, r, s] = np.sum(patch * W[k]) + b[k]
    return out


def pool_by_loops(x, size, stride, reduce):
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = size, stride
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for s in range(ow):
            out[:, :, r, s] = reduce(x[:, :, r * sh:r * sh + kh, s * sw:s * sw + kw], axis=(2, 3))
    return out


# (in_channels, out_channels, kernel, stride, padding, input shape): strides 1 and 2,
# paddings 0, 1 and 2, several channels, non-square inputs and kernels
CONV_CASES = [
    (3, 2, 3, 1, 0, (2, 3, 5, 6)),
    (2, 3, (3, 2), 1, 1, (2, 2, 4, 5)),
    (2, 2, 3, 2, 0, (2, 2, 7, 5)),
    (1, 3, 3, 2, 1, (3, 1, 5, 5)),
    (2, 2, (4, 2), 2, 2, (2, 2, 6, 4)),
    (2, 3, 3, (2, 1), (1, 0), (2, 2, 5, 4)),
    (3, 4, 1, 1, 0, (2, 3, 3, 4)),
]
CONV_IDS = [f"k{k}-s{s}-p{p}-x{'x'.join(map(str, shape))}" for _, _, k, s, p, shape in CONV_CASES]


def make_conv(case, seed=0, dtype=np.float64):
    c, f, k, s, p, _ = case
    conv = Conv2D(c, f, k, stride=s, padding=p, rng=seed, dtype=dtype)
    conv.params["b"][:] = np.random.default_rng(seed + 1).standard_normal(f)   # a bias that matters
    return conv


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_gradient_check(case):
    conv = make_conv(case)
    errors = gradient_check(conv, np.random.default_rng(2).standard_normal(case[-1]), rng=3)
    assert set(errors) == {"x", "W", "b"}
    for name, err in errors.items():
        assert err < TOL, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_forward_matches_loops(case):
    conv = make_conv(case)
    x = np.random.default_rng(4).standard_normal(case[-1])
    expected = conv_by_loops(x, conv.params["W"], conv.params["b"], conv.stride, conv.padding)
    np.testing.assert_allclose(conv.forward(x), expected, rtol=1e-12, atol=1e-12)


def test_conv_forward_by_hand():
    """One 3x3 image, one 2x2 kernel of ones, bias 0.5: each output sums a patch."""
    conv = Conv2D(1, 1, 2, rng=0)
    conv.params["W"][:] = 1.0
    conv.params["b"][:] = 0.5
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(conv.forward(x), [[[[12.5, 16.5], [24.5, 28.5]]]])


def test_im2col_example_from_the_docstring():
    x = np.arange(1, 10).reshape(1, 1, 3, 3)
    np.testing.assert_array_equal(im2col(x, 2), [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]])


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((2, 3, 5, 6), 3, 1, 0), ((2, 2, 7, 5), 3, 2, 1), ((1, 2, 6, 4), (4, 2), 2, 2),
    ((3, 1, 5, 4), (2, 3), (3, 1), (0, 1)), ((2, 2, 4, 4), 2, 2, 0),
])
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, padding):
    """<col2im(y), x> == <y, im2col(x)> for every x and y: col2im is im2col's transpose."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    col = im2col(x, kernel, stride, padding)
    y = rng.standard_normal(col.shape)
    back = col2im(y, shape, kernel, stride, padding)
    assert back.shape == shape
    assert np.sum(back * x) == pytest.approx(np.sum(y * col), rel=1e-12)


def test_col2im_counts_how_often_each_pixel_is_used():
    counts = col2im(np.ones((9, 9)), (1, 1, 5, 5), 3, stride=1)   # 3x3 kernel over 5x5: 9 patches
    expected = np.array([[1, 2, 3, 2, 1], [2, 4, 6, 4, 2], [3, 6, 9, 6, 3], [2, 4, 6, 4, 2], [1, 2, 3, 2, 1]])
    np.testing.assert_array_equal(counts[0, 0], expected)


def distinct(shape, seed=0):
    """A random permutation of well-separated values: no ties, and no nudge of 1e-6 changes
    which entry of a window is largest."""
    return np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) * 0.1 - 1.0


# (size, stride, input shape): tiling windows, overlapping windows, gaps between windows
POOL_CASES = [(2, None, (2, 3, 4, 6)), (3, 1, (2, 2, 5, 5)), (2, 3, (2, 2, 5, 8)),
              ((2, 3), (1, 2), (2, 2, 4, 7)), (1, 1, (1, 2, 3, 3))]
POOL_IDS = ["2x2", "3x3-overlapping", "2x2-gaps", "2x3-stride-1x2", "1x1"]


@pytest.mark.parametrize("pool", [MaxPool2D, AvgPool2D])
@pytest.mark.parametrize("size, stride, shape", POOL_CASES, ids=POOL_IDS)
def test_pool_gradient_check(pool, size, stride, shape):
    errors = gradient_check(pool(size, stride), distinct(shape), rng=1)
    assert errors["x"] < TOL, f"relative error {errors['x']:.2e}"


@pytest.mark.parametrize("pool, reduce", [(MaxPool2D, np.max), (AvgPool2D, np.mean)])
@pytest.mark.parametrize("size, stride, shape", POOL_CASES, ids=POOL_IDS)
def test_pool_forward_matches_loops(pool, reduce, size, stride, shape):
    layer = pool(size, stride)
    x = distinct(shape)
    np.testing.assert_allclose(layer.forward(x), pool_by_loops(x, layer.size, layer.stride, reduce), rtol=1e-13)


def test_max_pool_routes_each_gradient_to_the_maximum():
    x = np.array([[[[1.0, 5.0, 2.0, 0.0],
                    [3.0, 4.0, 9.0, 1.0]]]])
    pool = MaxPool2D(2)
    np.testing.assert_array_equal(pool.forward(x), [[[[5.0, 9.0]]]])
    np.testing.assert_array_equal(pool.backward(np.array([[[[10.0, 20.0]]]])),
                                  [[[[0, 10.0, 0, 0], [0, 0, 20.0, 0]]]])


def test_max_pool_ties_go_to_the_first_in_reading_order_and_overlaps_add_up():
    pool = MaxPool2D(2, stride=1)           # all four 2x2 windows of a constant 3x3 image
    pool.forward(np.ones((1, 1, 3, 3)))
    dx = pool.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx[0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_global_avg_pool_gradient_check_and_values():
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 6))
    layer = GlobalAvgPool2D()
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(2, 3)))
    assert gradient_check(layer, x, rng=1)["x"] < TOL


LAYERS = [(lambda: make_conv(CONV_CASES[3]), CONV_CASES[3][-1]), (lambda: MaxPool2D(2), (2, 3, 4, 6)),
          (lambda: AvgPool2D(3, 1), (2, 2, 5, 5)), (GlobalAvgPool2D, (3, 4, 5, 6))]
LAYER_IDS = ["conv", "maxpool", "avgpool", "globalavgpool"]


@pytest.mark.parametrize("make, shape", LAYERS, ids=LAYER_IDS)
def test_layer_contract(make, shape):
    """What scratchdl/layers.py promises of every layer: backward changes neither x nor
    dout, a wrong dout or a backward before forward is a clear error, input_grad=False works."""
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        make().backward(np.ones(shape))
    layer = make()
    x = distinct(shape)
    x_before = x.copy()
    out = layer.forward(x)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}.*backward expected dout of shape"):
        layer.backward(np.ones(out.shape[:-1] + (out.shape[-1] + 1,)))
    assert layer.params.keys() == layer.grads.keys()
    assert set(layer.decay) <= set(layer.params)
    layer.forward(x)
    layer.backward(dout, input_grad=False)


def test_conv_input_grad_false_returns_none_and_the_same_parameter_gradients():
    case = CONV_CASES[4]
    conv = make_conv(case)
    x = np.random.default_rng(0).standard_normal(case[-1])
    dout = np.random.default_rng(1).standard_normal(conv.forward(x).shape)
    assert conv.backward(dout) is not None
    with_dx = {k: g.copy() for k, g in conv.grads.items()}
    assert conv.backward(dout, input_grad=False) is None
    for key, grad in conv.grads.items():
        np.testing.assert_array_equal(grad, with_dx[key])


def test_gradients_do_not_depend_on_the_memory_order_of_dout():
    """Conv2D returns a transposed view; a dout in that order or in plain C order must agree."""
    conv = make_conv(CONV_CASES[1])
    out = conv.forward(np.random.default_rng(0).standard_normal(CONV_CASES[1][-1]))
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dx_c = conv.backward(np.ascontiguousarray(dout))
    grads_c = {k: g.copy() for k, g in conv.grads.items()}
    like_out = np.empty_like(out)
    like_out[...] = dout
    np.testing.assert_allclose(conv.backward(like_out), dx_c, rtol=1e-13)
    for key, grad in conv.grads.items():
        np.testing.assert_allclose(grad, grads_c[key], rtol=1e-13)


def test_float32_stays_float32():
    x = np.random.default_rng(0).standard_normal((4, 2, 8, 8)).astype(np.float32)
    layers = [Conv2D(2, 3, 3, padding=1, rng=0, dtype=np.float32), ReLU(), MaxPool2D(2), AvgPool2D(2), GlobalAvgPool2D()]
    assert all(p.dtype == np.float32 for p in layers[0].params.values())
    for layer in layers:
        x_in = x
        x = layer.forward(x)
        assert x.dtype == np.float32, repr(layer)
        dx = layer.backward(np.ones_like(x))
        assert dx.dtype == np.float32 and dx.shape == x_in.shape, repr(layer)
    assert all(g.dtype == np.float32 for g in layers[0].grads.values())


def test_shapes_and_repr():
    conv = Conv2D(1, 30, 5)
    assert repr(conv) == "Conv2D(1, 30, kernel_size=5, stride=1, padding=0)"
    assert repr(Conv2D(3, 8, (3, 5), stride=(2, 1), padding=(1, 2))) == \
        "Conv2D(3, 8, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2))"
    assert repr(MaxPool2D(2)) == "MaxPool2D(size=2, stride=2)"
    assert conv.params["W"].shape == (30, 1, 5, 5) and conv.params["b"].shape == (30,)
    assert conv.decay == ("W",)
    assert conv.forward(np.zeros((7, 1, 28, 28))).shape == (7, 30, 24, 24)
    assert MaxPool2D(2).forward(np.zeros((7, 30, 24, 24))).shape == (7, 30, 12, 12)
    assert GlobalAvgPool2D().forward(np.zeros((7, 30, 24, 24))).shape == (7, 30)
    assert output_size((28, 28), 3, 1, 1) == (28, 28)
    assert output_size((27, 27), 3, 2, 1) == (14, 14)


def test_he_initialization_uses_fan_in_c_times_kh_times_kw():
    conv = Conv2D(8, 256, 3, rng=0)
    assert conv.params["W"].std() == pytest.approx(np.sqrt(2.0 / (8 * 3 * 3)), rel=0.03)
    assert np.all(conv.params["b"] == 0)


@pytest.mark.parametrize("layer, shape, message", [
    (Conv2D(3, 8, 3), (32, 32, 32, 3),
     r"expected input of shape \(N, 3, H, W\), got \(32, 32, 32, 3\): did you forget to move the channel axis first"),
    (Conv2D(3, 8, 3), (3, 32, 32), r"expected input of shape \(N, 3, H, W\), got \(3, 32, 32\): .*batch axis"),
    (Conv2D(3, 8, 3), (4, 2, 32, 32), r"expected input of shape \(N, 3, H, W\), got \(4, 2, 32, 32\)"),
    (Conv2D(1, 8, 3), (4, 784), r"expected input of shape \(N, 1, H, W\), got \(4, 784\)"),
    (Conv2D(1, 30, 5, stride=2), (4, 1, 28, 28),
     r"H x W = 28 x 28 with kernel 5x5, stride 2x2, padding 0x0: .*not a whole number; H = 27 or 29 would fit"),
    (Conv2D(1, 4, 3, stride=(1, 2)), (4, 1, 5, 6), r"W = 5 or 7 would fit"),
    (Conv2D(1, 4, 7, padding=1), (4, 1, 4, 4), r"kernel is larger than the padded input \(6 x 6\)"),
    (MaxPool2D(2), (4, 3, 7, 8), r"MaxPool2D.*H x W = 7 x 8 .*H = 6 or 8 would fit"),
    (AvgPool2D(3), (4, 3, 2, 2), r"AvgPool2D.*kernel is larger"),
    (GlobalAvgPool2D(), (4, 3), r"GlobalAvgPool2D expected input of shape \(N, C, H, W\), got \(4, 3\)"),
])
def test_bad_input_shapes_are_clear_errors(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(np.zeros(shape))


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2D(0, 4, 3), "in_channels to be a positive integer"),
    (lambda: Conv2D(1, 4, 0), "kernel_size to be an integer >= 1"),
    (lambda: Conv2D(1, 4, (3, 3, 3)), "kernel_size to be an integer >= 1 or a pair"),
    (lambda: Conv2D(1, 4, 3, padding=-1), "padding to be an integer >= 0"),
    (lambda: MaxPool2D(2, stride=0), "stride to be an integer >= 1"),
])
def test_bad_settings_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_im2col_and_col2im_check_their_inputs():
    with pytest.raises(ValueError, match="im2col expected a 4-D array"):
        im2col(np.zeros((3, 5, 5)), 3)
    with pytest.raises(ValueError, match=r"col2im expected col of shape \(9, 18\)"):
        col2im(np.zeros((9, 9)), (2, 1, 5, 5), 3)


def test_a_small_conv_net_trains_and_round_trips_its_state():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((8, 1, 6, 6)), rng.integers(0, 2, 8)
    model = Sequential([Conv2D(1, 2, 3, rng=1), ReLU(), MaxPool2D(2), Flatten(), Affine(2 * 2 * 2, 2, rng=2)])
    first = model.loss(x, t)
    for _ in range(30):
        model.gradient(x, t)
        for key, p in model.params.items():
            p -= 0.1 * model.grads[key]
    assert model.loss(x, t) < first
    copy = Sequential([Conv2D(1, 2, 3, rng=5), ReLU(), MaxPool2D(2), Flatten(), Affine(8, 2, rng=6)])
    copy.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))
