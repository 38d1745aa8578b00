"""RNN and LSTM against PyTorch's nn.RNN and nn.LSTM, an independent implementation
(float64; skipped without torch). PyTorch is never a dependency of the book.

The gate order differs: scratchdl keeps (i, f, o, g) in the columns of Wx (D, 4H), PyTorch
(i, f, g, o) in the rows of weight_ih_l0 (4H, D); to_torch_order maps one to the other.
PyTorch has two biases (b_ih and b_hh) that are only ever added: b_ih = b, b_hh = 0.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scratchdl.recurrent import LSTM, RNN, to_torch_order


def t64(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def torch_twin(layer):
    """nn.RNN / nn.LSTM (batch_first) with the weights of ``layer``."""
    d, h = layer.input_size, layer.hidden_size
    Wx, Wh, b = (layer.params[k] for k in ("Wx", "Wh", "b"))
    if isinstance(layer, LSTM):
        module = torch.nn.LSTM(d, h, batch_first=True).double()
        Wx, Wh, b = to_torch_order(Wx, h), to_torch_order(Wh, h), to_torch_order(b, h)
    else:
        module = torch.nn.RNN(d, h, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        module.weight_ih_l0.copy_(t64(Wx.T))
        module.weight_hh_l0.copy_(t64(Wh.T))
        module.bias_ih_l0.copy_(t64(b))
        module.bias_hh_l0.zero_()
    return module


def to_torch_grads(layer, module):
    """The torch module's gradients in scratchdl's layout and gate order."""
    h = layer.hidden_size
    gx, gh = module.weight_ih_l0.grad.numpy().T, module.weight_hh_l0.grad.numpy().T
    gb = module.bias_ih_l0.grad.numpy()
    np.testing.assert_allclose(module.bias_hh_l0.grad.numpy(), gb, rtol=1e-12)   # the same sum
    if isinstance(layer, LSTM):   # torch order (i, f, g, o) back to (i, f, o, g): swap g and o
        back = lambda a: np.concatenate([a[..., :2 * h], a[..., 3 * h:], a[..., 2 * h:3 * h]], axis=-1)
        gx, gh, gb = back(gx), back(gh), back(gb)
    return {"Wx": gx, "Wh": gh, "b": gb}


@pytest.mark.parametrize("cls", [RNN, LSTM])
@pytest.mark.parametrize("n, t, d, h", [(1, 1, 2, 3), (3, 7, 4, 5), (2, 30, 3, 8)])
def test_matches_torch_forward_backward_and_state(cls, n, t, d, h):
    rng = np.random.default_rng(0)
    layer = cls(d, h, rng=1)
    layer.params["b"][:] = rng.standard_normal(layer.params["b"].shape) * 0.5
    x = rng.standard_normal((n, t, d))
    h0 = rng.standard_normal((n, h)) * 0.5
    c0 = rng.standard_normal((n, h)) * 0.5
    state = {"h0": h0, "c0": c0} if cls is LSTM else {"h0": h0}
    out = layer.forward(x, **state)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)

    module = torch_twin(layer)
    tx, th0, tc0 = t64(x, True), t64(h0[None], True), t64(c0[None], True)
    if cls is LSTM:
        t_out, (t_h, t_c) = module(tx, (th0, tc0))
    else:
        t_out, t_h = module(tx, th0)
    t_out.backward(t64(dout))

    close = {"rtol": 1e-10, "atol": 1e-12}
    np.testing.assert_allclose(out, t_out.detach().numpy(), **close)
    np.testing.assert_allclose(layer.h_final, t_h.detach().numpy()[0], **close)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **close)
    np.testing.assert_allclose(layer.dh0, th0.grad.numpy()[0], **close)
    if cls is LSTM:
        np.testing.assert_allclose(layer.c_final, t_c.detach().numpy()[0], **close)
        np.testing.assert_allclose(layer.dc0, tc0.grad.numpy()[0], **close)
    for key, value in to_torch_grads(layer, module).items():
        np.testing.assert_allclose(layer.grads[key], value, **close, err_msg=key)


def test_stateful_lstm_matches_torch_over_consecutive_batches():
    # truncated BPTT: torch carries (h, c).detach() from one window to the next
    rng = np.random.default_rng(2)
    layer = LSTM(3, 4, stateful=True, rng=0)
    module = torch_twin(layer)
    x = rng.standard_normal((2, 12, 3))
    state = None
    for start in (0, 4, 8):
        out = layer.forward(x[:, start:start + 4])
        dout = rng.standard_normal(out.shape)
        layer.backward(dout)
        module.zero_grad()
        t_out, state = module(t64(x[:, start:start + 4]), state)
        t_out.backward(t64(dout))
        state = tuple(s.detach() for s in state)
        np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        for key, value in to_torch_grads(layer, module).items():
            np.testing.assert_allclose(layer.grads[key], value, rtol=1e-10, atol=1e-12, err_msg=key)


def test_float32_lstm_close_to_torch():
    rng = np.random.default_rng(3)
    layer = LSTM(16, 32, rng=0, dtype=np.float32)
    x = rng.standard_normal((4, 50, 16)).astype(np.float32)
    out = layer.forward(x)
    module = torch_twin(layer).float()
    t_out, _ = module(torch.from_numpy(x))
    np.testing.assert_allclose(out, t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
