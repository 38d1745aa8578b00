import numpy as np
import pytest

from scratchdl import initializers as I


@pytest.mark.parametrize("name, shape, expected_std", [
    ("xavier", (300, 100), np.sqrt(2 / 400)),
    ("he", (300, 100), np.sqrt(2 / 300)),
    ("he", (64, 16, 3, 3), np.sqrt(2 / (16 * 9))),
    ("xavier", (64, 16, 3, 3), np.sqrt(2 / (16 * 9 + 64 * 9))),
    (0.05, (300, 100), 0.05),
    ("normal", (300, 100), 0.01),
])
def test_standard_deviations(name, shape, expected_std):
    w = I.get_initializer(name)(shape, np.random.default_rng(0))
    assert w.shape == shape
    assert abs(w.mean()) < 0.05 * expected_std
    assert w.std() == pytest.approx(expected_std, rel=0.03)


def test_zeros_constant_and_seeds():
    assert not I.get_initializer("zeros")((3, 2)).any()
    np.testing.assert_array_equal(I.constant(0.5)((2, 2)), np.full((2, 2), 0.5))
    a = I.he((5, 5), 42)
    b = I.he((5, 5), np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)


def test_callable_passes_through_and_unknown_name_fails():
    def custom(shape, rng=None, dtype=np.float64):
        return np.ones(shape)
    assert I.get_initializer(custom) is custom
    with pytest.raises(ValueError, match="'he'"):
        I.get_initializer("kaiming-ish")
