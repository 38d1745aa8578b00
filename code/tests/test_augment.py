"""Random shifts and rotations: exact on known cases, reproducible, shape-preserving."""
import numpy as np
import pytest

from scratchdl.augment import augmented_batches, random_rotation, random_shift, rotate


def images(n=5, c=2, h=7, w=6, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w))


def test_shift_moves_whole_pixels_and_fills_zeros():
    x = images()
    out = random_shift(x, max_shift=2, rng=0)
    assert out.shape == x.shape and out.dtype == x.dtype
    for i in range(len(x)):     # each image equals the original moved by some (dy, dx)
        found = False
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                moved = np.zeros_like(x[i])
                src = x[i, :, max(0, -dy):7 - max(0, dy), max(0, -dx):6 - max(0, dx)]
                moved[:, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
                found |= np.array_equal(out[i], moved)
        assert found
    np.testing.assert_array_equal(random_shift(x, 0, rng=0), x)
    np.testing.assert_array_equal(random_shift(x, 2, rng=3), random_shift(x, 2, rng=3))


def test_rotation_by_zero_and_by_quarter_turns_is_exact():
    x = images(h=6, w=6)
    np.testing.assert_allclose(rotate(x, np.zeros(5)), x, atol=1e-12)
    # a quarter turn of a square image maps pixel centres onto pixel centres
    np.testing.assert_allclose(rotate(x, np.full(5, np.pi / 2)), np.rot90(x, 1, axes=(2, 3)), atol=1e-12)
    np.testing.assert_allclose(rotate(x, np.full(5, np.pi)), x[:, :, ::-1, ::-1], atol=1e-12)


def test_rotation_keeps_the_centre_and_zeros_outside():
    x = np.zeros((1, 1, 9, 9))
    x[0, 0, 4, 4] = 1.0
    for angle in (0.3, 1.0, 2.5):
        np.testing.assert_allclose(rotate(x, [angle])[0, 0, 4, 4], 1.0)
    ones = np.ones((1, 1, 9, 9))
    turned = rotate(ones, [np.pi / 4])
    assert turned[0, 0, 0, 0] == 0.0 and turned[0, 0, 4, 4] == pytest.approx(1.0)
    assert 0.0 <= turned.min() and turned.max() <= 1.0 + 1e-12
    out = random_rotation(images(), 10, rng=1)
    assert out.shape == (5, 2, 7, 6)


def test_bad_input():
    with pytest.raises(ValueError, match="4-D"):
        random_shift(np.zeros((28, 28)), 2)
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(images(), -1)
    with pytest.raises(ValueError, match="floating"):
        random_rotation(np.zeros((1, 1, 3, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="one angle per image"):
        rotate(images(), [0.1, 0.2])


def test_augmented_batches_as_a_trainer_source():
    x = images(n=10)
    y = np.arange(10)
    source = augmented_batches(batch_size=4, max_shift=1, max_degrees=5)
    batches = list(source(x, y, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in batches])) == list(range(10))
    again = list(source(x, y, np.random.default_rng(0)))
    for (a, _), (b, _) in zip(batches, again):
        np.testing.assert_array_equal(a, b)
