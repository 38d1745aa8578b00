"""Random search for hyperparameters (Bergstra & Bengio, 2012).

``random_search`` tries settings drawn log-uniformly from ranges and records a score for
each (validation accuracy, say); ``best_trials`` ranks them and ``narrow_ranges`` shrinks the
ranges around the best ones for the next, finer round.
"""
import math


from .utils import as_rng, check_positive_int


def _check_ranges(ranges):
    if not isinstance(ranges, dict) or not ranges:
        raise ValueError(f"expected ranges as a dict name -> (low, high), got {ranges!r}")
    for name, bounds in ranges.items():
        ok = isinstance(bounds, (tuple, list)) and len(bounds) == 2 and 0 < bounds[0] <= bounds[1]
        if not ok:
            raise ValueError(f"range for {name!r} must be (low, high) with 0 < low <= high "
                             f"(sampled log-uniformly), got {bounds!r}")
    return {name: (float(lo), float(hi)) for name, (lo, hi) in ranges.items()}


def sample_log_uniform(ranges, n, rng=0):
    """Draw n values per name, uniformly in log10 between low and high.

    ranges: {"learning_rate": (1e-6, 1e-2), ...}. Returns {name: (n,) array}.
    """
    ranges = _check_ranges(ranges)
    rng = as_rng(rng)
    return {name: 10.0 ** rng.uniform(math.log10(lo), math.log10(hi), size=n)
            for name, (lo, hi) in ranges.items()}


def random_search(objective, ranges, n_trials, rng=0):
    """Random search (Bergstra & Bengio, 2012): try n_trials random settings, record the score.

    objective: called as objective(**params) for each trial, returns a float score (higher is
    better, e.g. validation accuracy; NaN for a failed run). ranges: {name: (low, high)},
    sampled log-uniformly. Returns a list of dicts {name: value, ..., "score": score} in trial
    order.
    """
    n_trials = check_positive_int(n_trials, "n_trials", "random_search")
    samples = sample_log_uniform(ranges, n_trials, rng)
    results = []
    for i in range(n_trials):
        params = {name: float(values[i]) for name, values in samples.items()}
        results.append({**params, "score": float(objective(**params))})
    return results


def best_trials(results, k=5):
    """The k trials with the highest score (NaN scores last), best first."""
    def key(r):
        s = r["score"]
        return -math.inf if math.isnan(s) else s
    return sorted(results, key=key, reverse=True)[:k]


def narrow_ranges(results, k=5, names=None):
    """New (low, high) ranges spanning the k best trials: the next, narrower round of search.

    names: the parameters to narrow (default: every key except "score").
    Returns {name: (min over the k best, max over the k best)}.
    """
    top = best_trials(results, k)
    if not top:
        raise ValueError("narrow_ranges expected at least one trial")
    names = names or [n for n in top[0] if n != "score"]
    return {name: (min(r[name] for r in top), max(r[name] for r in top)) for name in names}
