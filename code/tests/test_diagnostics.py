import math

import numpy as np
import pytest

from scratchdl.diagnostics import (best_trials, narrow_ranges, probe_deep_net, random_search,
                                   sample_log_uniform, split_validation)
from scratchdl.gradients import numerical_gradient, rel_error


def test_probe_shapes_and_determinism():
    x = np.random.default_rng(1).standard_normal((50, 20))
    a = probe_deep_net(x, depth=4, width=30, activation="tanh", init="xavier", rng=3)
    b = probe_deep_net(x, depth=4, width=30, activation="tanh", init="xavier", rng=3)
    assert len(a["activations"]) == 4 and a["activations"][0].shape == (50, 30)
    assert a["weights"][0].shape == (20, 30) and a["weights"][1].shape == (30, 30)
    assert a["weight_gradient_norms"].shape == (4,)
    for u, v in zip(a["activations"], b["activations"]):
        np.testing.assert_array_equal(u, v)


def test_probe_reproduces_saito_observations():
    x = np.random.default_rng(0).standard_normal((1000, 100))
    big = probe_deep_net(x, activation="sigmoid", init=1.0)["activations"][-1]
    small = probe_deep_net(x, activation="sigmoid", init=0.01)["activations"][-1]
    # std 1: saturated near 0 and 1; std 0.01: everything near 0.5
    assert np.mean((big < 0.05) | (big > 0.95)) > 0.5
    assert np.std(small) < 0.05 and abs(np.mean(small) - 0.5) < 0.02
    relu_small = probe_deep_net(x, activation="relu", init=0.01)["activations"][-1]
    relu_he = probe_deep_net(x, activation="relu", init="he")["activations"][-1]
    assert np.std(relu_small) < 1e-5 < 0.1 < np.std(relu_he)


def test_probe_weight_gradients_match_numerical():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    upstream = rng.standard_normal((6, 5))
    result = probe_deep_net(x, depth=3, width=5, activation="tanh", init="xavier", rng=7,
                            upstream=upstream)
    weights = result["weights"]

    def loss():
        a = x
        for W in weights:
            a = np.tanh(a @ W)
        return float(np.sum(a * upstream))

    for i, W in enumerate(weights):
        numeric = numerical_gradient(loss, W, h=1e-6)
        assert abs(np.linalg.norm(numeric) - result["weight_gradient_norms"][i]) \
            <= 1e-7 * max(1.0, np.linalg.norm(numeric))


def test_probe_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        probe_deep_net(np.zeros(10))
    with pytest.raises(ValueError, match="depth"):
        probe_deep_net(np.zeros((2, 3)), depth=0)
    with pytest.raises(ValueError, match="activation"):
        probe_deep_net(np.zeros((2, 3)), activation="softplus")


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


def test_log_uniform_sampling_in_range():
    s = sample_log_uniform({"lr": (1e-6, 1e-2)}, 2000, rng=0)["lr"]
    assert s.min() >= 1e-6 and s.max() <= 1e-2
    # log-uniform: about a quarter of the samples in each of the four decades
    counts = np.histogram(np.log10(s), bins=4, range=(-6, -2))[0]
    assert np.all(np.abs(counts - 500) < 80)
    with pytest.raises(ValueError, match="low <= high"):
        sample_log_uniform({"lr": (0.0, 1.0)}, 3)


def test_random_search_and_narrowing():
    def objective(learning_rate, weight_decay):
        return -abs(math.log10(learning_rate) + 3) - 0.1 * abs(math.log10(weight_decay) + 6)

    ranges = {"learning_rate": (1e-6, 1e-1), "weight_decay": (1e-8, 1e-4)}
    results = random_search(objective, ranges, 60, rng=0)
    assert len(results) == 60 and set(results[0]) == {"learning_rate", "weight_decay", "score"}
    assert results == random_search(objective, ranges, 60, rng=0)
    top = best_trials(results, 5)
    assert top[0]["score"] == max(r["score"] for r in results)
    narrowed = narrow_ranges(results, 5)
    lo, hi = narrowed["learning_rate"]
    assert 1e-6 <= lo <= 1e-3 <= hi <= 1e-1 and hi / lo < 1e5 / 10


def test_best_trials_puts_nan_last():
    results = [{"a": 1.0, "score": float("nan")}, {"a": 2.0, "score": 0.5}]
    assert best_trials(results, 1)[0]["a"] == 2.0


def test_random_search_bad_trials():
    with pytest.raises(ValueError, match="n_trials"):
        random_search(lambda a: 0.0, {"a": (1e-3, 1.0)}, 0)
