"""Validation splits."""
import numpy as np
import pytest

from scratchdl.validation import split_validation


def test_split_validation():
    x = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    (tx, ty), (vx, vy) = split_validation(x, y, 0.3, rng=0)
    assert tx.shape == (7, 2) and vx.shape == (3, 2)
    assert sorted(np.concatenate([ty, vy]).tolist()) == list(range(10))
    np.testing.assert_array_equal(tx[:, 0] // 2, ty)
    with pytest.raises(ValueError, match="same number"):
        split_validation(x, y[:5])
    with pytest.raises(ValueError, match="fraction"):
        split_validation(x, y, 1.5)
