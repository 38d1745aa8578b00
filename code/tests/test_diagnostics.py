
import numpy as np
import pytest

from scratchdl.diagnostics import probe, probe_deep_net
from scratchdl.gradients import numerical_gradient


def test_probe_shapes_and_determinism():
    x = np.random.default_rng(1).standard_normal((50, 20))
    a = probe_deep_net(x, depth=4, width=30, activation="tanh", init="xavier", rng=3)
    b = probe_deep_net(x, depth=4, width=30, activation="tanh", init="xavier", rng=3)
    assert len(a["activations"]) == 4 and a["activations"][0].shape == (50, 30)
    assert a["weights"][0].shape == (20, 30) and a["weights"][1].shape == (30, 30)
    assert a["weight_gradient_norms"].shape == (4,)
    for u, v in zip(a["activations"], b["activations"]):
        np.testing.assert_array_equal(u, v)


def test_probe_reproduces_saito_observations():
    x = np.random.default_rng(0).standard_normal((1000, 100))
    big = probe_deep_net(x, activation="sigmoid", init=1.0)["activations"][-1]
    small = probe_deep_net(x, activation="sigmoid", init=0.01)["activations"][-1]
    # std 1: saturated near 0 and 1; std 0.01: everything near 0.5
    assert np.mean((big < 0.05) | (big > 0.95)) > 0.5
    assert np.std(small) < 0.05 and abs(np.mean(small) - 0.5) < 0.02
    relu_small = probe_deep_net(x, activation="relu", init=0.01)["activations"][-1]
    relu_he = probe_deep_net(x, activation="relu", init="he")["activations"][-1]
    assert np.std(relu_small) < 1e-5 < 0.1 < np.std(relu_he)


def test_probe_weight_gradients_match_numerical():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    upstream = rng.standard_normal((6, 5))
    result = probe_deep_net(x, depth=3, width=5, activation="tanh", init="xavier", rng=7,
                            upstream=upstream)
    weights = result["weights"]

    def loss():
        a = x
        for W in weights:
            a = np.tanh(a @ W)
        return float(np.sum(a * upstream))

    for i, W in enumerate(weights):
        numeric = numerical_gradient(loss, W, h=1e-6)
        assert abs(np.linalg.norm(numeric) - result["weight_gradient_norms"][i]) \
            <= 1e-7 * max(1.0, np.linalg.norm(numeric))


def test_probe_bad_input():
    with pytest.raises(ValueError, match="2-D"):
        probe_deep_net(np.zeros(10))
    with pytest.raises(ValueError, match="depth"):
        probe_deep_net(np.zeros((2, 3)), depth=0)
    with pytest.raises(ValueError, match="activation"):
        probe_deep_net(np.zeros((2, 3)), activation="softplus")


def test_probe_reads_any_sequential():
    from scratchdl.layers import Affine, BatchNorm, Flatten, ReLU
    from scratchdl.models import Sequential

    rng = np.random.default_rng(0)
    model = Sequential([Flatten(), Affine(12, 6, rng=1), BatchNorm(6), ReLU(), Affine(6, 3, rng=2)])
    x = rng.standard_normal((8, 3, 2, 2))        # 4-D input: whatever the first layer takes
    upstream = rng.standard_normal((8, 3))
    records = probe(model, x, upstream=upstream)
    assert [r["layer"] for r in records] == [repr(layer) for layer in model.layers]
    assert records[1]["output"].shape == (8, 6)
    assert records[2]["mean"] == pytest.approx(float(np.mean(model.layers[2].params["beta"])), abs=1e-12)
    assert set(records[2]["grad_norms"]) == {"gamma", "beta"}
    assert records[-1]["dout_norm"] == pytest.approx(np.linalg.norm(upstream))
    assert records[0]["dx_norm"] is None
    # the recorded gradient norm of the first Affine is the true one
    w = model.layers[1].params["W"]

    def loss():
        return float(np.sum(model.predict(x, train=True) * upstream))

    numeric = numerical_gradient(loss, w, h=1e-6)
    assert records[1]["grad_norms"]["W"] == pytest.approx(np.linalg.norm(numeric), rel=1e-6)
    with pytest.raises(ValueError, match="Sequential"):
        probe([Affine(2, 2)], x)


def test_probe_deep_net_relative_and_activation_gradients():
    x = np.random.default_rng(0).standard_normal((200, 50))
    result = probe_deep_net(x, depth=4, width=50, activation="relu", init="he", rng=1)
    norms = np.array([np.linalg.norm(W) for W in result["weights"]])
    np.testing.assert_allclose(result["relative_weight_gradients"],
                               result["weight_gradient_norms"] / norms)
    grads = result["activation_gradient_norms"]
    assert grads.shape == (4,)
    # the top activations receive the upstream gradient itself
    upstream = np.random.default_rng(3).standard_normal((200, 50))
    top = probe_deep_net(x, depth=4, width=50, activation="relu", init="he", rng=1,
                         upstream=upstream)["activation_gradient_norms"][-1]
    assert top == pytest.approx(np.linalg.norm(upstream))
    # ReLU with Xavier: activations shrink going up, their gradients shrink going down,
    # and the weight gradients stay level
    xavier = probe_deep_net(x, depth=4, width=50, activation="relu", init="xavier", rng=1)
    assert np.all(np.diff(xavier["activation_gradient_norms"]) > 0)
    ratio = xavier["relative_weight_gradients"]
    assert ratio.max() / ratio.min() < 1.5
