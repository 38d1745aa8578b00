"""Learning-rate schedules: the learning rate as a function of the iteration number.

A schedule is a callable ``schedule(iteration) -> learning_rate``; ``iteration`` counts the
updates done so far (0 before the first one). It also accepts an array of iterations and
returns an array, which is handy for plotting::

    schedule = step_decay(0.1, drop=0.5, every=500)
    schedule(0), schedule(499), schedule(500)   # 0.1, 0.1, 0.05
    schedule(np.arange(2000))                   # (2000,) learning rates

``Scheduled(optimizer, schedule)`` is an Optimizer that sets its inner optimizer's learning
rate from the schedule before every step, so it works anywhere an optimizer does, e.g.
``Trainer(model, Scheduled(SGD(), step_decay(0.1, 0.5, 500)))`` or a hand-written loop.
"""
import math

import numpy as np

from .optimizers import Optimizer, get_optimizer
from .utils import check_positive_int, check_positive_number


def _iterations(iteration, owner):
    """iteration: an int or an array of ints >= 0. Returns it as a float array (any shape)."""
    t = np.asarray(iteration)
    if t.dtype.kind not in "iuf" or np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError(f"{owner} expected an iteration number >= 0 (or an array of them), "
                         f"got {iteration!r}")
    return t.astype(np.float64)


def _result(values, iteration):
    """A float for a scalar iteration, an array for an array of iterations."""
    return float(values) if np.ndim(iteration) == 0 else values


class Schedule:
    """Base class: subclasses implement ``rate(t)`` for a float array t of iterations."""

    def __call__(self, iteration):
        return _result(self.rate(_iterations(iteration, type(self).__name__)), iteration)

    def rate(self, t):
        raise NotImplementedError


class constant(Schedule):  # noqa: N801  (lower case: used like a function)
    """lr(t) = learning_rate for every t."""

    def __init__(self, learning_rate):
        self.learning_rate = check_positive_number(learning_rate, "learning_rate", "constant")

    def rate(self, t):
        return np.full_like(t, self.learning_rate)

    def __repr__(self):
        return f"constant({self.learning_rate:g})"


class step_decay(Schedule):  # noqa: N801
    """lr(t) = initial * drop ** floor(t / every): multiply by ``drop`` every ``every`` steps.

    initial: the first learning rate (> 0); drop: the factor, in (0, 1], e.g. 0.5 halves it;
    every: how many iterations each stair lasts (a positive int).
    """

    def __init__(self, initial, drop=0.5, every=1000):
        self.initial = check_positive_number(initial, "initial", "step_decay")
        self.drop = check_positive_number(drop, "drop", "step_decay")
        if self.drop > 1:
            raise ValueError(f"step_decay expected drop in (0, 1] (a decay), got {drop!r}")
        self.every = check_positive_int(every, "every", "step_decay")

    def rate(self, t):
        return self.initial * self.drop ** np.floor(t / self.every)

    def __repr__(self):
        return f"step_decay({self.initial:g}, drop={self.drop:g}, every={self.every})"


class exponential_decay(Schedule):  # noqa: N801
    """lr(t) = initial * rate ** (t / every): the smooth version of step_decay."""

    def __init__(self, initial, rate=0.5, every=1000):
        self.initial = check_positive_number(initial, "initial", "exponential_decay")
        self.decay = check_positive_number(rate, "rate", "exponential_decay")
        if self.decay > 1:
            raise ValueError(f"exponential_decay expected rate in (0, 1] (a decay), got {rate!r}")
        self.every = check_positive_number(every, "every", "exponential_decay")

    def rate(self, t):
        return self.initial * self.decay ** (t / self.every)

    def __repr__(self):
        return f"exponential_decay({self.initial:g}, rate={self.decay:g}, every={self.every:g})"


class cosine_decay(Schedule):  # noqa: N801
    """lr(t) = final + (initial - final) * (1 + cos(pi * t / total)) / 2, and final after ``total``
    (Loshchilov & Hutter's cosine annealing, without restarts)."""

    def __init__(self, initial, total, final=0.0):
        self.initial = check_positive_number(initial, "initial", "cosine_decay")
        self.total = check_positive_int(total, "total", "cosine_decay")
        if not 0 <= final <= self.initial:
            raise ValueError(f"cosine_decay expected 0 <= final <= initial = {self.initial:g}, got {final!r}")
        self.final = float(final)

    def rate(self, t):
        progress = np.minimum(t / self.total, 1.0)
        return self.final + (self.initial - self.final) * 0.5 * (1 + np.cos(np.pi * progress))

    def __repr__(self):
        return f"cosine_decay({self.initial:g}, total={self.total}, final={self.final:g})"


class Scheduled(Optimizer):
    """An optimizer whose learning rate follows a schedule.

    optimizer: an Optimizer object or a name ("sgd", "adam", ...); schedule: a callable
    iteration -> learning rate (e.g. step_decay(0.1, 0.5, 500)). Before each step the inner
    optimizer's ``learning_rate`` is set to ``schedule(iterations so far)``; its state
    (velocities, squared-gradient sums) is kept as usual.
    """

    def __init__(self, optimizer, schedule):
        if not callable(schedule):
            raise ValueError(f"Scheduled expected a schedule: a callable iteration -> learning rate, "
                             f"got {schedule!r}")
        self.optimizer = get_optimizer(optimizer)
        self.schedule = schedule
        super().__init__(1.0)   # placeholder: the schedule may start at 0 (a warm-up)
        self.learning_rate = self._rate(0)
        self.state = self.optimizer.state

    def _rate(self, iteration):
        rate = float(self.schedule(iteration))
        if not (math.isfinite(rate) and rate >= 0):
            raise ValueError(f"the schedule {self.schedule!r} gave learning rate {rate!r} at "
                             f"iteration {iteration}; expected a finite number >= 0")
        return rate

    def step(self, params, grads):
        self.learning_rate = self.optimizer.learning_rate = self._rate(self.iterations)
        self.optimizer.step(params, grads)
        self.iterations += 1

    def __repr__(self):
        return f"Scheduled({self.optimizer!r}, {self.schedule!r})"
