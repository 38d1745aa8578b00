"""Every layer's backward pass against numerical gradients (float64, relative error < 1e-7)."""
import warnings

import numpy as np
import pytest

from scratchdl import layers as L
from scratchdl.gradients import gradient_check, numerical_gradient, rel_error

TOL = 1e-7


def away_from_zero(shape, rng):
    """Inputs with |x| >= 0.1, so no entry sits on ReLU's kink during the check."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (np.abs(x) + 0.1)


@pytest.mark.parametrize("make_layer, shape", [
    (lambda: L.Affine(6, 4, init="xavier", rng=1), (5, 6)),
    (lambda: L.ReLU(), (4, 7)),
    (lambda: L.LeakyReLU(0.1), (4, 7)),
    (lambda: L.Sigmoid(), (4, 7)),
    (lambda: L.Tanh(), (4, 7)),
    (lambda: L.Flatten(), (3, 2, 4, 4)),
    (lambda: L.BatchNorm(5), (8, 5)),
    (lambda: L.BatchNorm(3), (4, 3, 5, 5)),
], ids=["affine", "relu", "leaky_relu", "sigmoid", "tanh", "flatten", "batchnorm", "batchnorm_4d"])
def test_gradient_check(make_layer, shape):
    rng = np.random.default_rng(0)
    layer = make_layer()
    if isinstance(layer, L.BatchNorm):   # non-trivial gamma and beta make the check stronger
        layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.n_features)
        layer.params["beta"][:] = rng.standard_normal(layer.n_features)
    errors = gradient_check(layer, away_from_zero(shape, rng), rng=rng)
    assert set(errors) == {"x", *layer.params}
    for name, err in errors.items():
        assert err < TOL, f"{name}: relative error {err:.2e}"


def test_dropout_gradient_with_fixed_mask():
    rng = np.random.default_rng(0)
    layer = L.Dropout(rate=0.4)
    layer.fixed_mask = rng.random((6, 5)) >= 0.4
    errors = gradient_check(layer, rng.standard_normal((6, 5)), rng=rng)
    assert errors["x"] < TOL


def test_dropout_is_inverted():
    layer = L.Dropout(rate=0.5, rng=0)
    x = np.ones((2000, 50))
    y = layer.forward(x, train=True)
    assert set(np.unique(y)) == {0.0, 2.0}
    assert y.mean() == pytest.approx(1.0, abs=0.01)
    np.testing.assert_array_equal(layer.forward(x, train=False), x)


def test_softmax_cross_entropy_gradient():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 4))
    for t in (np.array([0, 3, 1, 2, 2, 0]), np.eye(4)[[1, 1, 0, 3, 2, 2]]):
        layer = L.SoftmaxCrossEntropy()
        layer.forward(logits, t)
        analytic = layer.backward()
        numeric = numerical_gradient(lambda: layer.forward(logits, t), logits)
        assert rel_error(analytic, numeric) < TOL


def test_softmax_cross_entropy_extreme_logits():
    layer = L.SoftmaxCrossEntropy()
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = layer.forward(logits, np.array([1, 2]))
        dx = layer.backward()
    assert loss == pytest.approx(2000.0 / 2)
    assert np.all(np.isfinite(dx))


def test_batchnorm_normalizes_and_keeps_running_stats():
    rng = np.random.default_rng(0)
    layer = L.BatchNorm(3, momentum=0.0)
    x = rng.normal(5.0, 3.0, (500, 3))
    y = layer.forward(x, train=True)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), 1, atol=1e-4)
    np.testing.assert_allclose(layer.running_mean, x.mean(axis=0))
    np.testing.assert_allclose(layer.forward(x, train=False), y, atol=1e-4)


def test_backward_leaves_dout_alone():
    rng = np.random.default_rng(0)
    for layer in (L.Affine(3, 2), L.ReLU(), L.Sigmoid(), L.Tanh(), L.BatchNorm(2)):
        x = rng.standard_normal((4, 3 if isinstance(layer, L.Affine) else 2))
        out = layer.forward(x)
        dout = rng.standard_normal(out.shape)
        before = dout.copy()
        layer.backward(dout)
        np.testing.assert_array_equal(dout, before)


def test_wrong_shapes_name_expected_and_received():
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 784\), got \(32, 28, 28\)"):
        L.Affine(784, 10).forward(np.zeros((32, 28, 28)))
    with pytest.raises(ValueError, match=r"\(N, 4\).*got \(2, 3\)"):
        L.BatchNorm(4).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="rate"):
        L.Dropout(rate=1.0)
    with pytest.raises(ValueError, match="relu"):
        L.layer_from_name("swish")


def test_affine_float32_stays_float32():
    layer = L.Affine(4, 3, rng=0, dtype=np.float32)
    y = layer.forward(np.ones((2, 4)))
    assert y.dtype == np.float32
    assert layer.backward(np.ones((2, 3), dtype=np.float32)).dtype == np.float32


def test_affine_can_skip_the_input_gradient():
    rng = np.random.default_rng(0)
    layer = L.Affine(4, 3, rng=0)
    x, dout = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    dW = layer.grads["W"].copy()
    layer.forward(x)
    assert layer.backward(dout, input_grad=False) is None
    np.testing.assert_array_equal(layer.grads["W"], dW)
    assert dx.shape == x.shape
