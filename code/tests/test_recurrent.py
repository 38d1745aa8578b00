"""Recurrent layers (scratchdl/recurrent.py) and the character language model (scratchdl/char_model.py).

float64 gradient checks of RNN and LSTM over several time steps with respect to the
inputs, every weight and the initial state (relative error < 1e-7); the Layer contract
(no mutation, shape errors, state round trip); stateful carrying for truncated
backpropagation through time; and the language model's sampling, files and losses.
"""
import numpy as np
import pytest
from scratchdl.gradients import numerical_gradient, rel_error
from scratchdl.models import Sequential
from scratchdl.char_model import CharLanguageModel
from scratchdl.recurrent import LSTM, RNN, to_torch_order

TOL = 1e-7


def make(cls, d=3, h=4, seed=1, **kwargs):
    layer = cls(d, h, rng=seed, **kwargs)
    layer.params["b"][:] = np.random.default_rng(seed + 10).standard_normal(layer.params["b"].shape)
    return layer


def state_kwargs(cls, n, h, rng):
    state = {"h0": rng.standard_normal((n, h))}
    if cls is LSTM:
        state["c0"] = rng.standard_normal((n, h))
    return state


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("n, t", [(2, 1), (3, 6)])
def test_gradient_check_inputs_weights_and_initial_state(cls, n, t):
    rng = np.random.default_rng(0)
    layer = make(cls)
    x = rng.standard_normal((n, t, 3))
    state = state_kwargs(cls, n, 4, rng)
    dout = rng.standard_normal((n, t, 4))

    def loss():
        return float(np.sum(layer.forward(x, **state) * dout))

    layer.forward(x, **state)
    dx = layer.backward(dout)
    analytic = {"x": dx, "h0": layer.dh0.copy(), **{k: g.copy() for k, g in layer.grads.items()}}
    if cls is LSTM:
        analytic["c0"] = layer.dc0.copy()
    numeric = {"x": numerical_gradient(loss, x)}
    numeric.update({k: numerical_gradient(loss, p) for k, p in layer.params.items()})
    numeric.update({k: numerical_gradient(loss, v) for k, v in state.items()})
    assert set(analytic) == set(numeric)
    for key, value in analytic.items():
        err = rel_error(value, numeric[key])
        assert err < TOL, f"{cls.__name__} d{key}: relative error {err:.2e}"


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_dh_steps_is_the_gradient_of_each_hidden_state(cls):
    # perturbing h_t directly is not possible, but d loss / d h_0 is dh0, and the last
    # step's dh_steps is exactly dout there (nothing comes after it)
    rng = np.random.default_rng(3)
    layer = make(cls)
    x = rng.standard_normal((2, 5, 3))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    layer.backward(dout)
    np.testing.assert_allclose(layer.dh_steps[:, -1], dout[:, -1])
    # one step back: dh_{T-2} = dout_{T-2} + d loss / d h_{T-2} through step T-1
    shorter = make(cls)
    shorter.forward(x[:, -1:], h0=layer.hs[-2], **({"c0": layer.cs[-2]} if cls is LSTM else {}))
    shorter.backward(dout[:, -1:])
    np.testing.assert_allclose(layer.dh_steps[:, -2], dout[:, -2] + shorter.dh0, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_backward_changes_neither_x_nor_dout(cls):
    rng = np.random.default_rng(0)
    layer = make(cls)
    x = rng.standard_normal((2, 4, 3))
    x_before = x.copy()
    dout = rng.standard_normal(layer.forward(x).shape)
    dout_before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(dout, dout_before)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_bad_shapes_raise_clear_errors(cls):
    layer = make(cls)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, T, 3\), got \(4, 3\).*x\[None\]"):
        layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"expected input of shape \(N, T, 3\), got \(2, 4, 5\)"):
        layer.forward(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=r"Embedding first"):
        layer.forward(np.ones((2, 4), dtype=int))
    with pytest.raises(ValueError, match=r"empty batch"):
        layer.forward(np.ones((2, 0, 3)))
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 4\)"):
        layer.forward(np.ones((2, 5, 3)), h0=np.zeros((4,)))
    with pytest.raises(RuntimeError, match=r"backward\(\) called before forward\(\)"):
        make(cls).backward(np.ones((2, 5, 4)))
    layer.forward(np.ones((2, 5, 3)))
    with pytest.raises(ValueError, match=rf"{cls.__name__}.*backward expected dout of shape \(2, 5, 4\)"):
        layer.backward(np.ones((2, 5, 3)))


def test_lstm_c0_shape_error():
    with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 4\)"):
        make(LSTM).forward(np.ones((2, 5, 3)), c0=np.zeros((2, 3)))


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_stateful_carries_the_final_state_and_reset_clears_it(cls):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 3))
    whole = make(cls).forward(x)
    layer = make(cls, stateful=True)
    halves = np.concatenate([layer.forward(x[:, :4]), layer.forward(x[:, 4:])], axis=1)
    np.testing.assert_allclose(halves, whole, rtol=1e-12, atol=1e-14)   # state carried across
    # truncated BPTT: the second half's gradient stops at its start (no error, no mixing)
    layer.backward(np.ones((2, 4, 4)))
    layer.reset_state()
    np.testing.assert_allclose(layer.forward(x[:, :4]), whole[:, :4], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match=r"reset_state"):
        layer.forward(x[:1, :4])                    # the carried state is for 2 sequences
    stateless = make(cls)
    first = stateless.forward(x[:, :4])
    np.testing.assert_array_equal(stateless.forward(x[:, :4]), first)   # never carries


def test_lstm_state_is_final_h_and_c():
    layer = make(LSTM)
    h = layer.forward(np.random.default_rng(0).standard_normal((2, 5, 3)))
    np.testing.assert_array_equal(layer.h_final, h[:, -1])
    assert layer.c_final.shape == (2, 4)


def test_forget_bias_and_gate_order():
    layer = LSTM(3, 2, forget_bias=1.5, rng=0)
    np.testing.assert_array_equal(layer.params["b"], [0, 0, 1.5, 1.5, 0, 0, 0, 0])
    b = np.arange(8.0)   # blocks i=[0,1], f=[2,3], o=[4,5], g=[6,7] -> torch i, f, g, o
    np.testing.assert_array_equal(to_torch_order(b, 2), [0, 1, 2, 3, 6, 7, 4, 5])


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_state_round_trip_and_decay(cls):
    source, target = Sequential([make(cls, seed=1)]), Sequential([make(cls, seed=2)])
    target.load_state_dict(source.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 3, 3))
    np.testing.assert_array_equal(target.predict(x), source.predict(x))
    layer = make(cls)
    assert layer.decay == ("Wx", "Wh") and set(layer.params) == set(layer.grads) == {"Wx", "Wh", "b"}
    out = layer.forward(x)
    assert layer.backward(np.ones_like(out), input_grad=False) is None


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_a_call_reuses_the_last_calls_memory_but_never_what_a_reader_holds(cls):
    """Calls of the same shapes write into the arrays of the call before (fresh memory
    costs a pass to touch), except those something outside the layer still refers to: the
    states a reader kept, a view of them, or the output itself (a view of the layer's
    states when there is one sequence or one step)."""
    rng = np.random.default_rng(4)
    layer = make(cls)
    x = rng.standard_normal((3, 6, 3))
    layer.backward(layer.forward(x))
    layer.backward(layer.forward(x))
    kept = {name: id(a) for method in layer._memory.kept.values() for name, a in method.items()}
    layer.backward(layer.forward(x))
    assert {name: id(a) for method in layer._memory.kept.values() for name, a in method.items()} == kept

    held = {"hs": layer.hs, "dh_steps": layer.dh_steps, "cell view": getattr(layer, "cs", layer.hs)[1:, 0]}
    copies = {name: a.copy() for name, a in held.items()}
    layer.backward(layer.forward(2 * x))
    for name, a in held.items():
        np.testing.assert_array_equal(a, copies[name], err_msg=name)
    assert layer.hs is not held["hs"]

    for shape in ((1, 6, 3), (3, 1, 3)):     # one sequence, one step: the output views hs
        x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
        first = layer.forward(x1)
        expected = first.copy()
        layer.forward(x2)
        np.testing.assert_array_equal(first, expected)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_float32_stays_float32(cls):
    layer = cls(3, 4, rng=0, dtype=np.float32)
    out = layer.forward(np.ones((2, 3, 3)))
    dx = layer.backward(np.ones_like(out))
    assert out.dtype == dx.dtype == layer.grads["Wh"].dtype == np.float32


# --- the character language model -------------------------------------------------------------

TEXT = "to be, or not to be: that is the question. " * 20


def small_model(**kwargs):
    return CharLanguageModel(sorted(set(TEXT)), embed_dim=5, hidden=8, rng=0, **kwargs)


def test_model_shapes_and_full_gradient_check():
    model = CharLanguageModel("abcd", embed_dim=3, hidden=4, layers=2, rng=0, dtype=np.float64)
    ids = np.random.default_rng(0).integers(0, 4, (2, 5))
    targets = np.random.default_rng(1).integers(0, 4, (2, 5))
    assert model.predict(ids).shape == (2, 5, 4)
    model.reset_state()
    model.loss(ids, targets)
    grads = {k: g.copy() for k, g in model.backward().items()}

    def loss():
        model.reset_state()
        return model.loss(ids, targets)

    for key, p in model.params.items():
        err = rel_error(grads[key], numerical_gradient(loss, p))
        assert err < TOL, f"{key}: relative error {err:.2e}"


def test_encode_decode_and_unknown_characters():
    model = small_model()
    assert model.decode(model.encode("to be")) == "to be"
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['z'\]"):
        model.encode("zoo")


def test_temperature_zero_is_argmax_and_the_limit_of_small_temperatures():
    model = small_model()
    greedy = model.sample("to ", 30, temperature=0)
    assert model.sample("to ", 30, temperature=1e-6, rng=0) == greedy
    # argmax decoding by hand
    ids, text = list(model.encode("to ")), ""
    for _ in range(30):
        model.reset_state()
        nxt = int(np.argmax(model.predict(np.array([ids]))[0, -1]))
        ids.append(nxt)
        text += model.chars[nxt]
    assert text == greedy


def test_sampling_is_reproducible_and_leaves_the_training_state_alone():
    model = small_model()
    x = model.encode(TEXT[:20])[None, :]
    model.predict(x, train=True)
    carried = [layer.carried for layer in model.recurrent_layers]
    a = model.sample("to", 40, temperature=1.0, rng=5)
    assert a == model.sample("to", 40, temperature=1.0, rng=5)
    assert a != model.sample("to", 40, temperature=1.0, rng=6)
    assert len(a) == 40 and set(a) <= set(model.chars)
    assert [layer.carried for layer in model.recurrent_layers] == carried
    top1 = model.sample("to", 20, temperature=1.0, top_k=1, rng=7)
    assert top1 == model.sample("to", 20, temperature=0)


def test_sample_rejects_bad_arguments():
    model = small_model()
    for kwargs, message in [({"prompt": ""}, "non-empty prompt"), ({"temperature": -1}, "temperature >= 0"),
                            ({"top_k": 0}, "top_k"), ({"prompt": "xyz"}, "not in the vocabulary")]:
        args = {"prompt": "to", "n": 3, **kwargs}
        with pytest.raises(ValueError, match=message):
            model.sample(**args)


def test_text_loss_matches_the_model_loss():
    model = small_model(dtype=np.float64)
    ids = model.encode(TEXT[:101])
    model.reset_state()
    direct = model.loss(ids[None, :-1], ids[None, 1:], train=False)
    assert model.text_loss(TEXT[:101], streams=1, seq_len=30) == pytest.approx(direct, rel=1e-12)
    assert 0 < model.text_loss(TEXT, streams=4) < 2 * np.log(len(model.chars))


def test_save_and_load_round_trip(tmp_path):
    model = CharLanguageModel(sorted(set(TEXT)), embed_dim=5, hidden=8, dropout=0.2, rng=3)
    path = tmp_path / "char.npz"
    model.metadata = {"validation loss": 1.5, "log": ["epoch 1"]}
    model.save(path)
    loaded = CharLanguageModel.from_file(path)
    assert loaded.chars == model.chars and loaded.config == model.config
    assert loaded.metadata == model.metadata
    for key, value in model.params.items():
        np.testing.assert_array_equal(loaded.params[key], value)
    assert loaded.sample("to", 20, rng=1) == model.sample("to", 20, rng=1)
    with pytest.raises(ValueError, match="another vocabulary"):
        CharLanguageModel("abc", embed_dim=5, hidden=8, dropout=0.2).load(path)
    with pytest.raises(ValueError, match="different architecture"):
        CharLanguageModel(model.chars, embed_dim=5, hidden=9, dropout=0.2).load(path)


def test_training_lowers_the_loss():
    from scratchdl.char_model import char_lstm_train
    train = TEXT * 3
    valid = {"A": TEXT[:300], "B": TEXT[100:500]}
    model, report = char_lstm_train(epochs=2, seed=0, progress=False, data=(train, valid),
                                    config={"embed_dim": 8, "hidden": 16, "batch_size": 4, "seq_len": 20,
                                            "learning_rate": 1e-2})
    assert report["validation loss"] < np.log(len(model.chars))
    assert set(report) >= {"validation loss", "validation loss A", "validation loss B", "log", "train loss"}
    assert len(report["log"]) >= 2


def test_training_stops_after_max_steps_with_the_schedule_of_the_whole_run():
    from scratchdl.char_model import char_lstm_train
    valid = {"A": TEXT[:300]}
    config = {"embed_dim": 4, "hidden": 6, "batch_size": 2, "seq_len": 10, "max_steps": 3}
    model, report = char_lstm_train(epochs=2, seed=0, progress=False, data=(TEXT, valid), config=config)
    per_epoch = (len(TEXT) - 10 - 1) // 2 // 10
    assert report["log"] == [report["log"][0]] and report["log"][0].startswith(f"epoch {3 / per_epoch:5.2f}")
    assert model.metadata["config"]["max_steps"] == 3 and "training seconds" not in model.metadata
