"""Each optimizer's first two steps, against numbers worked out by hand from its formula.

One parameter p = 1.0 receives the gradient 0.5, then 0.25. eps is 0 so the arithmetic is exact.
"""
import numpy as np
import pytest

from scratchdl import optimizers as O

G1, G2 = 0.5, 0.25
R = np.sqrt

CASES = {
    "sgd": (O.SGD(learning_rate=0.1), [0.95, 0.925]),
    # v1 = -0.05, v2 = 0.9 * -0.05 - 0.025 = -0.07
    "momentum": (O.Momentum(learning_rate=0.1, momentum=0.9), [0.95, 0.88]),
    # p1 = 1 + 0.9 * v1 - 0.05;  p2 = p1 + 0.9 * v2 - 0.025
    "nesterov": (O.Nesterov(learning_rate=0.1, momentum=0.9), [0.905, 0.817]),
    # h1 = 0.25, h2 = 0.3125
    "adagrad": (O.AdaGrad(learning_rate=0.1, eps=0.0), [0.9, 0.9 - 0.025 / R(0.3125)]),
    # h1 = 0.1 * 0.25 = 0.025;  h2 = 0.9 * 0.025 + 0.1 * 0.0625 = 0.02875
    "rmsprop": (O.RMSprop(learning_rate=0.1, decay_rate=0.9, eps=0.0),
                [1 - 0.05 / R(0.025), 1 - 0.05 / R(0.025) - 0.025 / R(0.02875)]),
    # m1 = 0.05, v1 = 0.00025 -> m_hat = 0.5, v_hat = 0.25
    # m2 = 0.07, v2 = 0.00031225 -> m_hat = 0.07 / 0.19, v_hat = 0.00031225 / 0.001999
    "adam": (O.Adam(learning_rate=0.1, beta1=0.9, beta2=0.999, eps=0.0),
             [0.9, 0.9 - 0.1 * (0.07 / 0.19) / R(0.00031225 / 0.001999)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_two_steps_by_hand(name):
    optimizer, expected = CASES[name]
    p = np.array([1.0])
    params = {"w": p}
    for g, want in zip((G1, G2), expected):
        optimizer.step(params, {"w": np.array([g])})
        assert params["w"] is p, "step must update the array in place"
        assert p[0] == pytest.approx(want, rel=1e-12)


def test_get_optimizer_by_name_and_object():
    assert isinstance(O.get_optimizer("adam", learning_rate=0.01), O.Adam)
    sgd = O.SGD()
    assert O.get_optimizer(sgd) is sgd
    with pytest.raises(ValueError, match="adam"):
        O.get_optimizer("adamw")
    with pytest.raises(ValueError, match="learning_rate"):
        O.SGD(learning_rate=0)


def test_mismatched_grads_are_refused():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        O.SGD().step({"w": np.zeros(3)}, {"w": np.zeros(2)})
    with pytest.raises(ValueError, match="same keys"):
        O.SGD().step({"w": np.zeros(3)}, {"b": np.zeros(3)})


def test_clip_grad_norm_scales_by_the_global_norm():
    params = {"a": np.array([1.0, 1.0]), "b": np.array([[2.0]])}
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}     # global norm 5
    clipped = O.ClipGradNorm(O.SGD(learning_rate=1.0), max_norm=1.0)
    clipped.step(params, grads)
    assert clipped.last_norm == pytest.approx(5.0)
    np.testing.assert_allclose(params["a"], [1.0 - 0.6, 1.0])
    np.testing.assert_allclose(params["b"], [[2.0 - 0.8]])
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])          # the caller's arrays untouched
    small = {"a": np.array([0.3, 0.0]), "b": np.array([[0.4]])}     # norm 0.5: left alone
    clipped.step(params, small)
    np.testing.assert_allclose(params["a"], [0.4 - 0.3, 1.0])
    clipped.learning_rate = 0.5                                     # reaches the inner optimizer
    assert clipped.optimizer.learning_rate == 0.5
    with pytest.raises(ValueError, match="max_norm > 0"):
        O.ClipGradNorm("sgd", 0)


def test_clip_grad_norm_works_under_a_schedule():
    from scratchdl.schedules import Scheduled, step_decay

    opt = Scheduled(O.ClipGradNorm(O.SGD(), max_norm=10.0), step_decay(0.1, drop=0.5, every=1))
    p = {"w": np.array([1.0])}
    opt.step(p, {"w": np.array([1.0])})
    opt.step(p, {"w": np.array([1.0])})
    assert p["w"][0] == pytest.approx(1.0 - 0.1 - 0.05)
