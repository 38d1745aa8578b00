"""Learning-rate schedules: hand-computed values, arrays, bad input, and Scheduled optimizers."""
import numpy as np
import pytest

from scratchdl.optimizers import SGD, Adam, Momentum
from scratchdl.schedules import Scheduled, constant, cosine_decay, exponential_decay, step_decay


def test_step_decay_hand_values():
    schedule = step_decay(0.1, drop=0.5, every=500)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(499) == pytest.approx(0.1)
    assert schedule(500) == pytest.approx(0.05)
    assert schedule(1499) == pytest.approx(0.025)
    assert schedule(1500) == pytest.approx(0.0125)
    assert isinstance(schedule(3), float)


def test_schedules_accept_arrays():
    t = np.arange(2000)
    for schedule in (constant(0.1), step_decay(0.1, 0.5, 500), exponential_decay(0.1, 0.5, 500),
                     cosine_decay(0.1, 2000)):
        values = schedule(t)
        assert values.shape == (2000,)
        np.testing.assert_allclose(values[[0, 700]], [schedule(0), schedule(700)])
        assert np.all(np.diff(values) <= 1e-15), f"{schedule!r} should never increase"


def test_exponential_and_cosine_hand_values():
    assert exponential_decay(0.2, rate=0.5, every=100)(100) == pytest.approx(0.1)
    assert exponential_decay(0.2, rate=0.5, every=100)(50) == pytest.approx(0.2 / np.sqrt(2))
    cosine = cosine_decay(0.1, total=100, final=0.01)
    assert cosine(0) == pytest.approx(0.1)
    assert cosine(50) == pytest.approx(0.055)
    assert cosine(100) == pytest.approx(0.01)
    assert cosine(1000) == pytest.approx(0.01)


@pytest.mark.parametrize("make", [
    lambda: step_decay(0.0, 0.5, 10), lambda: step_decay(0.1, 1.5, 10), lambda: step_decay(0.1, 0.5, 0),
    lambda: step_decay(0.1, 0.5, 2.5), lambda: constant(-1), lambda: constant(float("nan")),
    lambda: exponential_decay(0.1, 2.0), lambda: cosine_decay(0.1, 0), lambda: cosine_decay(0.1, 10, 0.5),
])
def test_bad_arguments_raise(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("iteration", [-1, "3", np.array([1, -2])])
def test_bad_iterations_raise(iteration):
    with pytest.raises(ValueError, match="iteration"):
        step_decay(0.1, 0.5, 10)(iteration)


def test_scheduled_sgd_uses_the_schedule_for_each_step():
    # f(p) = p^2 / 2 has gradient p: each SGD step multiplies p by (1 - lr_t)
    optimizer = Scheduled(SGD(), step_decay(0.5, drop=0.5, every=2))
    p = np.array([1.0])
    expected = 1.0
    for t in range(6):
        optimizer.step({"p": p}, {"p": p.copy()})
        expected *= 1 - 0.5 * 0.5 ** (t // 2)
        assert p[0] == pytest.approx(expected)
        assert optimizer.learning_rate == pytest.approx(0.5 * 0.5 ** (t // 2))
    assert optimizer.iterations == 6 and optimizer.optimizer.iterations == 6


def test_scheduled_keeps_the_inner_state():
    # Momentum with a constant schedule must equal plain Momentum, step for step
    plain, scheduled = Momentum(0.1, 0.9), Scheduled(Momentum(0.1, 0.9), constant(0.1))
    a, b = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    for _ in range(5):
        plain.step({"w": a}, {"w": 2 * a})
        scheduled.step({"w": b}, {"w": 2 * b})
    np.testing.assert_allclose(a, b)


def test_scheduled_adam_bias_correction_counts_steps():
    plain, scheduled = Adam(0.01), Scheduled("adam", constant(0.01))
    a, b = np.array([0.5]), np.array([0.5])
    for _ in range(3):
        plain.step({"w": a}, {"w": a ** 3})
        scheduled.step({"w": b}, {"w": b ** 3})
    np.testing.assert_allclose(a, b)


def test_scheduled_rejects_bad_schedules():
    with pytest.raises(ValueError, match="callable"):
        Scheduled(SGD(), 0.1)
    with pytest.raises(ValueError, match="learning rate"):
        Scheduled(SGD(), lambda t: -1.0)


def test_scheduled_allows_a_zero_rate_at_the_end():
    optimizer = Scheduled(SGD(), cosine_decay(0.1, total=2))
    p = np.array([1.0])
    for _ in range(4):
        optimizer.step({"p": p}, {"p": np.ones(1)})
    assert p[0] == pytest.approx(1.0 - 0.1 - 0.05)


def test_scheduled_works_in_the_trainer():
    from scratchdl.models import MLP
    from scratchdl.training import Trainer
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4))
    y = (x[:, 0] > 0).astype(int)
    schedule = step_decay(0.1, drop=0.1, every=4)
    trainer = Trainer(MLP([4, 8, 2], rng=0), Scheduled(SGD(), schedule), batch_size=16, progress=False)
    trainer.fit(x, y, iterations=8)
    assert trainer.optimizer.learning_rate == pytest.approx(0.01)
    assert len(trainer.history["loss"]) == 8
