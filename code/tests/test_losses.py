"""The Loss contract: scores (..., K), integer or exact one-hot targets, clear refusals."""
import numpy as np
import pytest

from scratchdl import functions as F
from scratchdl.gradients import numerical_gradient, rel_error
from scratchdl.losses import MeanSquaredError, SoftmaxCrossEntropy


@pytest.mark.parametrize("shape", [(6, 4), (3, 5, 4), (2, 3, 2, 4)])
def test_softmax_cross_entropy_any_leading_shape(shape):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal(shape)
    t = rng.integers(0, shape[-1], shape[:-1])
    loss = SoftmaxCrossEntropy()
    value = loss.forward(logits, t)
    flat = F.log_softmax(logits.reshape(-1, shape[-1]))
    assert value == pytest.approx(-np.mean(flat[np.arange(flat.shape[0]), t.ravel()]), rel=1e-12)
    analytic = loss.backward(0.7)
    numeric = numerical_gradient(lambda: 0.7 * loss.forward(logits, t), logits)
    assert analytic.shape == shape
    assert rel_error(analytic, numeric) < 1e-7
    assert loss.forward(logits, np.eye(shape[-1])[t]) == pytest.approx(value, rel=1e-12)


def test_mean_squared_error_gradient():
    rng = np.random.default_rng(0)
    y, t = rng.standard_normal((5, 3, 2)), rng.standard_normal((5, 3, 2))
    loss = MeanSquaredError()
    assert loss.forward(y, t) == pytest.approx(0.5 * np.sum((y - t) ** 2) / 15)
    analytic = loss.backward()
    assert rel_error(analytic, numerical_gradient(lambda: loss.forward(y, t), y)) < 1e-7
    with pytest.raises(ValueError, match=r"\(5, 3, 2\).*\(5, 3\)"):
        loss.forward(y, t[..., 0])


@pytest.mark.parametrize("labels, message", [
    (np.array([0.0, 1.5, 2.0]), "never rounded"),                        # used to be truncated
    (np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]), "exactly one 1"),   # used to be argmaxed
    (np.array(["cat", "dog", "cat"]), "dtype <U3"),                       # used to be a raw int() error
    (np.array([True, False, True]), "integer class indices"),
    (np.array([0, 1]), r"\(3,\).*got \(2,\)"),
    (np.array([0, 1, 3]), "0..2"),
    (np.array([-1, 1, 2]), "0..2"),
])
def test_labels_are_indices_or_exact_one_hot(labels, message):
    logits = np.zeros((3, 3))
    with pytest.raises(ValueError, match=message):
        SoftmaxCrossEntropy().forward(logits, labels)
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(np.full((3, 3), 1 / 3), labels)


def test_integral_float_labels_are_accepted():
    logits = np.random.default_rng(0).standard_normal((3, 4))
    assert SoftmaxCrossEntropy().forward(logits, np.array([0.0, 3.0, 1.0])) == \
        SoftmaxCrossEntropy().forward(logits, np.array([0, 3, 1]))


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match="empty batch"):
        SoftmaxCrossEntropy().forward(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="empty batch"):
        MeanSquaredError().forward(np.zeros((0, 3)), np.zeros((0, 3)))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="before forward"):
        SoftmaxCrossEntropy().backward()
