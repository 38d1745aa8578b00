"""scratchdl.parallel: elementwise work split over threads gives the same numbers, bit for
bit, as one thread, and split matrix products agree to float precision; pieces cover every
index once; errors in a piece reach the caller."""
import numpy as np
import pytest

from scratchdl import parallel
from scratchdl.conv import AvgPool2D, Conv2D, MaxPool2D
from scratchdl.layers import Affine, Flatten, ReLU
from scratchdl.models import DeepConvNet, SimpleConvNet
from scratchdl.optimizers import Adam


@pytest.fixture
def workers():
    """Run a test body with 1 worker, then 3 (an odd split), restoring the setting after."""
    old = parallel.get_workers()
    old_minimum = parallel.MIN_PER_WORKER
    parallel.MIN_PER_WORKER = 64          # small test arrays still get split

    def with_workers(n, fn):
        parallel.set_workers(n)
        try:
            return fn()
        finally:
            parallel.set_workers(1)
    yield with_workers
    parallel.MIN_PER_WORKER = old_minimum
    parallel.set_workers(old)


def test_pieces_cover_every_index_once():
    old = parallel.set_workers(3)
    try:
        for n in (1, 2, 3, 7, 100):
            ranges = parallel.pieces(n, size=10 ** 9)
            assert len(ranges) == min(3, n)
            assert [i for a, b in ranges for i in range(a, b)] == list(range(n))
        assert parallel.pieces(100, size=10) == [(0, 100)]       # too small to split
    finally:
        parallel.set_workers(old)


def test_an_error_in_a_piece_reaches_the_caller_after_every_piece_ran(workers):
    done = []

    def piece(a, b):
        done.append(a)
        if a > 0:
            raise ArithmeticError(f"piece {a}")
        return a

    with pytest.raises(ArithmeticError, match="piece"):
        workers(3, lambda: parallel.run(piece, 9, size=10 ** 6))
    assert sorted(done) == [0, 3, 6]


def test_set_workers_rejects_bad_counts():
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="set_workers"):
            parallel.set_workers(bad)


def _train_steps(make_model, x, t, steps=3):
    model = make_model()
    optimizer = Adam(1e-3)
    outputs = []
    for _ in range(steps):
        outputs.append(model.loss(x, t))
        optimizer.step(model.params, model.gradient(x, t))
    return outputs, {k: v.copy() for k, v in model.params.items()}, {k: v.copy() for k, v in model.grads.items()}


@pytest.mark.parametrize("make_model", [
    lambda: SimpleConvNet(input_shape=(1, 12, 12), filters=6, kernel_size=3, hidden=20, rng=0, dtype=np.float32),
    lambda: DeepConvNet(hidden=12, dropout=0.0, rng=1),
], ids=["SimpleConvNet float32", "DeepConvNet float64"])
def test_training_steps_agree_with_threads(workers, make_model):
    """Split matrix products round differently in the last bit (as OpenBLAS's own threads
    do); three training steps still agree to float precision."""
    rng = np.random.default_rng(0)
    model = make_model()
    x = rng.standard_normal((9,) + model.input_shape).astype(model.params["0.W"].dtype)
    t = rng.integers(10, size=9)
    one = workers(1, lambda: _train_steps(make_model, x, t))
    three = workers(3, lambda: _train_steps(make_model, x, t))
    tol = 1e-4 if x.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(one[0], three[0], rtol=tol)            # the losses, step by step
    for key in one[1]:
        np.testing.assert_allclose(one[1][key], three[1][key], rtol=tol, atol=tol)   # weights
        np.testing.assert_allclose(one[2][key], three[2][key], rtol=tol, atol=tol)   # gradients


def _forward_backward(layer, x):
    out = layer.forward(x)
    dout = np.random.default_rng(6).standard_normal(out.shape)
    dx = layer.backward(dout)
    return out.copy(), dx.copy(), {k: g.copy() for k, g in layer.grads.items()}


def _channel_major(x):
    """x with Conv2D's output memory order: (N, C, ...) read from (C, N, ...) memory."""
    return x.swapaxes(0, 1).copy().swapaxes(0, 1)


@pytest.mark.parametrize("layer, shape", [
    (MaxPool2D(2), (6, 3, 8, 8)),
    (MaxPool2D(3, stride=2), (6, 3, 9, 7)),
    (AvgPool2D(2), (6, 3, 8, 8)),
    (ReLU(), (8, 3, 5, 5)),
    (Flatten(), (8, 3, 5, 5)),
], ids=repr)
def test_elementwise_layers_are_bit_identical_with_threads(workers, layer, shape):
    x = _channel_major(np.random.default_rng(5).standard_normal(shape))
    x[0, 0, 0, :2] = 0.0                 # ReLU at zero, and a tie inside a pooling window
    one, three = workers(1, lambda: _forward_backward(layer, x)), workers(3, lambda: _forward_backward(layer, x))
    for a, b in zip(one[:2], three[:2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("layer, shape", [
    (Conv2D(3, 5, 3, stride=2, padding=1, rng=0), (7, 3, 9, 9)),
    (Conv2D(2, 4, (3, 2), padding=(2, 0), rng=1), (5, 2, 6, 7)),
    (Affine(12, 7, rng=2), (9, 4, 12)),
], ids=repr)
def test_layers_with_products_agree_with_threads(workers, layer, shape):
    x = np.random.default_rng(5).standard_normal(shape)
    one, three = workers(1, lambda: _forward_backward(layer, x)), workers(3, lambda: _forward_backward(layer, x))
    for a, b in zip(one[:2], three[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    for key in one[2]:
        np.testing.assert_allclose(one[2][key], three[2][key], rtol=1e-12, atol=1e-12)


def test_adam_is_bit_identical_with_threads(workers):
    rng = np.random.default_rng(7)
    p0 = {"W": rng.standard_normal((40, 30)).astype(np.float32), "b": rng.standard_normal(30)}
    grads = [{k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in p0.items()} for _ in range(3)]

    def run():
        params, optimizer = {k: v.copy() for k, v in p0.items()}, Adam(0.01)
        for g in grads:
            optimizer.step(params, g)
        return params
    one, three = workers(1, run), workers(3, run)
    for key in p0:
        np.testing.assert_array_equal(one[key], three[key])


def test_lstm_and_rnn_agree_with_threads(workers):
    """The LSTM gives each worker a share of the sequences (7 split 3 ways: 2, 2, 3), which
    runs its whole recurrence alone; the weight gradients add the shares' sums. Everything
    a reader sees agrees with one worker, from given and from carried initial states."""
    from scratchdl.recurrent import LSTM, RNN
    rng = np.random.default_rng(8)
    x = rng.standard_normal((7, 5, 6))
    h0, c0 = rng.standard_normal((7, 9)), rng.standard_normal((7, 9))
    for make in (lambda: LSTM(6, 9, rng=0, stateful=True), lambda: RNN(6, 9, rng=1, stateful=True)):
        def run():
            layer, seen = make(), []
            for state in ({"h0": h0, "c0": c0} if isinstance(layer, LSTM) else {"h0": h0}, {}):
                out = layer.forward(x, **state)           # the second call starts from the carried state
                dx = layer.backward(np.random.default_rng(9).standard_normal(out.shape))
                seen += [out, dx, layer.dh0, layer.dh_steps, layer.h_final, layer.hs]
                if isinstance(layer, LSTM):
                    seen += [layer.dc0, layer.cs, layer.tanh_c, layer.c_final]
                seen += [layer.grads[k] for k in sorted(layer.grads)]
                seen = [np.array(a) for a in seen]
            return seen
        one, three = workers(1, run), workers(3, run)
        assert len(one) == len(three)
        for a, b in zip(one, three):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_char_model_training_agrees_with_threads(workers):
    """Three float32 training steps of the character model (dropout on) with 1 and 3 workers."""
    from scratchdl.char_model import CharLanguageModel
    from scratchdl.optimizers import Adam, ClipGradNorm
    ids = np.random.default_rng(3).integers(12, size=(10, 17))

    def run():
        model = CharLanguageModel("abcdefghijkl", embed_dim=5, hidden=8, dropout=0.2, rng=0)
        optimizer, losses = ClipGradNorm(Adam(2e-3), 5.0), []
        for _ in range(3):
            losses.append(model.loss(ids[:, :-1], ids[:, 1:], train=True))
            optimizer.step(model.params, model.backward())
        return losses, {k: v.copy() for k, v in model.params.items()}
    one, three = workers(1, run), workers(3, run)
    np.testing.assert_allclose(one[0], three[0], rtol=1e-5)
    for key in one[1]:
        np.testing.assert_allclose(one[1][key], three[1][key], rtol=1e-4, atol=1e-5)
