"""Mini-batches and the Trainer: coverage, history, learning, and a clean stop on divergence."""
import warnings

import numpy as np
import pytest

from scratchdl.models import MLP
from scratchdl.optimizers import SGD, Adam, ClipGradNorm
from scratchdl.training import DivergenceWarning, SequenceBatches, Trainer, minibatches


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
    original = model.evaluate
    model.evaluate = lambda xs, ts, metrics: calls.append(len(xs)) or original(xs, ts, metrics)
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
    with pytest.raises(ValueError, match=r"\(10, 2\) and t of shape \(8,\)"):
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


def test_divergence_with_a_finite_loss_is_detected():
    # learning rate 1e6: log-softmax keeps the loss finite (about 1e31), which used to pass
    x, y = blobs(200)
    trainer = Trainer(MLP([2, 16, 3], rng=0), "sgd", batch_size=20, progress=False, learning_rate=1e6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = trainer.fit(x, y, epochs=3)
    assert history["diverged"] is True
    assert [w.category for w in caught] == [DivergenceWarning]
    assert "times its start" in str(caught[0].message)
    assert len(history["loss"]) < 5


def test_nan_in_the_data_is_reported_as_bad_data():
    x, y = blobs(100)
    x[37, 1] = np.nan
    trainer = Trainer(MLP([2, 4, 3], rng=0), batch_size=10, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # and no DivergenceWarning telling to lower the rate
        with pytest.raises(ValueError, match="inputs of batch .* NaN or infinite.*bad"):
            trainer.fit(x, y, epochs=1)


def test_empty_data_is_refused():
    # fit on empty data used to loop forever
    trainer = Trainer(MLP([2, 3], rng=0), progress=False)
    with pytest.raises(ValueError, match="got no samples"):
        trainer.fit(np.zeros((0, 2)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="epochs to be a positive integer"):
        trainer.fit(np.zeros((4, 2)), np.zeros(4, dtype=int), epochs=0)
    with pytest.raises(ValueError, match="no batches"):
        Trainer(MLP([2, 3], rng=0), batches=[], progress=False).fit(epochs=1)


def test_a_callable_batch_source_and_other_metrics():
    x, y = blobs(90)
    seen = []

    def in_order(xs, ys, rng):     # no shuffling: three batches of 30, always the same
        seen.append(len(xs))
        return minibatches(xs, ys, 30, shuffle=False)

    trainer = Trainer(MLP([2, 8, 3], rng=0), "sgd", learning_rate=0.1, batches=in_order,
                      metrics=("accuracy", "perplexity"), progress=False)
    history = trainer.fit(x, y, epochs=2, eval_data=(x, y))
    assert seen == [90, 90]
    assert history["iteration"] == [1, 2, 3, 4, 5, 6] and history["epoch"] == [1, 2]
    assert len(history["train_perplexity"]) == len(history["eval_perplexity"]) == 2
    assert history["eval_perplexity"][-1] == pytest.approx(
        np.exp(trainer.model.loss(x, y, train=False)), rel=1e-12)


def test_an_iterable_batch_source_without_arrays():
    x, y = blobs(60)
    batches = [(x[:30], y[:30]), (x[30:], y[30:])]
    trainer = Trainer(MLP([2, 8, 3], rng=0), "sgd", learning_rate=0.1, batches=batches, progress=False)
    history = trainer.fit(epochs=3, eval_data=(x, y))
    assert history["iteration"] == list(range(1, 7)) and history["epoch"] == [1, 2, 3]
    assert history["train_accuracy"] == [] and len(history["eval_accuracy"]) == 3
    with pytest.raises(ValueError, match="needs train_x and train_y"):
        Trainer(MLP([2, 3], rng=0), progress=False).fit(epochs=1)


def test_sequence_batches_are_ordered_and_shifted():
    tokens = np.arange(103)
    source = SequenceBatches(tokens, batch_size=4, seq_len=5)   # 4 streams of 25 steps
    batches = list(source)
    assert len(source) == len(batches) == 5
    x0, y0 = batches[0]
    np.testing.assert_array_equal(x0[:, 0], [0, 25, 50, 75])
    np.testing.assert_array_equal(y0, x0 + 1)
    np.testing.assert_array_equal(batches[1][0][:, 0], x0[:, -1] + 1)   # the next batch continues
    assert len(list(source)) == 5                                       # a second epoch
    with pytest.raises(ValueError, match="integer token ids"):
        SequenceBatches(np.zeros(10), 2, 2)
    with pytest.raises(ValueError, match="fewer than seq_len"):
        SequenceBatches(np.arange(10), 4, 5)


def test_trainer_resets_recurrent_state_each_epoch():
    x, y = blobs(40)
    model = MLP([2, 3], rng=0)
    resets = []
    model.reset_state = lambda: resets.append(True)
    Trainer(model, batch_size=20, progress=False).fit(x, y, epochs=3)
    assert len(resets) == 3


def test_clipping_inside_the_trainer():
    x, y = blobs(100)
    clipped = ClipGradNorm(SGD(learning_rate=0.1), max_norm=0.01)
    trainer = Trainer(MLP([2, 8, 3], rng=0), clipped, batch_size=100, progress=False)
    before = {k: v.copy() for k, v in trainer.model.params.items()}
    trainer.fit(x, y, iterations=1)
    step = np.sqrt(sum(np.sum((trainer.model.params[k] - before[k]) ** 2) for k in before))
    assert clipped.last_norm > 0.01
    assert step == pytest.approx(0.1 * 0.01, rel=1e-9)
