"""Training: mini-batches, and a Trainer that runs the loop every chapter would otherwise repeat.

The loop is the one the chapters write out by hand: take a mini-batch, compute the loss
and its gradients, let the optimizer update the parameters. The Trainer adds the
bookkeeping: a history of losses and accuracies, a progress bar, and a clear stop when
the loss blows up instead of a screen of overflow warnings.
"""
import math
import warnings

import numpy as np
from tqdm.auto import tqdm

from .optimizers import get_optimizer
from .utils import as_rng


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN or infinite."""


def minibatches(x, y, batch_size, rng=None, shuffle=True):
    """Yield (x_batch, y_batch) pairs covering every sample exactly once (one epoch).

    x: (N, ...), y: (N,) or (N, K). With shuffle, the order is a fresh random permutation
    from ``rng``; the last batch is smaller when batch_size does not divide N.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
        raise ValueError(f"minibatches expected x and y with the same number of samples, "
                         f"got x {x.shape} and y {y.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = x.shape[0]
    order = as_rng(rng).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            index = order[start:start + batch_size]
            yield x[index], y[index]


class Trainer:
    """Train a model with mini-batch gradient descent.

    model: a Sequential (anything with params, loss(x, t), backward() and accuracy(x, t)).
    optimizer: a name ("sgd", "momentum", "adam", ...) with its keyword arguments, e.g.
    ``Trainer(model, "sgd", learning_rate=0.1)``, or an Optimizer object.
    rng: seed or Generator for shuffling. progress: show a tqdm progress bar.
    """

    def __init__(self, model, optimizer="sgd", batch_size=100, rng=0, progress=True, **optimizer_kwargs):
        self.model = model
        self.optimizer = get_optimizer(optimizer, **optimizer_kwargs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.rng = as_rng(rng)
        self.progress = progress
        self.history = _new_history()

    def step(self, x_batch, y_batch):
        """One update on one batch; returns the batch loss (before the update)."""
        loss = self.model.loss(x_batch, y_batch, train=True)
        if math.isfinite(loss):
            self.optimizer.step(self.model.params, self.model.backward())
        return loss

    def fit(self, train_x, train_y, epochs=1, iterations=None, eval_data=None, eval_samples=None, log_every=1):
        """Train for ``epochs`` passes over the data, or exactly ``iterations`` updates if given.

        train_x: (N, ...), train_y: (N,) labels or (N, K) one-hot. eval_data: (test_x, test_y),
        evaluated after each epoch (and at the end of a run that stops mid-epoch).
        eval_samples: evaluate accuracies on at most this many samples (a fixed random subset),
        which keeps evaluation cheap on large sets. log_every: record the loss every this many
        iterations. Returns the history (also kept as ``self.history``): "loss" and "iteration"
        (per logged iteration), "epoch", "train_accuracy", "eval_accuracy" (per evaluation),
        and "diverged" (True if the loss became NaN or infinite and training stopped).
        """
        train_x, train_y = np.asarray(train_x), np.asarray(train_y)
        if train_x.ndim == 0 or train_y.ndim == 0 or train_x.shape[0] != train_y.shape[0]:
            raise ValueError(f"fit expected train_x and train_y with the same number of samples, "
                             f"got {np.shape(train_x)} and {np.shape(train_y)}")
        n = train_x.shape[0]
        per_epoch = math.ceil(n / self.batch_size)
        total = int(iterations) if iterations is not None else int(epochs) * per_epoch
        if total < 1:
            raise ValueError(f"nothing to train: epochs={epochs}, iterations={iterations}")
        if isinstance(log_every, bool) or not isinstance(log_every, (int, np.integer)) or log_every < 1:
            raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
        train_eval = self._subset(train_x, train_y, eval_samples)
        test_eval = self._subset(*eval_data, eval_samples) if eval_data is not None else None

        history = self.history = _new_history()
        last_finite = None
        iteration = 0
        bar = tqdm(total=total, disable=not self.progress, unit="it", leave=True)
        try:
            # overflow in a diverging run is reported once, by us, not as numpy warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while iteration < total:
                    for x_batch, y_batch in minibatches(train_x, train_y, self.batch_size, self.rng):
                        loss = self.step(x_batch, y_batch)
                        iteration += 1
                        if not math.isfinite(loss):
                            self._diverged(iteration, loss, last_finite)
                            return history
                        last_finite = loss
                        if iteration % log_every == 0:
                            history["loss"].append(loss)
                            history["iteration"].append(iteration)
                            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                        bar.update(1)
                        if iteration % per_epoch == 0 or iteration == total:
                            self._evaluate(iteration / per_epoch, train_eval, test_eval)
                        if iteration == total:
                            break
        finally:
            bar.close()
        return history

    def _subset(self, x, y, eval_samples):
        x, y = np.asarray(x), np.asarray(y)
        if eval_samples is None or eval_samples >= x.shape[0]:
            return x, y
        index = np.sort(self.rng.choice(x.shape[0], size=int(eval_samples), replace=False))
        return x[index], y[index]

    def _evaluate(self, epoch, train_eval, test_eval):
        history = self.history
        history["epoch"].append(int(epoch) if float(epoch).is_integer() else round(epoch, 2))
        history["train_accuracy"].append(self.model.accuracy(*train_eval))
        if test_eval is not None:
            history["eval_accuracy"].append(self.model.accuracy(*test_eval))

    def _diverged(self, iteration, loss, last_finite):
        self.history["diverged"] = True
        last = "no finite loss yet" if last_finite is None else f"last finite loss {last_finite:.4g}"
        lr = getattr(self.optimizer, "learning_rate", None)
        hint = f" Try a smaller learning rate (this run used {lr:g})." if lr is not None \
            else " Try a smaller learning rate."
        warnings.warn(f"training diverged at iteration {iteration}: loss became {loss} ({last}).{hint}",
                      DivergenceWarning, stacklevel=3)


def _new_history():
    return {"loss": [], "iteration": [], "epoch": [], "train_accuracy": [], "eval_accuracy": [],
            "diverged": False}
