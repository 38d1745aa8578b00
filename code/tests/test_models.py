"""Sequential and MLP: gradients against numerical ones, save/load that refuses bad files."""
import json
import os

import numpy as np
import pytest

from scratchdl.gradients import numerical_gradient, rel_error
from scratchdl.layers import Affine, BatchNorm, ReLU, Tanh
from scratchdl.losses import SoftmaxCrossEntropy
from scratchdl.models import MLP, Sequential


def blobs(n=300, classes=3, dim=2, seed=0):
    """Well separated Gaussian clusters: a problem any working MLP solves."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, dim)) * 4
    y = rng.integers(0, classes, n)
    return centers[y] + rng.standard_normal((n, dim)) * 0.5, y


def test_params_and_grads_are_the_layers_arrays():
    model = MLP([4, 5, 3], rng=0)
    assert list(model.params) == ["0.W", "0.b", "2.W", "2.b"]
    assert model.params["0.W"] is model.layers[0].params["W"]
    x, y = blobs(8, dim=4)
    grads = model.gradient(x, y)
    assert grads.keys() == model.params.keys()
    assert grads["2.W"] is model.layers[2].grads["W"]
    model.params["0.W"][...] = 0.0          # an optimizer updates in place ...
    assert np.all(model.layers[0].params["W"] == 0.0)   # ... and the layer sees it


def test_mlp_structure():
    model = MLP([6, 5, 4, 3], activation="tanh", batch_norm=True, dropout=0.2, rng=0)
    names = [type(layer).__name__ for layer in model.layers]
    assert names == ["Affine", "BatchNorm", "Tanh", "Dropout"] * 2 + ["Affine"]
    assert isinstance(model, Sequential)
    f32 = MLP([6, 3], dtype=np.float32, rng=0)
    assert all(p.dtype == np.float32 for p in f32.params.values())
    assert f32.predict(np.ones((2, 6))).dtype == np.float32


@pytest.mark.parametrize("sizes", [[784], [], [784, 0, 10], [784, 2.5, 10], [784, -1], "784", None, [True, 3]])
def test_mlp_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="MLP expected"):
        MLP(sizes)


def test_wrong_input_shape_names_expected_and_received():
    model = MLP([784, 10, 10], rng=0)
    with pytest.raises(ValueError, match=r"\(N, 784\).*\(32, 28, 28\)"):
        model.predict(np.zeros((32, 28, 28)))
    with pytest.raises(ValueError, match=r"\(N, 784\).*\(5, 100\)"):
        model.accuracy(np.zeros((5, 100)), np.zeros(5))
    with pytest.raises(ValueError, match=r"labels.*\(5, 3\)"):
        model.loss(np.zeros((5, 784)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="as many labels as inputs"):
        model.loss(np.zeros((5, 784)), np.zeros(4, dtype=int))


def test_gradient_with_weight_decay_batchnorm_tanh_matches_numerical():
    rng = np.random.default_rng(1)
    model = MLP([5, 4, 4, 3], activation="tanh", batch_norm=True, weight_decay=0.1, rng=rng)
    x = rng.standard_normal((6, 5))
    t = rng.integers(0, 3, 6)
    analytic = {k: g.copy() for k, g in model.gradient(x, t).items()}
    for key, p in model.params.items():
        numeric = numerical_gradient(lambda: model.loss(x, t, train=True), p, h=1e-6)
        if np.max(np.abs(numeric)) < 1e-9:
            # a bias right before BatchNorm: the mean subtraction cancels it, its true
            # gradient is 0 and the analytic one is rounding noise (~1e-17)
            assert np.max(np.abs(analytic[key])) < 1e-12, key
        else:
            assert rel_error(analytic[key], numeric) < 1e-7, key


def test_weight_decay_adds_half_lambda_w_squared_to_the_loss():
    x, y = blobs(10, dim=2)
    plain = MLP([2, 4, 3], rng=0)
    decayed = MLP([2, 4, 3], weight_decay=0.3, rng=0)
    penalty = 0.5 * 0.3 * sum(np.sum(p ** 2) for k, p in plain.params.items() if k.endswith("W"))
    assert decayed.loss(x, y) == pytest.approx(plain.loss(x, y) + penalty, rel=1e-12)
    g_plain, g_decay = plain.gradient(x, y), decayed.gradient(x, y)
    np.testing.assert_allclose(g_decay["0.W"], g_plain["0.W"] + 0.3 * plain.params["0.W"])
    np.testing.assert_allclose(g_decay["0.b"], g_plain["0.b"])    # biases are not decayed


def test_accuracy_index_and_one_hot_labels_in_batches():
    model = Sequential([Affine(2, 2, rng=0)])
    model.params["0.W"][...] = np.eye(2)
    model.params["0.b"][...] = 0.0
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [0.0, 3.0], [1.0, 5.0]])
    t = np.array([0, 1, 1, 1, 1])    # the third is wrong
    assert model.accuracy(x, t, batch_size=2) == pytest.approx(0.8)
    assert model.accuracy(x, np.eye(2)[t]) == pytest.approx(0.8)


def test_mlp_learns_a_small_problem():
    x, y = blobs(300, classes=3)
    model = MLP([2, 16, 3], rng=0)
    for _ in range(200):
        grads = model.gradient(x, y)
        for key, p in model.params.items():
            p -= 0.1 * grads[key]
    assert model.accuracy(x, y) > 0.95


# -- saving and loading ---------------------------------------------------------------

def trained_bn_model(seed=0):
    model = MLP([4, 6, 3], batch_norm=True, rng=seed)
    x, y = blobs(20, dim=4, seed=seed)
    model.gradient(x, y)     # a training-mode pass moves BatchNorm's running statistics
    return model, x


def snapshot(model):
    return {k: v.copy() for k, v in {**model.params, **model.buffers}.items()}


def assert_unchanged(model, before):
    after = {**model.params, **model.buffers}
    assert after.keys() == before.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key])


def test_save_load_round_trip(tmp_path):
    model, x = trained_bn_model(0)
    path = tmp_path / "weights.npz"
    model.save(path)
    assert os.listdir(tmp_path) == ["weights.npz"]      # no temporary file left behind
    other, _ = trained_bn_model(1)
    arrays_before = other.params
    other.load(path)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    np.testing.assert_array_equal(other.layers[1].running_var, model.layers[1].running_var)
    assert all(other.params[k] is arrays_before[k] for k in arrays_before)   # loaded in place
    with np.load(path, allow_pickle=False) as data:
        architecture = json.loads(str(data["__architecture__"]))
    assert [layer["type"] for layer in architecture] == ["Affine", "BatchNorm", "ReLU", "Affine"]
    assert architecture[0]["shape"]["W"] == [4, 6]


def test_load_refuses_a_different_architecture(tmp_path):
    path = tmp_path / "weights.npz"
    MLP([4, 6, 3], rng=0).save(path)
    other = MLP([4, 7, 3], rng=1)
    before = snapshot(other)
    with pytest.raises(ValueError, match="weights.npz.*different architecture"):
        other.load(path)
    assert_unchanged(other, before)
    with pytest.raises(ValueError, match="different architecture"):
        MLP([4, 6, 3], activation="tanh").load(path)


def test_load_refuses_a_different_dtype(tmp_path):
    path = tmp_path / "weights.npz"
    MLP([4, 6, 3], rng=0).save(path)
    other = MLP([4, 6, 3], rng=1, dtype=np.float32)
    before = snapshot(other)
    with pytest.raises(ValueError, match="float64.*float32"):
        other.load(path)
    assert_unchanged(other, before)


def test_load_refuses_pickled_objects(tmp_path):
    model, _ = trained_bn_model(0)
    path = tmp_path / "evil.npz"
    arrays = {k: v for k, v in {**model.params, **model.buffers}.items()}
    arrays["__architecture__"] = np.array(model.architecture())
    arrays["0.W"] = np.array([{"payload": "would run on unpickling"}], dtype=object)
    np.savez(path, allow_pickle=True, **arrays)
    victim, _ = trained_bn_model(1)
    before = snapshot(victim)
    with pytest.raises(ValueError, match=r"evil\.npz.*pickle"):
        victim.load(path)
    assert_unchanged(victim, before)


def tampered_files(model, folder):
    """Yield (description, path) of damaged copies of a saved model."""
    good = folder / "good.npz"
    model.save(good)
    state = {**model.params, **model.buffers}
    arch = np.array(model.architecture())

    def write(name, arrays):
        path = folder / name
        np.savez(path, **arrays)
        return path

    yield "wrong shape", write("shape.npz", {**state, "__architecture__": arch, "3.b": np.zeros(7)}), r"'3.b' has shape \(7,\)"
    missing = {k: v for k, v in state.items() if k != "1.running_mean"}
    yield "missing key", write("missing.npz", {**missing, "__architecture__": arch}), "missing"
    yield "extra key", write("extra.npz", {**state, "__architecture__": arch, "9.W": np.zeros(2)}), "unexpected"
    yield "no architecture", write("noarch.npz", state), "architecture"
    raw = bytearray(good.read_bytes())
    raw[:4] = b"XXXX"   # the zip magic number
    (folder / "magic.npz").write_bytes(bytes(raw))
    yield "not a zip", folder / "magic.npz", "not a valid"
    raw = bytearray(good.read_bytes())
    for i in range(200, 260):     # flip bytes inside the first member's data: the CRC fails
        raw[i] ^= 0xFF
    (folder / "flipped.npz").write_bytes(bytes(raw))
    yield "flipped bytes", folder / "flipped.npz", "flipped.npz"
    (folder / "cut.npz").write_bytes(good.read_bytes()[:300])
    yield "truncated", folder / "cut.npz", "cut.npz"
    np.save(folder / "single.npy", np.zeros(3))
    yield "a .npy", folder / "single.npy", "not a valid .npz"
    (folder / "text.npz").write_text("hello")
    yield "text", folder / "text.npz", "text.npz"


def test_load_refuses_tampered_files_and_leaves_the_model_unchanged(tmp_path):
    model, _ = trained_bn_model(0)
    victim, _ = trained_bn_model(1)
    before = snapshot(victim)
    for description, path, message in tampered_files(model, tmp_path):
        with pytest.raises(ValueError, match=message) as error:
            victim.load(path)
        assert path.name in str(error.value), description
        assert_unchanged(victim, before)


def test_load_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLP([2, 2]).load(tmp_path / "nope.npz")


def test_custom_loss_layer_and_repr():
    model = Sequential([Affine(3, 4, rng=0), ReLU(), Affine(4, 2, rng=0)], loss=SoftmaxCrossEntropy())
    assert "Affine(3, 4)" in repr(model)
    assert isinstance(model.loss(np.ones((2, 3)), [0, 1]), float)
    with pytest.raises(ValueError, match="weight_decay"):
        Sequential([Tanh()], weight_decay=-1)
    assert BatchNorm  # imported for the architecture names above


def test_backward_skips_the_input_gradient_when_the_first_layer_allows_it():
    calls = []

    class RecordingAffine(Affine):
        def backward(self, dout, input_grad=True):
            calls.append(input_grad)
            dx = super().backward(dout)
            return dx if input_grad else None

    model = Sequential([RecordingAffine(3, 4, rng=0), ReLU(), RecordingAffine(4, 2, rng=0)])
    expected = Sequential([Affine(3, 4, rng=0), ReLU(), Affine(4, 2, rng=0)])
    x, t = np.random.default_rng(0).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    grads, reference = model.gradient(x, t), expected.gradient(x, t)
    assert calls == [True, False]    # the last layer passes dx on; the first has nobody to pass it to
    for key in reference:
        np.testing.assert_array_equal(grads[key], reference[key])


# -- the model contract: state in memory, evaluate, decay by declaration ---------------

def test_state_dict_is_a_copy_and_load_state_dict_assigns_in_place():
    model, x = trained_bn_model(0)
    state = model.state_dict()
    assert set(state) == {"0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var", "3.W", "3.b"}
    assert all(state[k] is not v for k, v in {**model.params, **model.buffers}.items())
    other, _ = trained_bn_model(1)
    arrays_before = other.params
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    assert all(other.params[k] is arrays_before[k] for k in arrays_before)
    state["0.W"][...] = 0.0                      # the copy is the caller's: the model is unchanged
    assert np.any(other.params["0.W"] != 0.0)


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("1.running_mean"), r"missing arrays \['1.running_mean'\]"),
    (lambda s: s.update({"9.W": np.zeros(2)}), r"unexpected arrays \['9.W'\]"),
    (lambda s: s.update({"3.b": np.zeros(7)}), r"'3.b' has shape \(7,\).*expects \(3,\)"),
    (lambda s: s.update({"0.W": s["0.W"].astype(np.float32)}), "float32.*float64"),
    (lambda s: s.update({"0.W": s["0.W"].tolist()}), "'0.W'.*list"),
])
def test_load_state_dict_is_all_or_nothing(change, message):
    source, _ = trained_bn_model(0)
    state = source.state_dict()
    state["0.b"] = state["0.b"] + 1.0     # a valid change, before the invalid one: must not land
    change(state)
    victim, _ = trained_bn_model(1)
    before = snapshot(victim)
    with pytest.raises(ValueError, match=message):
        victim.load_state_dict(state)
    assert_unchanged(victim, before)
    with pytest.raises(ValueError, match="dict of arrays"):
        victim.load_state_dict([1, 2])


def test_evaluate_returns_every_metric():
    x, y = blobs(60, classes=3)
    model = MLP([2, 8, 3], rng=0)
    result = model.evaluate(x, y, metrics=("accuracy", "cross_entropy", "perplexity"), batch_size=7)
    assert set(result) == {"accuracy", "cross_entropy", "perplexity"}
    assert result["accuracy"] == pytest.approx(np.mean(np.argmax(model.predict(x), axis=1) == y))
    assert result["cross_entropy"] == pytest.approx(model.loss(x, y, train=False), rel=1e-12)
    assert result["perplexity"] == pytest.approx(np.exp(result["cross_entropy"]), rel=1e-12)
    with pytest.raises(ValueError, match="no samples"):
        model.evaluate(x[:0], y[:0])
    with pytest.raises(ValueError, match="unknown metric"):
        model.evaluate(x, y, metrics=("f1",))


def test_loss_refuses_an_empty_batch():
    model = MLP([2, 3], rng=0)
    with pytest.raises(ValueError, match="no samples"):
        model.loss(np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_weight_decay_follows_each_layers_declaration():
    class Recurrentish(Affine):      # a weight under another name: declared, so decayed
        decay = ("W", "b")

    class Lookup(Affine):            # a weight named W that declares no decay (like embeddings)
        decay = ()

    x, y = blobs(10, dim=2)
    model = Sequential([Recurrentish(2, 4, rng=0), ReLU(), Lookup(4, 3, rng=1)], weight_decay=0.5)
    assert model.decayed_keys() == ["0.W", "0.b"]
    plain = Sequential([Recurrentish(2, 4, rng=0), ReLU(), Lookup(4, 3, rng=1)])
    penalty = 0.25 * (np.sum(model.params["0.W"] ** 2) + np.sum(model.params["0.b"] ** 2))
    assert model.loss(x, y) == pytest.approx(plain.loss(x, y) + penalty, rel=1e-12)
    g, g_plain = model.gradient(x, y), plain.gradient(x, y)
    np.testing.assert_allclose(g["2.W"], g_plain["2.W"])


def test_per_step_outputs_with_a_custom_layer():
    # a model whose scores are (N, T, K): the loss and accuracy work per position
    class PerStep(Affine):
        def forward(self, x, train=True):
            self.shape = x.shape
            return super().forward(x.reshape(-1, self.n_in)).reshape(x.shape[0], x.shape[1], self.n_out)

        def backward(self, dout, input_grad=True):
            dx = super().backward(np.asarray(dout).reshape(-1, self.n_out), input_grad)
            return None if dx is None else dx.reshape(self.shape)

    rng = np.random.default_rng(0)
    model = Sequential([PerStep(3, 4, rng=0)])
    x, t = rng.standard_normal((5, 6, 3)), rng.integers(0, 4, (5, 6))
    grads = {k: g.copy() for k, g in model.gradient(x, t).items()}
    for key, p in model.params.items():
        assert rel_error(grads[key], numerical_gradient(lambda: model.loss(x, t), p)) < 1e-7
    assert model.accuracy(x, t) == pytest.approx(np.mean(np.argmax(model.predict(x), axis=-1) == t))
