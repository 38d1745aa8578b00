"""Models: a stack of layers with one loss, and the multi-layer perceptron built from it.

A ``Sequential`` model runs its layers in order (forward), then in reverse (backward),
and exposes every parameter in one flat dict keyed "{layer index}.{name}" (e.g. "0.W"),
the form ``Optimizer.step(params, grads)`` expects. Weights are saved as ``.npz`` and
loaded with ``allow_pickle=False``: a weight file can never run code.
"""
import inspect
import json
import os
import tempfile
import zipfile

import numpy as np

from .layers import Affine, BatchNorm, Dropout, SoftmaxCrossEntropy, layer_from_name
from .utils import as_rng

# Arrays a layer keeps besides its parameters that a saved model needs (BatchNorm's
# running statistics: without them a loaded model would predict with mean 0, variance 1).
BUFFERS = ("running_mean", "running_var")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold
ARCHITECTURE_KEY = "__architecture__"


class Sequential:
    """Layers applied in order, followed by a loss layer.

    layers: a list of Layer objects. loss: the loss layer (default SoftmaxCrossEntropy()).
    weight_decay: L2 strength lambda; the loss gains 0.5 * lambda * sum(W^2) over every
    parameter named "W" (weights, not biases or BatchNorm's gamma/beta).
    """

    def __init__(self, layers, loss=None, weight_decay=0.0):
        self.layers = list(layers)
        if not self.layers:
            raise ValueError("Sequential expected a non-empty list of layers")
        self.loss_layer = SoftmaxCrossEntropy() if loss is None else loss
        if not weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.weight_decay = float(weight_decay)

    # The flat dicts are rebuilt on every access: they hold the layers' own arrays (no
    # copies), so an optimizer updating them in place updates the layers.
    @property
    def params(self):
        """{"{index}.{name}": array} for every parameter of every layer (the layers' arrays)."""
        return {f"{i}.{name}": p for i, layer in enumerate(self.layers) for name, p in layer.params.items()}

    @property
    def grads(self):
        """{"{index}.{name}": array}: the gradients from the last backward(), same keys as params."""
        return {f"{i}.{name}": g for i, layer in enumerate(self.layers) for name, g in layer.grads.items()}

    def predict(self, x, train=False):
        """Forward pass through every layer. x: the first layer's input, e.g. (N, D).
        Returns the scores (logits) before the softmax, e.g. (N, K)."""
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def _weight_names(self):
        return [key for key in self.params if key.endswith(".W")]

    def loss(self, x, t, train=True):
        """Mean loss on a batch plus the weight-decay penalty. x: (N, ...), t: (N,) or (N, K)."""
        x, t = np.asarray(x), np.asarray(t)
        if t.ndim == 0 or x.ndim == 0 or t.shape[0] != x.shape[0]:
            raise ValueError(f"{type(self).__name__}.loss expected as many labels as inputs: "
                             f"got x of shape {x.shape} and t of shape {t.shape}")
        loss = self.loss_layer.forward(self.predict(x, train=train), t)
        if self.weight_decay:
            params = self.params
            loss += 0.5 * self.weight_decay * sum(float(np.sum(params[k] ** 2)) for k in self._weight_names())
        return loss

    def backward(self, dout=1.0):
        """Backpropagate from the loss of the last loss() call; fills and returns self.grads."""
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        first = self.layers[0]
        if _accepts_input_grad(first):
            # the model's input is data, not a parameter: nobody needs its gradient, and for
            # a first Affine layer it would cost a third of all the matrix products
            first.backward(dout, input_grad=False)
        else:
            first.backward(dout)
        grads = self.grads
        if self.weight_decay:
            params = self.params
            for key in self._weight_names():
                grads[key] += self.weight_decay * params[key]   # d/dW of 0.5 * lambda * W^2
        return grads

    def gradient(self, x, t):
        """Gradients of loss(x, t) for every parameter (forward in training mode, then backward).
        Returns the grads dict, same keys and shapes as params."""
        self.last_loss = self.loss(x, t, train=True)
        return self.backward()

    def accuracy(self, x, t, batch_size=1000):
        """Fraction of samples whose highest score is the label. t: (N,) indices or (N, K) one-hot.
        Runs in batches of ``batch_size`` so large test sets need little memory."""
        x, t = np.asarray(x), np.asarray(t)
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        if t.ndim != 1 or t.shape[0] != x.shape[0]:
            raise ValueError(f"{type(self).__name__}.accuracy expected labels of shape ({x.shape[0]},) "
                             f"or ({x.shape[0]}, K), got {np.shape(t)}")
        if x.shape[0] == 0:
            return 0.0
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            scores = self.predict(x[start:start + batch_size], train=False)
            correct += int(np.sum(np.argmax(scores, axis=1) == t[start:start + batch_size]))
        return correct / x.shape[0]

    # -- saving and loading -------------------------------------------------------------

    def architecture(self):
        """A JSON string naming each layer and its parameter shapes: what load() checks against."""
        description = [{"type": type(layer).__name__,
                        "shape": {name: list(p.shape) for name, p in layer.params.items()}}
                       for layer in self.layers]
        return json.dumps(description)

    def state(self):
        """Every array a saved model needs: {"0.W": ..., "1.running_mean": ...} (the live arrays)."""
        arrays = {}
        for i, layer in enumerate(self.layers):
            for name, p in layer.params.items():
                arrays[f"{i}.{name}"] = p
            for name in BUFFERS:
                if isinstance(getattr(layer, name, None), np.ndarray):
                    arrays[f"{i}.{name}"] = getattr(layer, name)
        return arrays

    def save(self, path):
        """Write every parameter (and BatchNorm's running statistics) to the .npz file ``path``.

        The file is written next to ``path`` under a temporary name and then renamed, so an
        interrupted save never leaves a half-written file behind. Entries are sorted and
        dated ZIP_DATE (np.savez stamps the current time), so equal weights give equal bytes
        and a shipped file's sha256 can be reproduced.
        """
        path = os.fspath(path)
        arrays = dict(self.state())
        arrays[ARCHITECTURE_KEY] = np.array(self.architecture())  # a 0-d unicode array, no pickle
        entries = sorted((f"{key}.npy", array) for key, array in arrays.items())
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".npz.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as archive:
                    for name, array in entries:
                        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                        info.external_attr = 0o644 << 16
                        with archive.open(info, "w", force_zip64=True) as entry:
                            np.lib.format.write_array(entry, np.asanyarray(array), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    def load(self, path):
        """Load weights saved by save() into this model, in place.

        Refuses (ValueError naming the file and the difference) a file that is not an .npz,
        holds pickled objects, was saved from another architecture, or lacks an array or has
        one of the wrong shape or dtype. Everything is checked before anything is assigned,
        so on failure the model is unchanged. Returns self.
        """
        path = os.fspath(path)
        loaded = _read_npz(path)
        saved_arch = loaded.pop(ARCHITECTURE_KEY, None)
        if saved_arch is None or saved_arch.shape != () or saved_arch.dtype.kind != "U":
            raise ValueError(f"{path}: not a scratchdl model file (no {ARCHITECTURE_KEY} description)")
        if str(saved_arch) != self.architecture():
            raise ValueError(f"{path} was saved from a different architecture:\n"
                             f"  file:  {_summary(str(saved_arch))}\n  model: {_summary(self.architecture())}")
        expected = self.state()
        missing = sorted(set(expected) - set(loaded))
        extra = sorted(set(loaded) - set(expected))
        if missing or extra:
            problems = ([f"missing arrays {missing}"] if missing else []) + \
                ([f"unexpected arrays {extra}"] if extra else [])
            raise ValueError(f"{path}: " + ", ".join(problems))
        for key, target in expected.items():
            value = loaded[key]
            if value.shape != target.shape or value.dtype != target.dtype:
                raise ValueError(f"{path}: array {key!r} has shape {value.shape} and dtype {value.dtype}, "
                                 f"the model expects {target.shape} and {target.dtype}")
        for key, target in expected.items():
            target[...] = loaded[key]   # in place: optimizers and dict views stay attached
        return self

    def __repr__(self):
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"{type(self).__name__}([\n{inner}\n])"


_INPUT_GRAD_SUPPORT = {}


def _accepts_input_grad(layer):
    """Whether layer.backward takes input_grad=False (skip computing dx), cached per class."""
    kind = type(layer)
    if kind not in _INPUT_GRAD_SUPPORT:
        try:
            _INPUT_GRAD_SUPPORT[kind] = "input_grad" in inspect.signature(layer.backward).parameters
        except (TypeError, ValueError):
            _INPUT_GRAD_SUPPORT[kind] = False
    return _INPUT_GRAD_SUPPORT[kind]


def _read_npz(path):
    """Every array of an .npz file, read fully into memory without unpickling anything."""
    with open(path, "rb") as f:   # FileNotFoundError for a missing file, as usual
        magic = f.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):   # every .npz is a zip archive
        raise ValueError(f"{path}: not a valid .npz model file (it does not start like a zip archive)")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"{path}: not a model file (a single .npy array, not an .npz archive)")
        with data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except ValueError as error:
        if str(error).startswith(f"{path}:"):
            raise
        if "pickle" in str(error).lower() or "object arrays" in str(error).lower():
            raise ValueError(f"{path}: refusing to load pickled data (model files hold plain arrays "
                             f"only; this one may have been tampered with)") from error
        raise ValueError(f"{path}: not a valid .npz model file ({error})") from error
    except Exception as error:  # BadZipFile, zlib.error, EOFError...: a damaged archive
        raise ValueError(f"{path}: not a valid .npz model file, or a corrupted one "
                         f"({type(error).__name__}: {error})") from error


def _summary(architecture_json):
    """'Affine(784, 100) ReLU Affine(100, 10)' from an architecture string, for error messages."""
    try:
        parts = []
        for layer in json.loads(architecture_json):
            shapes = [tuple(s) for s in layer.get("shape", {}).values()]
            parts.append(layer["type"] + (f"{shapes[0]}" if shapes else ""))
        return " ".join(parts)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return architecture_json[:200]


class MLP(Sequential):
    """A multi-layer perceptron: [Affine, (BatchNorm), activation, (Dropout)] per hidden layer,
    then a final Affine producing the scores.

    sizes: [n_inputs, hidden..., n_classes], e.g. [784, 100, 10]. activation: "relu",
    "sigmoid", "tanh" or "leaky_relu". init: an initializer name, std or callable (see
    scratchdl.initializers). dropout: drop rate after each hidden activation (0 = none).
    rng: seed or Generator for the initial weights and the dropout masks.
    """

    def __init__(self, sizes, activation="relu", init="he", batch_norm=False, dropout=0.0,
                 weight_decay=0.0, rng=None, dtype=np.float64):
        sizes = _check_sizes(sizes)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"MLP expected a dropout rate in [0, 1), got {dropout}")
        rng = as_rng(rng)
        layers = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers.append(Affine(n_in, n_out, init=init, rng=rng, dtype=dtype))
            if batch_norm:
                layers.append(BatchNorm(n_out, dtype=dtype))
            layers.append(layer_from_name(activation))
            if dropout > 0:
                layers.append(Dropout(dropout, rng=rng))
        layers.append(Affine(sizes[-2], sizes[-1], init=init, rng=rng, dtype=dtype))
        super().__init__(layers, weight_decay=weight_decay)
        self.sizes = sizes


def _check_sizes(sizes):
    try:
        sizes = list(sizes)
    except TypeError:
        raise ValueError(f"MLP expected a list of layer sizes like [784, 100, 10], got {sizes!r}") from None
    bad = [s for s in sizes if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s <= 0]
    if len(sizes) < 2 or bad:
        raise ValueError(f"MLP expected at least two positive integer sizes like [784, 100, 10] "
                         f"(inputs, hidden..., classes), got {sizes!r}")
    return [int(s) for s in sizes]
