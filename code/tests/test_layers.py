"""Every layer's backward pass against numerical gradients (float64, relative error < 1e-7)."""
import warnings

import numpy as np
import pytest

from scratchdl import layers as L
from scratchdl.losses import SoftmaxCrossEntropy
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
        layer = SoftmaxCrossEntropy()
        layer.forward(logits, t)
        analytic = layer.backward()
        numeric = numerical_gradient(lambda: layer.forward(logits, t), logits)
        assert rel_error(analytic, numeric) < TOL


def test_softmax_cross_entropy_extreme_logits():
    layer = SoftmaxCrossEntropy()
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
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 784\).*got \(32, 28, 28\): flatten"):
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


def test_batchnorm_inference_backward_uses_the_running_statistics():
    # a never-trained layer: backward in inference mode used to raise AttributeError, and
    # after training it reused the last training batch's cache (relative error about 1)
    rng = np.random.default_rng(0)
    layer = L.BatchNorm(4)
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, 4)
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, 4)
    x, dout = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    layer.forward(x, train=False)
    expected = dout * layer.params["gamma"] / np.sqrt(layer.running_var + layer.eps)
    np.testing.assert_allclose(layer.backward(dout), expected, rtol=1e-12)
    layer.forward(rng.standard_normal((6, 4)) * 3, train=True)   # a training batch, then eval again
    layer.forward(x, train=False)
    expected = dout * layer.params["gamma"] / np.sqrt(layer.running_var + layer.eps)
    np.testing.assert_allclose(layer.backward(dout), expected, rtol=1e-12)
    errors = gradient_check(layer, x, train=False)
    assert max(errors.values()) < TOL


def test_batchnorm_refuses_one_sample_per_feature_in_training():
    layer = L.BatchNorm(3)
    with pytest.raises(ValueError, match=r"at least two values per feature.*\(1, 3\)"):
        layer.forward(np.ones((1, 3)), train=True)
    with pytest.raises(ValueError, match=r"\(1, 3, 1, 1\)"):
        layer.forward(np.ones((1, 3, 1, 1)), train=True)
    assert layer.forward(np.ones((1, 3)), train=False).shape == (1, 3)   # inference is fine
    assert layer.forward(np.ones((1, 3, 2, 1)), train=True).shape == (1, 3, 2, 1)  # 2 values each


def test_backward_checks_dout_shape_with_the_layer_name():
    # these layers used to broadcast a wrong dout silently, or fail with a raw NumPy error
    rng = np.random.default_rng(0)
    for layer, x in ((L.ReLU(), rng.standard_normal((4, 3))), (L.Sigmoid(), rng.standard_normal((4, 3))),
                     (L.Tanh(), rng.standard_normal((4, 3))), (L.Dropout(0.5, rng=0), rng.standard_normal((4, 3))),
                     (L.BatchNorm(3), rng.standard_normal((4, 3))), (L.Affine(3, 2, rng=0), rng.standard_normal((4, 3))),
                     (L.Flatten(), rng.standard_normal((4, 3, 2)))):
        out = layer.forward(x)
        with pytest.raises(ValueError, match=rf"{type(layer).__name__}.*expected dout of shape {out.shape}".replace("(", r"\(").replace(")", r"\)")):
            layer.backward(np.ones((1,) + out.shape[1:]))


def test_sizes_must_be_positive_integers():
    with pytest.raises(ValueError, match="n_in to be a positive integer"):
        L.Affine(0, 3)
    with pytest.raises(ValueError, match="n_out to be a positive integer"):
        L.Affine(3, 2.5)
    with pytest.raises(ValueError, match="n_features"):
        L.BatchNorm(0)


def test_residual_exposes_inner_state_and_refuses_shape_changes():
    inner = [L.Affine(4, 4, rng=0), L.BatchNorm(4), L.ReLU()]
    block = L.Residual(inner)
    assert set(block.params) == {"0.W", "0.b", "1.gamma", "1.beta"}
    assert block.params["0.W"] is inner[0].params["W"]
    assert set(block.buffers) == {"1.running_mean", "1.running_var"}
    assert block.decay == ("0.W",)
    x = np.random.default_rng(0).standard_normal((5, 4))
    np.testing.assert_allclose(block.forward(x), x + inner[2].forward(inner[1].forward(inner[0].forward(x))))
    with pytest.raises(ValueError, match=r"\(5, 4\) to \(5, 3\)"):
        L.Residual([L.Affine(4, 3, rng=0)]).forward(x)
    with pytest.raises(ValueError, match="non-empty list of layers"):
        L.Residual([])
