"""The Layer contract (scratchdl/layers.py), checked for every layer class of the package.

A new layer is covered by adding one line to LAYERS: a factory, an input shape, and the
modes it is checked in. Each layer then gets: a float64 gradient check of its input and of
every parameter (relative error < 1e-7), no mutation of x or dout, a clear error for a
wrongly shaped dout and for backward() before forward(), consistent params/grads/buffers/
decay, and a state round trip through a model's state_dict.
"""
import numpy as np
import pytest

from scratchdl import layers as L
from scratchdl.conv import AvgPool2D, Conv2D, GlobalAvgPool2D, MaxPool2D
from scratchdl.gradients import gradient_check
from scratchdl.models import Sequential
from scratchdl.recurrent import LSTM, RNN

TOL = 1e-7


def _dropout():
    layer = L.Dropout(rate=0.4, rng=0)
    layer.fixed_mask = np.random.default_rng(5).random((6, 5)) >= 0.4
    return layer


def _batchnorm(n, seed=0):
    layer = L.BatchNorm(n)
    rng = np.random.default_rng(seed)   # non-trivial gamma, beta and running statistics
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, n)
    layer.params["beta"][:] = rng.standard_normal(n)
    layer.buffers["running_mean"][:] = rng.standard_normal(n)
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, n)
    return layer


# (id, factory(seed), input shape, modes to check: True = training, False = inference)
LAYERS = [
    ("affine", lambda s: L.Affine(6, 4, init="xavier", rng=s), (5, 6), (True,)),
    ("relu", lambda s: L.ReLU(), (4, 7), (True,)),
    ("leaky_relu", lambda s: L.LeakyReLU(0.1), (4, 7), (True,)),
    ("sigmoid", lambda s: L.Sigmoid(), (4, 7), (True,)),
    ("tanh", lambda s: L.Tanh(), (4, 7), (True,)),
    ("affine_3d", lambda s: L.Affine(6, 4, init="xavier", rng=s), (3, 5, 6), (True,)),
    ("sum_over_time", lambda s: L.SumOverTime(), (3, 4, 5), (True,)),
    ("mean_over_time", lambda s: L.SumOverTime(mean=True), (3, 4, 5), (True,)),
    ("flatten", lambda s: L.Flatten(), (3, 2, 4, 4), (True,)),
    ("dropout", lambda s: _dropout(), (6, 5), (True, False)),
    ("batchnorm", lambda s: _batchnorm(5, s), (8, 5), (True, False)),
    ("batchnorm_4d", lambda s: _batchnorm(3, s), (4, 3, 5, 5), (True, False)),
    ("conv2d", lambda s: Conv2D(2, 3, 3, stride=2, padding=1, rng=s), (2, 2, 5, 5), (True,)),
    ("conv2d_rect", lambda s: Conv2D(3, 2, (2, 3), padding=(1, 0), rng=s), (2, 3, 4, 6), (True,)),
    ("maxpool2d", lambda s: MaxPool2D(2), (2, 3, 4, 6), (True,)),
    ("avgpool2d", lambda s: AvgPool2D(3, stride=1), (2, 2, 5, 5), (True,)),
    ("globalavgpool2d", lambda s: GlobalAvgPool2D(), (2, 3, 4, 5), (True,)),
    # pre-activation order: a bias right before BatchNorm would have a zero true gradient
    ("residual", lambda s: L.Residual([_batchnorm(5, s), L.Tanh(), L.Affine(5, 5, rng=s)]),
     (6, 5), (True, False)),
    ("rnn", lambda s: RNN(4, 5, rng=s), (3, 6, 4), (True,)),
    ("lstm", lambda s: LSTM(4, 5, forget_bias=0.5, rng=s), (3, 6, 4), (True,)),
]
IDS = [row[0] for row in LAYERS]
CASES = [(make, shape, mode) for _, make, shape, modes in LAYERS for mode in modes]
CASE_IDS = [f"{name}-{'train' if mode else 'eval'}" for name, _, _, modes in LAYERS for mode in modes]


def away_from_zero(shape, seed=0):
    """Inputs with |x| >= 0.1, so no entry sits on a ReLU's kink during the check."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.sign(x) * (np.abs(x) + 0.1)


@pytest.mark.parametrize("make, shape, train", CASES, ids=CASE_IDS)
def test_gradient_check(make, shape, train):
    layer = make(0)
    errors = gradient_check(layer, away_from_zero(shape), rng=1, train=train)
    assert set(errors) == {"x", *layer.params}
    for name, err in errors.items():
        assert err < TOL, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("make, shape, train", CASES, ids=CASE_IDS)
def test_backward_changes_neither_x_nor_dout(make, shape, train):
    layer = make(0)
    x = away_from_zero(shape)
    x_before = x.copy()
    out = layer.forward(x, train=train)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("name, make, shape, modes", LAYERS, ids=IDS)
def test_wrong_dout_shape_names_the_layer(name, make, shape, modes):
    layer = make(0)
    out = layer.forward(away_from_zero(shape), train=True)
    for bad in (np.ones(out.shape[:-1] + (out.shape[-1] + 1,)), np.ones((1,) + out.shape[1:]),
                np.ones(out.shape[1:])):
        if bad.shape == out.shape:
            continue
        with pytest.raises(ValueError, match=rf"{type(layer).__name__}.*backward expected dout of shape"):
            layer.backward(bad)


@pytest.mark.parametrize("name, make, shape, modes", LAYERS, ids=IDS)
def test_backward_before_forward_is_a_clear_error(name, make, shape, modes):
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        make(0).backward(np.ones(shape))


@pytest.mark.parametrize("name, make, shape, modes", LAYERS, ids=IDS)
def test_declared_state_is_consistent(name, make, shape, modes):
    layer = make(0)
    assert layer.params.keys() == layer.grads.keys()
    for key, p in layer.params.items():
        assert layer.grads[key].shape == p.shape and layer.grads[key].dtype == p.dtype
    assert isinstance(layer.buffers, dict)
    assert set(layer.decay) <= set(layer.params), "decay names parameters the layer does not have"
    assert not set(layer.buffers) & set(layer.params)
    layer.reset_state()   # every layer has it; a no-op for layers without carried state
    # input_grad=False is accepted by every layer (the first layer of a model gets it)
    out = layer.forward(away_from_zero(shape), train=True)
    layer.backward(np.ones_like(out), input_grad=False)


@pytest.mark.parametrize("name, make, shape, modes", LAYERS, ids=IDS)
def test_state_round_trip(name, make, shape, modes):
    source, target = Sequential([make(0)]), Sequential([make(1)])
    x = away_from_zero(shape)
    source.layers[0].forward(x, train=True)   # moves running statistics, where there are any
    state = source.state_dict()
    target.load_state_dict(state)
    for key, value in state.items():
        np.testing.assert_array_equal({**target.params, **target.buffers}[key], value)
    if isinstance(source.layers[0], L.Dropout):
        target.layers[0].fixed_mask = source.layers[0].fixed_mask
    np.testing.assert_array_equal(target.predict(x), source.predict(x))
