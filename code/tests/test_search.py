"""Random search over log-uniform ranges."""
import math

import numpy as np
import pytest

from scratchdl.search import best_trials, narrow_ranges, random_search, sample_log_uniform


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
