"""Convolution and pooling against PyTorch, an independent implementation (float64; skipped
without torch). PyTorch is never a dependency of the book: install torch==2.13.0 (CPU)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from scratchdl.conv import AvgPool2D, Conv2D, GlobalAvgPool2D, MaxPool2D  # noqa: E402


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("c, f, kernel, stride, padding, shape", [
    (3, 4, 3, 1, 0, (2, 3, 8, 9)),
    (3, 4, 3, 1, 1, (2, 3, 8, 9)),
    (2, 5, 5, 1, 2, (3, 2, 7, 6)),
    (2, 3, 3, 2, 1, (2, 2, 9, 7)),
    (1, 30, 5, 1, 0, (4, 1, 28, 28)),
    (4, 2, (3, 2), (2, 1), (0, 1), (2, 4, 9, 5)),
    (3, 3, 2, 2, 0, (2, 3, 6, 8)),
], ids=["s1p0", "s1p1", "k5p2", "s2p1", "mnist", "non-square", "2x2-s2"])
def test_conv2d_matches_torch(c, f, kernel, stride, padding, shape):
    rng = np.random.default_rng(0)
    conv = Conv2D(c, f, kernel, stride=stride, padding=padding, rng=1)
    conv.params["b"][:] = rng.standard_normal(f)
    x = rng.standard_normal(shape)
    out = conv.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = conv.backward(dout)

    tx, tw, tb = t64(x, True), t64(conv.params["W"], True), t64(conv.params["b"], True)
    t_out = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    t_out.backward(t64(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.grads["W"], tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.grads["b"], tb.grad.numpy(), rtol=1e-12, atol=1e-12)


# (size, stride, shape): tiling, overlapping, with gaps, non-square
POOLS = [(2, 2, (3, 4, 8, 6)), (3, 1, (2, 3, 7, 7)), (3, 2, (2, 3, 9, 7)), (2, 3, (2, 2, 8, 11)),
         ((2, 3), (2, 1), (2, 3, 6, 7))]
POOL_IDS = ["2x2", "3x3-s1", "3x3-s2", "2x2-s3", "2x3-s2x1"]


@pytest.mark.parametrize("size, stride, shape", POOLS, ids=POOL_IDS)
def test_max_pool_matches_torch(size, stride, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[0, 0, :2, :2] = 1.0              # a tie: both send the gradient to the first maximum
    pool = MaxPool2D(size, stride)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape)
    tx = t64(x, True)
    t_out = F.max_pool2d(tx, size, stride)
    t_out.backward(t64(dout))
    np.testing.assert_array_equal(out, t_out.detach().numpy())
    np.testing.assert_allclose(pool.backward(dout), tx.grad.numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("size, stride, shape", POOLS, ids=POOL_IDS)
def test_avg_pool_matches_torch(size, stride, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    pool = AvgPool2D(size, stride)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape)
    tx = t64(x, True)
    t_out = F.avg_pool2d(tx, size, stride)
    t_out.backward(t64(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(pool.backward(dout), tx.grad.numpy(), rtol=1e-13, atol=1e-14)


def test_global_avg_pool_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5, 6))
    pool = GlobalAvgPool2D()
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape)
    tx = t64(x, True)
    t_out = F.adaptive_avg_pool2d(tx, 1).flatten(1)
    t_out.backward(t64(dout))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(pool.backward(dout), tx.grad.numpy(), rtol=1e-13)


def test_conv_relu_pool_stack_matches_torch_in_float32():
    """The first block of SimpleConvNet in float32, the benchmark's dtype."""
    rng = np.random.default_rng(0)
    x = rng.random((8, 1, 28, 28), dtype=np.float32)
    conv, pool = Conv2D(1, 30, 5, rng=1, dtype=np.float32), MaxPool2D(2)
    out = pool.forward(np.maximum(conv.forward(x), 0))
    tx, tw = torch.tensor(x), torch.tensor(conv.params["W"], requires_grad=True)
    t_out = F.max_pool2d(F.relu(F.conv2d(tx, tw)), 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-5, atol=1e-6)
