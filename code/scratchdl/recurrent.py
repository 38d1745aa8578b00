"""Recurrent layers (chapter 10): a tanh RNN and an LSTM over whole sequences (the
character-level language model built from them is in scratchdl.char_model).

Both layers map x: (N, T, D) -> h: (N, T, H), N sequences of T steps of D features, and
keep the Layer contract of scratchdl.layers. backward() is backpropagation through time:
it walks the T steps backwards, once.

**State.** Each layer starts from an initial state and ends in a final one:

- ``forward(x, train, h0=None, c0=None)``: the initial state (N, H) may be given
  explicitly (the LSTM also has a cell state c0; the RNN has none). Otherwise a
  ``stateful`` layer starts from the final state of its previous forward() (detached: no
  gradient flows back into the previous batch: truncated backpropagation through time),
  and any other layer, or a stateful one after ``reset_state()``, starts from zeros.
- after forward(): ``h_final`` (and ``c_final``), the final state, (N, H).
- after backward(): ``dh0`` (and ``dc0``), d loss / d initial state, (N, H); and
  ``dh_steps``, (N, T, H): d loss / d h_t for every step t, through every path (the
  numbers chapter 10 plots to watch gradients vanish).

**LSTM gate order.** The columns of ``Wx`` (D, 4H), ``Wh`` (H, 4H) and ``b`` (4H,) hold the
four gates in the order **(i, f, o, g)**: input, forget, output gates (sigmoid), then the
candidate g (tanh); the three sigmoids are one contiguous block. PyTorch's nn.LSTM keeps
(i, f, g, o) in the rows of weight_ih_l0 (4H, D): see ``to_torch_order``.

Speed (float32 is the dtype for training): the input projection of all T steps is one
matrix product before the loop; each step then costs one product h_{t-1} @ Wh for all four
gates and a few elementwise passes into preallocated buffers. backward() keeps every
step's gate gradients and gets dWx, dWh, db and dx from one product each after the loop.
With several workers (scratchdl.parallel) the LSTM gives each a share of the sequences of the
batch: sequences do not interact, so each worker runs the whole recurrence of its own
without waiting for the others (only the weights' gradients sum over all of them).

**Memory.** A layer keeps the large arrays of one call (every step's gates, cell states,
gradients: about 160 MB a training step for 512 units, batch 64, 100 steps) and writes
the next call of the same shapes into them: touching fresh memory costs about as much as
a pass of arithmetic over it. An array is reused only while nothing outside the layer
holds it or a view of it, so ``cs``, ``tanh_c`` or ``dh_steps`` kept by a reader are never
overwritten; the next call then gets new memory instead.
"""
import math
import sys

import numpy as np

from . import parallel
from .layers import Layer
from .utils import as_rng, check_positive_int


def _check_state(value, name, shape, dtype, owner):
    value = np.asarray(value)
    if value.shape != shape:
        raise ValueError(f"{owner} expected {name} of shape {shape} (N, H), got {value.shape}")
    return value.astype(dtype, copy=False)


def _references_alone():
    """What sys.getrefcount reports for an array only ``_Memory.take`` holds (calibrated
    with the same pattern of references, so it follows the Python version)."""
    kept = {"a": np.empty(0)}
    old = kept.pop("a")
    return sys.getrefcount(old)


_ALONE = _references_alone()


class _Memory:
    """The arrays one method of a layer wrote into on its last call, for the next call."""

    def __init__(self):
        self.kept = {}

    def call(self, method):
        """take(name, shape, dtype) for a new call of ``method``: the last call's array of
        that name if it has that shape and dtype and nothing else holds it, else a new
        empty one. Arrays the new call does not take are let go."""
        last = self.kept.get(method, {})
        kept = self.kept[method] = {}

        def take(name, shape, dtype):
            old = last.pop(name, None)
            if old is None or old.shape != shape or old.dtype != dtype or sys.getrefcount(old) > _ALONE:
                old = np.empty(shape, dtype=dtype)
            kept[name] = old
            return old
        return take

    def __deepcopy__(self, memo):       # a copied layer starts with no memory of its own
        return _Memory()


def _forget(layer, *names):
    """Drop the layer's references to the last call's arrays, so that call's memory can be
    taken again (and backward() after a failed forward() says forward() is missing)."""
    for name in names:
        layer.__dict__.pop(name, None)


class _Recurrent(Layer):
    """What the RNN and the LSTM share: parameters, input checks and carried state."""

    decay = ("Wx", "Wh")
    gates = 1
    state_names = ("h",)

    def __init__(self, input_size, hidden_size, stateful=False, rng=None, dtype=np.float64):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_positive_int(input_size, "input_size", name)
        self.hidden_size = check_positive_int(hidden_size, "hidden_size", name)
        self.stateful = bool(stateful)
        self.dtype = np.dtype(dtype)
        d, h, g = self.input_size, self.hidden_size, self.gates
        # uniform in +-1/sqrt(H), as PyTorch's recurrent layers start
        scale = 1.0 / math.sqrt(h)
        rng = as_rng(rng)
        self.params = {"Wx": rng.uniform(-scale, scale, (d, g * h)).astype(self.dtype),
                       "Wh": rng.uniform(-scale, scale, (h, g * h)).astype(self.dtype),
                       "b": np.zeros(g * h, dtype=self.dtype)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.carried = None        # the state a stateful layer passes to its next forward()
        self._memory = _Memory()

    def reset_state(self):
        """Forget the carried state: the next forward() starts from zeros."""
        self.carried = None

    def _input(self, x):
        x = np.asarray(x)
        if x.dtype.kind not in "fiu":
            raise ValueError(f"{self!r} expected a numeric array, got dtype {x.dtype}")
        if x.ndim != 3 or x.shape[2] != self.input_size:
            hint = ""
            if x.ndim == 2 and x.shape[1] == self.input_size:
                hint = ": one sequence of T steps is x[None], T sequences of one step x[:, None]"
            elif x.ndim == 2 and x.dtype.kind in "iu":
                hint = ": token ids go through an Embedding first"
            raise ValueError(f"{self!r} expected input of shape (N, T, {self.input_size}), got {x.shape}{hint}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{self!r} got an empty batch (input of shape {x.shape})")
        # time-major inside: step t is then one contiguous (N, D) block
        return np.ascontiguousarray(x.transpose(1, 0, 2), dtype=self.dtype)

    def _initial(self, n, given):
        """The initial state arrays, one per name in state_names, each (N, H)."""
        shape = (n, self.hidden_size)
        owner = f"{self!r}.forward"
        if any(v is not None for v in given):
            return [np.zeros(shape, self.dtype) if v is None else _check_state(v, f"{name}0", shape, self.dtype, owner)
                    for v, name in zip(given, self.state_names)]
        if self.stateful and self.carried is not None:
            if self.carried[0].shape != shape:
                raise ValueError(f"{owner}: the carried state is for {self.carried[0].shape[0]} sequences, "
                                 f"this batch has {n}; call reset_state() between data of different batch sizes")
            return list(self.carried)
        return [np.zeros(shape, self.dtype) for _ in self.state_names]

    def __repr__(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}" + \
            (", stateful=True)" if self.stateful else ")")


def _rows_times(a, b, out):
    """out = a @ b, the workers (scratchdl.parallel) taking a share of the rows each."""
    parallel.run(lambda r0, r1: np.matmul(a[r0:r1], b, out=out[r0:r1]), len(a), out.size)


class RNN(_Recurrent):
    """The plain (Elman) recurrent layer: h_t = tanh(x_t Wx + h_{t-1} Wh + b).

    x: (N, T, D) -> h: (N, T, H). Wx: (D, H), Wh: (H, H), b: (H,). Initial state h0: (N, H)
    (see the module docstring for h0, h_final, dh0, dh_steps and ``stateful``).
    """

    def forward(self, x, train=True, h0=None):
        xt = self._input(x)
        T, n, _ = xt.shape
        H = self.hidden_size
        Wh = self.params["Wh"]
        (h_init,) = self._initial(n, (h0,))
        _forget(self, "xt", "hs")
        take = self._memory.call("forward")
        hs = take("hs", (T + 1, n, H), self.dtype)        # hs[t + 1] = h_t; hs[0] = h0
        hs[0] = h_init
        a = hs[1:].reshape(T * n, H)
        np.matmul(xt.reshape(T * n, -1), self.params["Wx"], out=a)   # every step's x_t Wx at once
        a += self.params["b"]
        tmp = np.empty((n, H), dtype=self.dtype)
        for t in range(T):
            np.matmul(hs[t], Wh, out=tmp)
            np.add(hs[t + 1], tmp, out=hs[t + 1])
            np.tanh(hs[t + 1], out=hs[t + 1])
        self.xt, self.hs = xt, hs
        self.h_final = hs[T].copy()
        if self.stateful:
            self.carried = (self.h_final.copy(),)
        return np.ascontiguousarray(hs[1:].transpose(1, 0, 2))

    def backward(self, dout, input_grad=True):
        """dout: (N, T, H) -> dx: (N, T, D); fills grads, dh0 and dh_steps."""
        hs = self._cached("hs")
        T, n, H = hs.shape[0] - 1, hs.shape[1], self.hidden_size
        dout = self._check_dout(dout, (n, T, H)).transpose(1, 0, 2)
        WhT = self.params["Wh"].T
        _forget(self, "dh_steps")
        take = self._memory.call("backward")
        dh = take("dh", (T, n, H), self.dtype)            # d loss / d h_t, every path
        da = take("da", (T, n, H), self.dtype)            # d loss / d (pre-activation at t)
        dh_next = np.zeros((n, H), dtype=self.dtype)
        for t in range(T - 1, -1, -1):
            np.add(dout[t], dh_next, out=dh[t])
            np.multiply(hs[t + 1], hs[t + 1], out=da[t])  # tanh' = 1 - h^2
            np.subtract(1.0, da[t], out=da[t])
            da[t] *= dh[t]
            np.matmul(da[t], WhT, out=dh_next)
        self._finish(da, hs[:-1])
        self.dh0 = dh_next
        self.dh_steps = dh.transpose(1, 0, 2)
        return self._dx(da) if input_grad else None

    def _finish(self, da, h_prev):
        """dWx, dWh, db from every step's gradients, one product each."""
        rows = da.reshape(-1, da.shape[-1])
        for inputs, grad in ((self.xt.reshape(rows.shape[0], -1), self.grads["Wx"]),
                             (h_prev.reshape(rows.shape[0], -1), self.grads["Wh"])):
            # workers (scratchdl.parallel) take a share of the gradient's rows each
            parallel.run(lambda a, b: np.matmul(inputs[:, a:b].T, rows, out=grad[a:b]), len(grad), rows.size)
        np.sum(rows, axis=0, out=self.grads["b"])

    def _dx(self, da):
        T, n = da.shape[:2]
        dx = np.empty((T * n, self.input_size), dtype=self.dtype)
        _rows_times(da.reshape(T * n, -1), self.params["Wx"].T, dx)
        return dx.reshape(T, n, -1).transpose(1, 0, 2)


class LSTM(RNN):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997; with the forget gate of Gers
    et al., 2000), over whole sequences.

        [i, f, o, g] = [sigma, sigma, sigma, tanh](x_t Wx + h_{t-1} Wh + b)
        c_t = f * c_{t-1} + i * g        (the cell: forget some, write some)
        h_t = o * tanh(c_t)              (read some)

    x: (N, T, D) -> h: (N, T, H). Wx: (D, 4H), Wh: (H, 4H), b: (4H,), the gates in the
    order (i, f, o, g). Initial state h0, c0: (N, H) each (see the module docstring for
    h_final, c_final, dh0, dc0, dh_steps and ``stateful``). forget_bias: the starting value
    of the forget gate's bias (1.0 keeps the cell open at first, Jozefowicz et al., 2015;
    PyTorch starts every bias near 0).
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, input_size, hidden_size, forget_bias=1.0, stateful=False, rng=None, dtype=np.float64):
        super().__init__(input_size, hidden_size, stateful=stateful, rng=rng, dtype=dtype)
        self.forget_bias = float(forget_bias)
        self.params["b"][self.hidden_size:2 * self.hidden_size] = self.forget_bias

    def forward(self, x, train=True, h0=None, c0=None):
        xt = self._input(x)
        T, n, _ = xt.shape
        H = self.hidden_size
        h_init, c_init = self._initial(n, (h0, c0))
        _forget(self, "xt", "hs", "cs", "tanh_c", "shares")
        take = self._memory.call("forward")
        # sigma(z) = (1 + tanh(z / 2)) / 2: with the sigmoid gates' columns of the weights
        # halved, one tanh over all four gates gives tanh(z / 2) for them and tanh(z) for g
        half = np.ones(4 * H, dtype=self.dtype)
        half[:3 * H] = 0.5
        Wx, Wh, b = (self.params[k] * half for k in ("Wx", "Wh", "b"))
        # Workers (scratchdl.parallel) take a share of the sequences each (rows r0..r1-1 of
        # the batch), in arrays of their own; with one worker, one share holds everything.
        groups = parallel.pieces(n, T * n * 4 * H)
        out = None if len(groups) == 1 else np.empty((n, T, H), dtype=self.dtype)
        shares = {}

        def share(r0, r1):
            k = r1 - r0
            x2 = xt.reshape(T * n, -1) if k == n else xt[:, r0:r1].reshape(T * k, -1)
            gates = take(f"gates{r0}", (T, k, 4 * H), self.dtype)    # pre-activations, then gates
            np.matmul(x2, Wx, out=gates.reshape(T * k, 4 * H))         # every step's x_t Wx
            gates += b
            hs = take(f"hs{r0}", (T + 1, k, H), self.dtype)           # hs[t + 1] = h_t; hs[0] = h0
            hs[0] = h_init[r0:r1]
            cs = take(f"cs{r0}", (T + 1, k, H), self.dtype)
            cs[0] = c_init[r0:r1]
            tanh_c = take(f"tanh_c{r0}", (T, k, H), self.dtype)
            tmp = np.empty((k, 4 * H), dtype=self.dtype)
            for t in range(T):
                a = gates[t]
                np.matmul(hs[t], Wh, out=tmp)               # all four gates in one product
                a += tmp
                np.tanh(a, out=a)
                s = a[:, :3 * H]                            # i, f, o = (1 + tanh(z / 2)) / 2
                s *= 0.5
                s += 0.5
                g = a[:, 3 * H:]
                c = cs[t + 1]
                np.multiply(a[:, H:2 * H], cs[t], out=c)    # f * c_{t-1}
                ig = tmp[:, :H]
                np.multiply(a[:, :H], g, out=ig)            # + i * g
                c += ig
                np.tanh(c, out=tanh_c[t])
                np.multiply(a[:, 2 * H:3 * H], tanh_c[t], out=hs[t + 1])    # h = o tanh(c)
            if out is not None:
                out[r0:r1] = hs[1:].transpose(1, 0, 2)
            shares[r0] = (x2, hs, gates, cs, tanh_c)
        parallel.run(share, n, T * n * 4 * H)
        self.shares = [shares[r0] for r0, _ in groups]
        self.groups, self.xt = groups, xt
        # h_t, the cell states and tanh(c) of every step, (T + 1, N, H), (T + 1, N, H) and
        # (T, N, H), for readers and backward()
        self.hs, self.cs, self.tanh_c = (self.shares[0][1:2] + self.shares[0][3:] if len(groups) == 1 else
                                         [np.concatenate([v[i] for v in self.shares], axis=1) for i in (1, 3, 4)])
        self.h_final, self.c_final = self.hs[T].copy(), self.cs[T].copy()
        if self.stateful:
            self.carried = (self.h_final.copy(), self.c_final.copy())
        return np.ascontiguousarray(self.hs[1:].transpose(1, 0, 2)) if out is None else out

    def backward(self, dout, input_grad=True):
        """dout: (N, T, H) -> dx: (N, T, D); fills grads, dh0, dc0 and dh_steps."""
        shares = self._cached("shares")
        groups = self.groups
        T, n, H = self.hs.shape[0] - 1, self.hs.shape[1], self.hidden_size
        dout = self._check_dout(dout, (n, T, H)).transpose(1, 0, 2)
        _forget(self, "dh_steps")
        take = self._memory.call("backward")
        WhT = np.ascontiguousarray(self.params["Wh"].T)     # (4H, H)
        WxT = self.params["Wx"].T                           # (4H, D)
        D = WxT.shape[1]
        dh = take("dh", (T, n, H), self.dtype)              # d loss / d h_t, every path
        dh0, dc0 = np.empty((n, H), dtype=self.dtype), np.empty((n, H), dtype=self.dtype)
        # each share's sums over its own sequences: the first straight into the gradients
        names = ("Wx", "Wh", "b")
        sums = [tuple(self.grads[k] for k in names)] + \
            [tuple(take(f"d{k}{r0}", self.grads[k].shape, self.dtype) for k in names) for r0, _ in groups[1:]]
        dx = None
        if input_grad:
            dx = np.empty((T * n, D), dtype=self.dtype) if len(groups) == 1 else np.empty((n, T, D), dtype=self.dtype)

        def share(r0, r1):
            k = r1 - r0
            share_index = groups.index((r0, r1))
            x2, hs, gates, cs, tanh_c = shares[share_index]
            dgates = take(f"dgates{r0}", gates.shape, self.dtype)     # d loss / d pre-activations
            dh_next = np.zeros((k, H), dtype=self.dtype)
            dc = np.zeros((k, H), dtype=self.dtype)         # d loss / d c_t, carried backwards
            tmp, o_dtanh, sd = (np.empty((k, width * H), dtype=self.dtype) for width in (1, 1, 3))
            for t in range(T - 1, -1, -1):
                if t < T - 1:                               # d loss / d h_t through h_{t+1}
                    np.matmul(dgates[t + 1], WhT, out=dh_next)
                a, da = gates[t], dgates[t]
                s, f, o, g = a[:, :3 * H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
                di, df, do, dg = da[:, :H], da[:, H:2 * H], da[:, 2 * H:3 * H], da[:, 3 * H:]
                # What does not depend on the gradient flowing back: o_t (1 - tanh(c_t)^2)
                # = o_t - h_t tanh(c_t); each sigmoid's s (1 - s); and i (1 - g^2), g's
                # derivative times i, written where dg goes
                np.multiply(hs[t + 1], tanh_c[t], out=o_dtanh)
                np.subtract(o, o_dtanh, out=o_dtanh)
                np.subtract(1.0, s, out=sd)
                sd *= s
                np.multiply(g, g, out=dg)
                np.subtract(1.0, dg, out=dg)
                dg *= a[:, :H]
                dht = dh[t, r0:r1]
                np.add(dout[t, r0:r1], dh_next, out=dht)
                # the cell: dc_t = dc_{t+1} f_{t+1} (carried in dc) + dh_t o_t (1 - tanh(c_t)^2)
                np.multiply(o_dtanh, dht, out=tmp)
                dc += tmp
                # the gates: d out / d gate, times each sigmoid's s (1 - s) or tanh's 1 - g^2
                np.multiply(dht, tanh_c[t], out=do)
                np.multiply(dc, g, out=di)
                np.multiply(dc, cs[t], out=df)
                da[:, :3 * H] *= sd
                np.multiply(dc, dg, out=dg)                  # dg held i (1 - g^2)
                dc *= f                                      # the additive path: c_{t-1} -> c_t
            np.matmul(dgates[0], WhT, out=dh_next)           # d loss / d h0
            dh0[r0:r1], dc0[r0:r1] = dh_next, dc
            # dWx, dWh and db: sums over every step of these sequences
            rows = dgates.reshape(T * k, 4 * H)
            dWx, dWh, db = sums[share_index]
            np.matmul(x2.T, rows, out=dWx)
            np.matmul(hs[:-1].reshape(T * k, H).T, rows, out=dWh)
            np.sum(rows, axis=0, out=db)
            if dx is None:
                return
            if k == n:
                np.matmul(rows, WxT, out=dx)
            else:
                dx[r0:r1] = (rows @ WxT).reshape(T, k, D).transpose(1, 0, 2)
        parallel.run(share, n, T * n * 4 * H)
        for extra in sums[1:]:             # the other shares' sums, added in parallel stretches
            for grad, part in zip(sums[0], extra):
                flat, more = grad.reshape(-1), part.reshape(-1)
                parallel.run(lambda a, b: np.add(flat[a:b], more[a:b], out=flat[a:b]), flat.size)
        self.dh0, self.dc0 = dh0, dc0
        self.dh_steps = dh.transpose(1, 0, 2)
        if dx is None:
            return None
        return dx.reshape(T, n, -1).transpose(1, 0, 2) if len(groups) == 1 else dx

    def __repr__(self):
        forget = "" if self.forget_bias == 1.0 else f", forget_bias={self.forget_bias:g}"
        return f"LSTM({self.input_size}, {self.hidden_size}{forget}" + (", stateful=True)" if self.stateful else ")")


def to_torch_order(array, hidden_size, axis=-1):
    """An LSTM weight or bias with its gate blocks along ``axis`` reordered from this
    package's (i, f, o, g) to PyTorch's (i, f, g, o). For Wx (D, 4H) torch's weight_ih_l0
    is ``to_torch_order(Wx, H).T``."""
    H = hidden_size
    i, f, o, g = (np.take(array, range(k * H, (k + 1) * H), axis=axis) for k in range(4))
    return np.concatenate([i, f, g, o], axis=axis)
