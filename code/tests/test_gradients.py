import numpy as np
import pytest

from scratchdl.gradients import numerical_derivative, numerical_gradient, rel_error


def test_numerical_derivative_of_a_polynomial():
    assert numerical_derivative(lambda x: x ** 3, 2.0) == pytest.approx(12.0, rel=1e-7)


def test_numerical_gradient_restores_input_and_is_right():
    x = np.array([[3.0, 4.0], [-1.0, 0.5]])
    before = x.copy()
    g = numerical_gradient(lambda: np.sum(x ** 2), x)
    np.testing.assert_allclose(g, 2 * before, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_integer_arrays():
    with pytest.raises(ValueError, match="float ndarray"):
        numerical_gradient(lambda: 0.0, np.array([1, 2]))


def test_rel_error():
    a = np.array([1.0, 2.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(a, -a) == pytest.approx(1.0)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_gradient_check_of_a_badly_scaled_batchnorm_stays_below_1e_7():
    """The chapter-6 input: features on scales 0.1, 3 and 40 around a mean of 5."""
    from scratchdl.gradients import gradient_check
    from scratchdl.layers import BatchNorm

    x = np.random.default_rng(0).normal(loc=5.0, scale=[0.1, 3.0, 40.0], size=(8, 3))
    errors = gradient_check(BatchNorm(3), x, rng=1)
    assert max(errors.values()) < 1e-7
