"""The shop-receipt nodes against hand-computed values; the autograd Tensor against numerical
gradients and against the layer-by-layer backward pass of scratchdl.layers."""
import numpy as np
import pytest

from scratchdl.gradients import numerical_gradient, rel_error
from scratchdl.graph import AddNode, MulNode, Tensor, _unbroadcast
from scratchdl.layers import Affine, ReLU
from scratchdl.losses import SoftmaxCrossEntropy

TOL = 1e-7


def test_apple_receipt():
    # Saito's example: 2 apples at 100 each, tax 1.1
    apples, total = MulNode(), MulNode()
    subtotal = apples.forward(100.0, 2.0)
    price = total.forward(subtotal, 1.1)
    assert price == pytest.approx(220.0)
    d_subtotal, d_tax = total.backward(1.0)
    d_apple_price, d_count = apples.backward(d_subtotal)
    assert (d_apple_price, d_count, d_tax) == pytest.approx((2.2, 110.0, 200.0))


def test_apples_and_oranges_receipt():
    mul_apple, mul_orange, add, mul_tax = MulNode(), MulNode(), AddNode(), MulNode()
    fruit = add.forward(mul_apple.forward(100.0, 2.0), mul_orange.forward(150.0, 3.0))
    assert mul_tax.forward(fruit, 1.1) == pytest.approx(715.0)
    d_fruit, d_tax = mul_tax.backward(1.0)
    d_apples, d_oranges = add.backward(d_fruit)
    assert mul_apple.backward(d_apples) == pytest.approx((2.2, 110.0))
    assert mul_orange.backward(d_oranges) == pytest.approx((3.3, 165.0))
    assert d_tax == pytest.approx(650.0)


def test_unbroadcast_sums_the_stretched_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_allclose(_unbroadcast(g, (4,)), g.sum(axis=(0, 1)))
    np.testing.assert_allclose(_unbroadcast(g, (3, 1)), g.sum(axis=(0, 2))[:, None])
    np.testing.assert_allclose(_unbroadcast(g, ()), g.sum())


def check_against_numerical(build, arrays):
    """build(*tensors) -> scalar Tensor; compare every input's .grad with numerical gradients."""
    tensors = [Tensor(a) for a in arrays]
    build(*tensors).backward()
    for tensor in tensors:
        numeric = numerical_gradient(lambda: float(build(*[Tensor(t.data) for t in tensors]).data), tensor.data)
        assert rel_error(tensor.grad, numeric) < TOL


def away_from_zero(shape, rng):
    x = rng.standard_normal(shape)
    return np.sign(x) * (np.abs(x) + 0.1)


@pytest.mark.parametrize("build, shapes", [
    (lambda a, b: (a + b).sum(), [(3, 4), (4,)]),
    (lambda a, b: (a * b * a).sum(), [(3, 4), (3, 1)]),
    (lambda a, b: (a - b).mean(), [(2, 3), ()]),
    (lambda a, b: ((a @ b).relu() * (a @ b)).sum(), [(5, 3), (3, 4)]),
    (lambda a, b: (-(a * 2.0) + 3.0 * b).relu().sum(), [(4,), (4,)]),
], ids=["add-broadcast", "mul-reuse", "sub-mean", "matmul-relu", "scalars"])
def test_operations_against_numerical_gradients(build, shapes):
    rng = np.random.default_rng(0)
    check_against_numerical(build, [away_from_zero(s, rng) for s in shapes])


def test_cross_entropy_against_numerical_gradient():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, size=6)
    check_against_numerical(lambda z: z.cross_entropy(labels), [rng.standard_normal((6, 4))])


def test_two_layer_net_matches_the_layers():
    rng = np.random.default_rng(2)
    x, labels = rng.standard_normal((8, 5)), rng.integers(0, 3, size=8)
    affine1, relu, affine2, loss_layer = Affine(5, 7, rng=3), ReLU(), Affine(7, 3, rng=4), SoftmaxCrossEntropy()
    loss = loss_layer.forward(affine2.forward(relu.forward(affine1.forward(x))), labels)
    affine1.backward(relu.backward(affine2.backward(loss_layer.backward())))

    W1, b1 = Tensor(affine1.params["W"]), Tensor(affine1.params["b"])
    W2, b2 = Tensor(affine2.params["W"]), Tensor(affine2.params["b"])
    tensor_loss = ((Tensor(x) @ W1 + b1).relu() @ W2 + b2).cross_entropy(labels)
    tensor_loss.backward()
    assert float(tensor_loss.data) == pytest.approx(loss, rel=1e-12)
    for tensor, grad in [(W1, affine1.grads["W"]), (b1, affine1.grads["b"]),
                         (W2, affine2.grads["W"]), (b2, affine2.grads["b"])]:
        assert rel_error(tensor.grad, grad) < 1e-12


def test_a_reused_tensor_collects_both_gradients():
    a = Tensor(3.0)
    (a * a + a).backward()        # d/da (a^2 + a) = 2a + 1
    assert float(a.grad) == pytest.approx(7.0)


def test_topological_order_puts_parents_first():
    a, b = Tensor(1.0, name="a"), Tensor(2.0, name="b")
    c = a * b
    d = c + a
    loss = (d * c).sum()
    order = loss.topological_order()
    assert order[-1] is loss
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        assert all(position[id(p)] < position[id(t)] for p in t.parents)
    assert len(order) == len({id(t) for t in order})


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = Tensor(1.0)
    y = x
    for _ in range(5000):
        y = y + 0.0
    y.backward()
    assert float(x.grad) == 1.0


def test_gradients_accumulate_until_zero_grad():
    w = Tensor([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward()
    loss.backward()
    np.testing.assert_allclose(w.grad, [4.0, 8.0])   # 2 * (2w)
    loss.zero_grad()
    np.testing.assert_allclose(w.grad, [0.0, 0.0])


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="scalar"):
        Tensor(np.ones(3)).backward()
    with pytest.raises(ValueError, match=r"\(N, D\) and \(D, M\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="logits of shape"):
        Tensor(np.ones(3)).cross_entropy([0])
