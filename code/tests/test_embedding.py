"""Embedding (scratchdl/layers.py): rows picked by ids, gradients added back into them."""
import numpy as np
import pytest

from scratchdl.gradients import numerical_gradient, rel_error
from scratchdl.layers import Affine, Embedding, ReLU
from scratchdl.models import Sequential

IDS = np.array([[3, 1, 3, 0], [2, 3, 5, 5]])      # repeats inside and across rows; 4 unused


def test_forward_picks_rows_like_a_one_hot_product():
    layer = Embedding(7, 3, init=1.0, rng=0)
    one_hot = np.eye(7)[IDS]                          # (2, 4, 7)
    np.testing.assert_allclose(layer.forward(IDS), one_hot @ layer.params["W"])
    assert layer.forward(np.array(4)).shape == (3,)


def test_gradient_check():
    layer = Embedding(7, 3, init=1.0, rng=0)
    dout = np.random.default_rng(1).standard_normal(IDS.shape + (3,))

    def loss():
        return np.sum(layer.forward(IDS) * dout)

    layer.forward(IDS)
    assert layer.backward(dout) is None               # ids carry no gradient
    numeric = numerical_gradient(loss, layer.params["W"])
    assert rel_error(layer.grads["W"], numeric) < 1e-7
    # a repeated id gets the sum of its gradients; an unused row stays zero
    np.testing.assert_allclose(layer.grads["W"][3], dout[0, 0] + dout[0, 2] + dout[1, 1])
    assert not layer.grads["W"][4].any() and not layer.grads["W"][6].any()
    np.testing.assert_array_equal(layer.rows, [0, 1, 2, 3, 5])


def test_backward_clears_the_rows_of_the_previous_batch():
    layer = Embedding(7, 2, rng=0)
    layer.forward(np.array([0, 1]))
    layer.backward(np.ones((2, 2)))
    layer.forward(np.array([5, 5]))
    layer.backward(np.ones((2, 2)))
    expected = np.zeros((7, 2))
    expected[5] = 2
    np.testing.assert_array_equal(layer.grads["W"], expected)


def test_padding_row_is_zero_and_gets_no_gradient():
    layer = Embedding(5, 2, padding_idx=0, init=1.0, rng=0)
    ids = np.array([[1, 0, 0], [2, 2, 0]])
    out = layer.forward(ids)
    assert not out[0, 1:].any()
    layer.backward(np.ones(out.shape))
    assert not layer.grads["W"][0].any()
    np.testing.assert_array_equal(layer.grads["W"][2], [2, 2])


def test_trains_inside_a_sequential():
    """Sum of a review's word vectors -> ReLU -> scores: the model sees (N, L) ids."""
    rng = np.random.default_rng(0)

    class SumOverWords(ReLU):      # a tiny pooling step, enough for this test
        def forward(self, x, train=True):
            self.shape = x.shape
            return x.sum(axis=1)

        def backward(self, dout, input_grad=True):
            return np.broadcast_to(dout[:, None, :], self.shape).copy()

    model = Sequential([Embedding(6, 4, rng=0), SumOverWords(), Affine(4, 2, rng=0)])
    ids = rng.integers(0, 6, (8, 5))
    labels = (ids == 2).any(axis=1).astype(int)
    grads = model.gradient(ids, labels)
    assert set(grads) == {"0.W", "2.W", "2.b"}
    assert model.decayed_keys() == ["2.W"]           # embedding rows are not decayed


@pytest.mark.parametrize("ids, message", [
    (np.array([0.0, 1.0]), "integer ids"),
    (np.array([0, 7]), r"ids in \[0, 7\)"),
    (np.array([-1, 2]), r"ids in \[0, 7\)"),
])
def test_bad_ids(ids, message):
    with pytest.raises(ValueError, match=message):
        Embedding(7, 2).forward(ids)


def test_bad_arguments_and_dout():
    with pytest.raises(ValueError, match="padding_idx"):
        Embedding(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match="num_embeddings"):
        Embedding(0, 2)
    layer = Embedding(4, 2)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((1, 2)))
    layer.forward(np.array([1, 2]))
    with pytest.raises(ValueError, match=r"dout of shape \(2, 2\)"):
        layer.backward(np.zeros((2, 3)))
