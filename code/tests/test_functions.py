import warnings

import numpy as np
import pytest

from scratchdl import functions as F


def test_activation_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(F.step(x), [0, 0, 1])
    np.testing.assert_allclose(F.sigmoid(x), 1 / (1 + np.exp(-x)))
    np.testing.assert_array_equal(F.relu(x), [0, 0, 3])
    np.testing.assert_allclose(F.leaky_relu(x, 0.1), [-0.2, 0, 3])
    np.testing.assert_allclose(F.tanh(x), np.tanh(x))


@pytest.mark.parametrize("fn, grad", [(F.sigmoid, F.sigmoid_grad), (F.tanh, F.tanh_grad),
                                      (F.relu, F.relu_grad), (F.leaky_relu, F.leaky_relu_grad)])
def test_derivatives_match_central_differences(fn, grad):
    x = np.array([-2.3, -0.7, 0.4, 1.9])   # away from ReLU's kink at 0
    h = 1e-6
    np.testing.assert_allclose(grad(x), (fn(x + h) - fn(x - h)) / (2 * h), rtol=1e-6, atol=1e-9)


def test_sigmoid_has_no_overflow_for_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.sigmoid(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(y, [0.0, 1.0])


def test_softmax_stable_for_extreme_logits():
    logits = np.array([[1000.0, 1000.0, -1000.0], [-1000.0, 0.0, 1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = F.softmax(logits)
        loss = F.cross_entropy_from_logits(logits, np.array([0, 0]))
        loss_probs = F.cross_entropy(p, np.array([0, 2]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(loss, (np.log(2) + 2000.0) / 2)
    assert np.isfinite(loss_probs)


def test_cross_entropy_one_hot_and_index_labels_agree():
    rng = np.random.default_rng(0)
    y = F.softmax(rng.standard_normal((5, 4)))
    t = np.array([0, 3, 1, 1, 2])
    expected = -np.mean(np.log(y[np.arange(5), t]))
    assert F.cross_entropy(y, t) == pytest.approx(expected, rel=1e-9)
    assert F.cross_entropy(y, np.eye(4)[t]) == pytest.approx(expected, rel=1e-9)
    assert F.cross_entropy(y[0], t[0]) == pytest.approx(-np.log(y[0, 0]), rel=1e-9)


def test_mse():
    y = np.array([[0.1, 0.9], [0.8, 0.2]])
    t = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert F.mse(y, t) == pytest.approx(0.5 * (0.01 + 0.01 + 0.04 + 0.04) / 2)


def test_bad_labels_raise_clear_errors():
    with pytest.raises(ValueError, match=r"\(3,\).*got \(2,\)"):
        F.cross_entropy(np.full((3, 4), 0.25), np.array([0, 1]))
    with pytest.raises(ValueError, match="0..3"):
        F.cross_entropy(np.full((2, 4), 0.25), np.array([0, 7]))
    with pytest.raises(ValueError, match="same shape"):
        F.mse(np.zeros((2, 3)), np.zeros((3, 2)))
