"""The same computations in PyTorch, an independent implementation (skipped without torch).

PyTorch is never a dependency of the book; install torch==2.13.0 (CPU) to run these.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scratchdl import layers as L  # noqa: E402
from scratchdl import optimizers as O  # noqa: E402
from scratchdl.graph import Tensor  # noqa: E402
from scratchdl.losses import SoftmaxCrossEntropy  # noqa: E402


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def test_affine_relu_softmax_cross_entropy_gradients():
    rng = np.random.default_rng(0)
    x, labels = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    fc1, relu, fc2, loss_layer = L.Affine(5, 4, rng=1), L.ReLU(), L.Affine(4, 3, rng=2), SoftmaxCrossEntropy()
    loss = loss_layer.forward(fc2.forward(relu.forward(fc1.forward(x))), labels)
    dx = fc1.backward(relu.backward(fc2.backward(loss_layer.backward())))

    tx, w1, b1 = t64(x, True), t64(fc1.params["W"], True), t64(fc1.params["b"], True)
    w2, b2 = t64(fc2.params["W"], True), t64(fc2.params["b"], True)
    t_loss = torch.nn.functional.cross_entropy(torch.relu(tx @ w1 + b1) @ w2 + b2, torch.tensor(labels))
    t_loss.backward()
    assert loss == pytest.approx(t_loss.item(), rel=1e-12)
    for ours, theirs in [(dx, tx), (fc1.grads["W"], w1), (fc1.grads["b"], b1), (fc2.grads["W"], w2), (fc2.grads["b"], b2)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_batchnorm_training_forward_and_backward():
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((16, 6)) * 3 + 1, rng.standard_normal((16, 6))
    bn = L.BatchNorm(6, eps=1e-5)
    y = bn.forward(x, train=True)
    dx = bn.backward(dout)
    tx = t64(x, True)
    t_bn = torch.nn.BatchNorm1d(6, eps=1e-5, dtype=torch.float64)
    t_y = t_bn(tx)
    t_y.backward(t64(dout))
    np.testing.assert_allclose(y, t_y.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn.grads["gamma"], t_bn.weight.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("ours, theirs", [
    (lambda: O.SGD(learning_rate=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda: O.Nesterov(learning_rate=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    (lambda: O.RMSprop(learning_rate=0.01, decay_rate=0.99, eps=1e-8),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.99, eps=1e-8)),
    (lambda: O.Adam(learning_rate=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
], ids=["sgd", "nesterov", "rmsprop", "adam"])
def test_optimizer_trajectories(ours, theirs):
    """Ten steps on f(p) = sum(a * p^2): the same iterates (Momentum and AdaGrad use
    different but equivalent conventions in PyTorch, so they are checked by hand elsewhere)."""
    a = np.array([0.5, 2.0, 4.0])
    p = np.array([1.0, -1.0, 0.5])
    tp = t64(p.copy(), True)
    optimizer, t_optimizer = ours(), theirs([tp])
    for _ in range(10):
        optimizer.step({"p": p}, {"p": 2 * a * p})
        t_optimizer.zero_grad()
        (t64(a) * tp ** 2).sum().backward()
        t_optimizer.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_autograd_tensor_matches_torch():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    tx, tw = Tensor(x), Tensor(w)
    out = ((tx @ tw).relu() * tx.sum()).sum()
    out.backward()
    px, pw = t64(x, True), t64(w, True)
    (torch.relu(px @ pw) * px.sum()).sum().backward()
    np.testing.assert_allclose(tx.grad, px.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tw.grad, pw.grad.numpy(), rtol=1e-12)
