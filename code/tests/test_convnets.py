"""SimpleConvNet and DeepConvNet: structure, end-to-end gradients, save/load, bad shapes."""
import numpy as np
import pytest

from scratchdl.gradients import rel_error
from scratchdl.models import DeepConvNet, SimpleConvNet


def test_simple_convnet_is_saitos_network():
    model = SimpleConvNet(rng=0)
    assert [type(layer).__name__ for layer in model.layers] == \
        ["Conv2D", "MaxPool2D", "ReLU", "Flatten", "Affine", "ReLU", "Affine"]
    assert model.params["0.W"].shape == (30, 1, 5, 5)
    assert model.params["4.W"].shape == (30 * 12 * 12, 100)
    assert model.decayed_keys() == ["0.W", "4.W", "6.W"]
    assert model.predict(np.zeros((3, 1, 28, 28))).shape == (3, 10)


def test_pooling_first_computes_saitos_order_exactly():
    """SimpleConvNet pools before its first ReLU; Saito's order gives the same outputs and
    the same gradients, bit for bit."""
    from scratchdl.layers import ReLU
    from scratchdl.conv import MaxPool2D
    model = SimpleConvNet(input_shape=(1, 10, 10), filters=4, kernel_size=3, hidden=6, rng=3)
    saito = SimpleConvNet(input_shape=(1, 10, 10), filters=4, kernel_size=3, hidden=6, rng=3)
    saito.layers[1], saito.layers[2] = ReLU(), MaxPool2D(2)
    x = np.random.default_rng(0).standard_normal((5, 1, 10, 10))
    t = np.array([0, 3, 9, 2, 2])
    np.testing.assert_array_equal(model.predict(x), saito.predict(x))
    model.gradient(x, t), saito.gradient(x, t)
    for key in model.params:
        np.testing.assert_array_equal(model.grads[key], saito.grads[key])


def test_deep_convnet_is_saitos_network():
    model = DeepConvNet(rng=0)
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert [c.params["W"].shape[0] for c in convs] == [16, 16, 32, 32, 64, 64]
    assert [c.padding for c in convs] == [(1, 1)] * 3 + [(2, 2)] + [(1, 1)] * 2
    assert sum(type(layer).__name__ == "MaxPool2D" for layer in model.layers) == 3
    names = [type(layer).__name__ for layer in model.layers[-5:]]
    assert names == ["Flatten", "Affine", "ReLU", "Dropout", "Affine"]
    assert model.layers[-4].params["W"].shape == (64 * 4 * 4, 50)
    assert model.predict(np.zeros((2, 1, 28, 28))).shape == (2, 10)


@pytest.mark.parametrize("make, shape", [
    (lambda: SimpleConvNet(input_shape=(2, 10, 8), filters=3, kernel_size=3, hidden=5, classes=4, rng=0), (3, 2, 10, 8)),
    (lambda: DeepConvNet(input_shape=(1, 12, 12), classes=3, hidden=6, dropout=0.0, rng=0), (2, 1, 12, 12)),
], ids=["simple", "deep"])
def test_end_to_end_gradients(make, shape):
    rng = np.random.default_rng(1)
    model = make()
    x = rng.standard_normal(shape)
    t = rng.integers(0, model.layers[-1].n_out, shape[0])
    analytic = {k: g.copy() for k, g in model.gradient(x, t).items()}
    for key, p in model.params.items():
        # up to 40 entries of each parameter (the deep net has 70,000): central differences
        index = [np.unravel_index(i, p.shape) for i in rng.choice(p.size, min(p.size, 40), replace=False)]
        numeric = np.array([_central_difference(lambda: model.loss(x, t), p, i) for i in index])
        picked = np.array([analytic[key][i] for i in index])
        assert rel_error(picked, numeric) < 1e-7, key


def _central_difference(f, p, i, h=1e-6):
    old = p[i]
    p[i] = old + h
    plus = f()
    p[i] = old - h
    minus = f()
    p[i] = old
    return (plus - minus) / (2 * h)


def test_save_load_round_trip(tmp_path):
    x = np.random.default_rng(0).random((4, 1, 28, 28))
    for make in (lambda seed: SimpleConvNet(rng=seed, dtype=np.float32),
                 lambda seed: DeepConvNet(rng=seed, dtype=np.float32)):
        model, other = make(0), make(1)
        model.save(tmp_path / "net.npz")
        other.load(tmp_path / "net.npz")
        np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_bad_shapes():
    with pytest.raises(ValueError, match="input_shape"):
        SimpleConvNet(input_shape=(28, 28))
    with pytest.raises(ValueError, match=r"Conv2D\(1, 30.*expected input of shape \(N, 1, H, W\).*channel axis first"):
        SimpleConvNet(rng=0).predict(np.zeros((2, 28, 28, 1)))
