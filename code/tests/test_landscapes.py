import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from scratchdl import landscapes  # noqa: E402


@pytest.mark.parametrize("surface", [landscapes.bowl, landscapes.elongated_bowl])
def test_gradients_match_central_differences(surface):
    h = 1e-6
    for x, y in [(-7.0, 2.0), (0.3, -1.2)]:
        gx, gy = surface.grad(x, y)
        assert gx == pytest.approx((surface(x + h, y) - surface(x - h, y)) / (2 * h), rel=1e-6)
        assert gy == pytest.approx((surface(x, y + h) - surface(x, y - h)) / (2 * h), rel=1e-6)


def test_sgd_steps_by_hand_on_the_bowl():
    path = landscapes.descend(landscapes.bowl, "sgd", start=(1.0, -2.0), steps=2, learning_rate=0.1)
    # each step multiplies the point by 1 - 2 * 0.1 = 0.8
    np.testing.assert_allclose(path.points, [[1, -2], [0.8, -1.6], [0.64, -1.28]])
    np.testing.assert_allclose(path.values, (path.points ** 2).sum(axis=1))
    assert not path.diverged


def test_large_learning_rate_diverges_without_warnings():
    with np.errstate(all="raise"):
        path = landscapes.descend(landscapes.elongated_bowl, "sgd", steps=200, learning_rate=1.5)
    assert path.diverged
    assert np.all(np.isfinite(path.points))
    assert len(path.points) < 201


def test_adam_reaches_the_minimum():
    path = landscapes.descend(landscapes.elongated_bowl, "adam", steps=300, learning_rate=0.3)
    assert path.values[-1] < 1e-2


def test_bad_start_and_drawing():
    with pytest.raises(ValueError, match="start"):
        landscapes.descend(landscapes.bowl, start=(1.0, 2.0, 3.0))
    fig, ax = plt.subplots()
    landscapes.draw_contours(ax, landscapes.elongated_bowl)
    path = landscapes.descend(landscapes.elongated_bowl, "sgd", steps=50, learning_rate=1.5)
    landscapes.draw_path(ax, path, label="sgd")
    assert any(t.get_text() == "diverged" for t in ax.texts)
    plt.close(fig)


def test_slowly_growing_oscillation_counts_as_diverged():
    # on x^2 + y^2 each SGD step multiplies the point by 1 - 2 * 1.05 = -1.1: it never gets far
    # within 50 steps (1.1^50 ~ 117), but it is moving away from the minimum
    path = landscapes.descend(landscapes.bowl, "sgd", start=(1.0, 1.0), steps=50, learning_rate=1.05)
    assert path.diverged
    assert not landscapes.descend(landscapes.bowl, "sgd", start=(1.0, 1.0), steps=50, learning_rate=0.95).diverged
