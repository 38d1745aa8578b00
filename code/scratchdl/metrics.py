"""Metrics: how good a model's scores are, summed batch by batch.

A metric turns a batch of scores (..., K) and its targets into a ``(total, count)`` pair,
so that a large set can be evaluated in batches and still give the exact mean; ``result``
turns the summed pair into the reported number. ``Sequential.evaluate`` and ``Trainer``
take metrics by name ("accuracy", "cross_entropy", "perplexity") or as Metric objects.
"""
import math

import numpy as np

from .functions import as_labels, log_softmax


class Metric:
    """Base class: ``batch(scores, t) -> (total, count)``; ``result(total, count) -> float``."""

    name = "metric"

    def batch(self, scores, t):
        raise NotImplementedError

    def result(self, total, count):
        return total / count

    def __repr__(self):
        return f"{type(self).__name__}()"


class Accuracy(Metric):
    """Fraction of positions whose highest score is the label. t: indices (...,) or one-hot (..., K)."""

    name = "accuracy"

    def batch(self, scores, t):
        labels = as_labels(scores, t)
        return int(np.sum(np.argmax(scores, axis=-1) == labels)), labels.size


class CrossEntropy(Metric):
    """Mean -log softmax(scores)[t] over every position (the loss, without weight decay)."""

    name = "cross_entropy"

    def batch(self, scores, t):
        labels = as_labels(scores, t)
        picked = np.take_along_axis(log_softmax(scores), labels[..., None], axis=-1)
        return float(-np.sum(picked)), labels.size


class Perplexity(CrossEntropy):
    """exp(mean cross-entropy per position): the number of equally likely choices the model
    hesitates between (a language model's usual measure; K for a uniform guess)."""

    name = "perplexity"

    def result(self, total, count):
        return math.exp(total / count)


_BY_NAME = {cls.name: cls for cls in (Accuracy, CrossEntropy, Perplexity)}


def get_metric(metric):
    """A Metric from a name ("accuracy", "cross_entropy", "perplexity") or a Metric object."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str) and metric in _BY_NAME:
        return _BY_NAME[metric]()
    raise ValueError(f"unknown metric {metric!r}: expected one of {sorted(_BY_NAME)} or a Metric object")
