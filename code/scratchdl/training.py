"""Training: batch sources, and a Trainer that runs the loop every chapter would otherwise repeat.

The loop is the one the chapters write out by hand: take a batch, compute the loss and its
gradients, let the optimizer update the parameters. The Trainer adds the bookkeeping: a
history of losses and metrics, a progress bar, and a clear stop when the loss blows up
instead of a screen of overflow warnings.

A **batch source** says where the batches of one epoch come from:

- ``None`` (the default): shuffled minibatches of ``batch_size`` samples of the training
  data passed to ``fit`` (``minibatches``);
- a callable ``source(train_x, train_y, rng)`` returning the epoch's (x_batch, y_batch)
  pairs, for any other way of cutting the data;
- an iterable of (x_batch, y_batch) pairs that can be iterated once per epoch (a list, or
  ``SequenceBatches`` for a language model's ordered text); ``fit`` then needs no
  training arrays.

Gradient clipping is an optimizer wrapper (``scratchdl.optimizers.ClipGradNorm``), so it
works in the Trainer and in a hand-written loop alike.
"""
import math
import warnings

import numpy as np
from tqdm.auto import tqdm

from .metrics import get_metric
from .optimizers import get_optimizer
from .utils import as_rng, check_positive_int, check_samples

# A run has diverged when its loss exceeds this many times max(its first loss, 1): log-softmax
# keeps a runaway loss finite (1e31 at a learning rate of 1e6), so NaN alone is not enough.
DIVERGENCE_FACTOR = 100.0


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss became NaN, infinite, or far above where it started."""


def minibatches(x, y, batch_size, rng=None, shuffle=True):
    """Yield (x_batch, y_batch) pairs covering every sample exactly once (one epoch).

    x: (N, ...), y: (N, ...). With shuffle, the order is a fresh random permutation from
    ``rng``; the last batch is smaller when batch_size does not divide N.
    """
    x, y = check_samples(x, y, "minibatches", allow_empty=True)
    batch_size = check_positive_int(batch_size, "batch_size", "minibatches")
    n = x.shape[0]
    order = as_rng(rng).permutation(n) if shuffle else None
    for start in range(0, n, batch_size):
        if order is None:
            yield x[start:start + batch_size], y[start:start + batch_size]
        else:
            index = order[start:start + batch_size]
            yield x[index], y[index]


class SequenceBatches:
    """Ordered batches of a long sequence, for a language model trained with truncated
    backpropagation through time.

    tokens: (L,) integer ids. The sequence is cut into ``batch_size`` streams of equal
    length, side by side; each batch holds the next ``seq_len`` steps of every stream:
    x (batch_size, seq_len) and the targets y, the same windows shifted one step ahead.
    Consecutive batches continue each other, so a recurrent layer may carry its state from
    one to the next. Iterating again starts a new epoch at the beginning.
    """

    def __init__(self, tokens, batch_size, seq_len):
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
            raise ValueError(f"SequenceBatches expected a 1-D array of integer token ids, "
                             f"got shape {tokens.shape} and dtype {tokens.dtype}")
        self.batch_size = check_positive_int(batch_size, "batch_size", "SequenceBatches")
        self.seq_len = check_positive_int(seq_len, "seq_len", "SequenceBatches")
        stream = (len(tokens) - 1) // self.batch_size   # one token is kept for the last target
        if stream < self.seq_len:
            raise ValueError(f"SequenceBatches: {len(tokens)} tokens make {self.batch_size} streams of "
                             f"{max(stream, 0)} steps, fewer than seq_len={self.seq_len}")
        self.x = tokens[:stream * self.batch_size].reshape(self.batch_size, stream)
        self.y = tokens[1:stream * self.batch_size + 1].reshape(self.batch_size, stream)

    def __len__(self):
        return self.x.shape[1] // self.seq_len

    def __iter__(self):
        for start in range(0, len(self) * self.seq_len, self.seq_len):
            yield self.x[:, start:start + self.seq_len], self.y[:, start:start + self.seq_len]


class Trainer:
    """Train a model with mini-batch gradient descent.

    model: a Sequential (anything with params, loss(x, t), backward(), evaluate(x, t, metrics)
    and reset_state()). optimizer: a name ("sgd", "momentum", "adam", ...) with its keyword
    arguments, e.g. ``Trainer(model, "sgd", learning_rate=0.1)``, or an Optimizer object
    (wrappers included: Scheduled, ClipGradNorm). batch_size: for the default batch source.
    batches: the batch source (see the module docstring). metrics: what is recorded after
    each epoch, names or Metric objects (default accuracy; a language model passes
    "perplexity"). rng: seed or Generator for shuffling. progress: show a tqdm progress bar.
    """

    def __init__(self, model, optimizer="sgd", batch_size=100, rng=0, progress=True,
                 batches=None, metrics=("accuracy",), **optimizer_kwargs):
        self.model = model
        self.optimizer = get_optimizer(optimizer, **optimizer_kwargs)
        self.batch_size = check_positive_int(batch_size, "batch_size", "Trainer")
        if batches is not None and not callable(batches) and not hasattr(batches, "__iter__"):
            raise ValueError(f"Trainer expected batches to be None, a callable (x, y, rng) -> batches "
                             f"or an iterable of (x, y) batches, got {type(batches).__name__}")
        self.batches = batches
        self.metrics = [get_metric(m) for m in ([metrics] if isinstance(metrics, str) else metrics)]
        self.rng = as_rng(rng)
        self.progress = progress
        self.history = self._new_history()

    def step(self, x_batch, y_batch):
        """One update on one batch; returns the batch loss (before the update)."""
        loss = self.model.loss(x_batch, y_batch, train=True)
        if math.isfinite(loss):
            self.optimizer.step(self.model.params, self.model.backward())
        return loss

    def fit(self, train_x=None, train_y=None, epochs=1, iterations=None, eval_data=None,
            eval_samples=None, log_every=1):
        """Train for ``epochs`` passes over the data, or exactly ``iterations`` updates if given.

        train_x: (N, ...), train_y: (N,) labels or (N, K) one-hot (optional when the batch
        source is an iterable; then no training metrics are recorded). eval_data: (x, y),
        evaluated after each epoch (and at the end of a run that stops mid-epoch).
        eval_samples: evaluate on at most this many samples (a fixed random subset), which
        keeps evaluation cheap on large sets. log_every: record the loss every this many
        iterations. Returns the history (also kept as ``self.history``): "loss" and
        "iteration" (per logged iteration), "epoch", "train_<metric>" and "eval_<metric>" for
        each metric (per evaluation), and "diverged" (True if training stopped because the
        loss became NaN or infinite or rose above DIVERGENCE_FACTOR times its start).
        """
        have_data = train_x is not None or train_y is not None
        if have_data:
            train_x, train_y = check_samples(train_x, train_y, "Trainer.fit")
        elif self.batches is None or callable(self.batches):
            raise ValueError("fit needs train_x and train_y (only an iterable batch source brings its own data)")
        per_epoch = self._batches_per_epoch(train_x)
        if iterations is not None:
            total = check_positive_int(iterations, "iterations", "fit")
        else:
            total = check_positive_int(epochs, "epochs", "fit") * per_epoch if per_epoch else None
        log_every = check_positive_int(log_every, "log_every", "fit")
        train_eval = self._subset(train_x, train_y, eval_samples) if have_data else None
        test_eval = self._subset(*eval_data, eval_samples) if eval_data is not None else None

        history = self.history = self._new_history()
        state = {"first": None, "last_finite": None}
        iteration, epoch = 0, 0
        max_epochs = math.inf if iterations is not None else epochs
        bar = tqdm(total=total, disable=not self.progress, unit="it", leave=True)
        try:
            # overflow in a diverging run is reported once, by us, not as numpy warnings
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while epoch < max_epochs and (total is None or iteration < total):
                    self.model.reset_state()          # a new pass over the data starts fresh
                    in_epoch = 0
                    for x_batch, y_batch in self._epoch(train_x, train_y):
                        loss = self.step(x_batch, y_batch)
                        iteration += 1
                        in_epoch += 1
                        if self._diverged(iteration, loss, state, x_batch, y_batch):
                            return history
                        if iteration % log_every == 0:
                            history["loss"].append(loss)
                            history["iteration"].append(iteration)
                            bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                        bar.update(1)
                        if iteration == total:
                            break
                    if in_epoch == 0:
                        raise ValueError("the batch source gave no batches for an epoch")
                    per_epoch = per_epoch or in_epoch
                    epoch += 1
                    done = epoch - 1 + in_epoch / per_epoch
                    self._evaluate(done, train_eval, test_eval)
        finally:
            bar.close()
        return history

    def _batches_per_epoch(self, train_x):
        """How many batches an epoch has, or None when the source cannot tell in advance."""
        if self.batches is None:
            return math.ceil(train_x.shape[0] / self.batch_size)
        try:
            return len(self.batches)
        except TypeError:
            return None

    def _epoch(self, train_x, train_y):
        if self.batches is None:
            return minibatches(train_x, train_y, self.batch_size, self.rng)
        if callable(self.batches):
            return self.batches(train_x, train_y, self.rng)
        return self.batches

    def _subset(self, x, y, eval_samples):
        x, y = np.asarray(x), np.asarray(y)
        if eval_samples is None or eval_samples >= x.shape[0]:
            return x, y
        index = np.sort(self.rng.choice(x.shape[0], size=int(eval_samples), replace=False))
        return x[index], y[index]

    def _evaluate(self, epoch, train_eval, test_eval):
        history = self.history
        history["epoch"].append(int(epoch) if float(epoch).is_integer() else round(epoch, 2))
        for prefix, data in (("train", train_eval), ("eval", test_eval)):
            if data is not None:
                for name, value in self.model.evaluate(*data, self.metrics).items():
                    history[f"{prefix}_{name}"].append(value)

    def _diverged(self, iteration, loss, state, x_batch, y_batch):
        """Whether the run must stop here; warns once (DivergenceWarning) when it must."""
        if math.isfinite(loss):
            if state["first"] is None:
                state["first"] = loss
            if loss <= DIVERGENCE_FACTOR * max(state["first"], 1.0):
                state["last_finite"] = loss
                return False
            reason = f"loss {loss:.4g} is more than {DIVERGENCE_FACTOR:g} times its start, {state['first']:.4g}"
        else:
            for name, values in (("inputs", x_batch), ("labels", y_batch)):
                values = np.asarray(values)
                if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
                    raise ValueError(f"the training {name} of batch {iteration} contain NaN or infinite "
                                     f"values: the data is bad, not the learning rate. Clean it "
                                     f"(np.isfinite finds the entries) and train again.")
            reason = f"loss became {loss}"
        self.history["diverged"] = True
        last = state["last_finite"]
        last = "no finite loss yet" if last is None else f"last good loss {last:.4g}"
        lr = getattr(self.optimizer, "learning_rate", None)
        hint = f" Try a smaller learning rate (this run used {lr:g})." if lr is not None \
            else " Try a smaller learning rate."
        warnings.warn(f"training diverged at iteration {iteration}: {reason} ({last}).{hint}",
                      DivergenceWarning, stacklevel=4)
        return True

    def _new_history(self):
        history = {"loss": [], "iteration": [], "epoch": []}
        for prefix in ("train", "eval"):
            history.update({f"{prefix}_{m.name}": [] for m in self.metrics})
        history["diverged"] = False
        return history
