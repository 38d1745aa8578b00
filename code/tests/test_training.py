"""Mini-batches and the Trainer: coverage, history, learning, and a clean stop on divergence."""
import warnings

import numpy as np
import pytest

from scratchdl.models import MLP
from scratchdl.optimizers import Adam
from scratchdl.training import DivergenceWarning, Trainer, minibatches


def blobs(n=300, classes=3, dim=2, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, dim)) * 4
    y = rng.integers(0, classes, n)
    return centers[y] + rng.standard_normal((n, dim)) * 0.5, y


@pytest.mark.parametrize("shuffle", [True, False])
def test_minibatches_cover_every_sample_once_per_epoch(shuffle):
    x = np.arange(23).reshape(23, 1) * 10
    y = np.arange(23)
    batches = list(minibatches(x, y, 5, rng=0, shuffle=shuffle))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen) == list(range(23))
    for xb, yb in batches:                  # inputs stay paired with their labels
        np.testing.assert_array_equal(xb[:, 0], yb * 10)
    assert (not shuffle) == np.array_equal(seen, np.arange(23))


def test_minibatches_shuffle_is_reproducible_and_changes_per_epoch():
    x, y = np.zeros((50, 2)), np.arange(50)
    first = [yb for _, yb in minibatches(x, y, 10, rng=np.random.default_rng(3))]
    again = [yb for _, yb in minibatches(x, y, 10, rng=np.random.default_rng(3))]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    rng = np.random.default_rng(3)
    epoch1 = np.concatenate([yb for _, yb in minibatches(x, y, 10, rng=rng)])
    epoch2 = np.concatenate([yb for _, yb in minibatches(x, y, 10, rng=rng)])
    assert not np.array_equal(epoch1, epoch2)


def test_minibatches_reject_bad_input():
    with pytest.raises(ValueError, match=r"same number of samples.*\(10, 2\).*\(9,\)"):
        list(minibatches(np.zeros((10, 2)), np.zeros(9), 5))
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(np.zeros((10, 2)), np.zeros(10), 0))


def test_trainer_learns_and_records_history():
    x, y = blobs(600)
    test_x, test_y = blobs(200, seed=0)     # same clusters, other samples
    model = MLP([2, 16, 3], rng=0)
    trainer = Trainer(model, "sgd", batch_size=50, rng=0, progress=False, learning_rate=0.1)
    history = trainer.fit(x, y, epochs=8, eval_data=(test_x, test_y))
    assert history is trainer.history
    assert len(history["loss"]) == len(history["iteration"]) == 8 * 12
    assert history["iteration"][:3] == [1, 2, 3]
    assert history["epoch"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert len(history["train_accuracy"]) == len(history["eval_accuracy"]) == 8
    assert history["diverged"] is False
    assert history["eval_accuracy"][-1] > 0.95
    assert np.mean(history["loss"][-12:]) < np.mean(history["loss"][:12])


def test_trainer_iterations_eval_samples_log_every_and_optimizer_object():
    x, y = blobs(300)
    model = MLP([2, 8, 3], rng=0)
    trainer = Trainer(model, Adam(learning_rate=0.01), batch_size=100, progress=False)
    calls = []
    original = model.accuracy
    model.accuracy = lambda xs, ts: calls.append(len(xs)) or original(xs, ts)
    history = trainer.fit(x, np.eye(3)[y], iterations=7, eval_data=(x, y), eval_samples=40, log_every=2)
    assert history["iteration"] == [2, 4, 6]
    assert history["epoch"] == [1, 2, 2.33]        # two full epochs, then the partial end
    assert set(calls) == {40}
    with pytest.raises(ValueError, match="keyword arguments"):
        Trainer(model, Adam(), learning_rate=0.1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        Trainer(model, "adamw")


def test_trainer_rejects_mismatched_data():
    trainer = Trainer(MLP([2, 3]), progress=False)
    with pytest.raises(ValueError, match=r"\(10, 2\) and \(8,\)"):
        trainer.fit(np.zeros((10, 2)), np.zeros(8, dtype=int))
    with pytest.raises(ValueError, match=r"\(N, 2\).*\(10, 5\)"):
        trainer.fit(np.zeros((10, 5)), np.zeros(10, dtype=int))


def test_divergence_stops_with_a_clear_warning_and_no_numpy_noise():
    x, y = blobs(400, classes=3)
    # leaky ReLU cannot "die" into a flat, finite loss: the weights grow until they overflow
    model = MLP([2, 64, 64, 3], activation="leaky_relu", rng=0)
    trainer = Trainer(model, "sgd", batch_size=20, progress=False, learning_rate=100.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = trainer.fit(x, y, epochs=10)
    assert history["diverged"] is True
    assert len(history["loss"]) < 10 * 20
    assert all(np.isfinite(history["loss"]))
    assert [w.category for w in caught] == [DivergenceWarning]     # no overflow RuntimeWarnings
    message = str(caught[0].message)
    assert "training diverged at iteration" in message
    assert "smaller learning rate" in message
    assert issubclass(DivergenceWarning, RuntimeWarning)


def test_trainer_progress_bar_does_not_break(capsys):
    x, y = blobs(100)
    history = Trainer(MLP([2, 4, 3], rng=0), batch_size=50, progress=True).fit(x, y, epochs=1)
    assert len(history["loss"]) == 2
