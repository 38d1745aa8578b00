"""Models: a stack of layers with one loss, and the networks built from it.

The model contract, kept by ``Sequential`` (and so by every network of the package):

- ``params`` / ``grads`` / ``buffers``: flat dicts keyed "{layer index}.{name}" (e.g.
  "0.W", "1.running_mean"), holding the layers' own arrays: the form
  ``Optimizer.step(params, grads)`` expects.
- ``predict(x, train=False) -> scores``; ``loss(x, t, train=True) -> float`` (the loss
  object's mean plus the weight-decay penalty); ``backward(dout=1.0) -> grads``;
  ``evaluate(x, t, metrics=("accuracy",)) -> {name: value}``; ``reset_state()``.
- ``state_dict()`` / ``load_state_dict(state)``: every parameter and buffer as a dict of
  copies, and its all-or-nothing assignment back (everything is checked before anything is
  written): the in-memory form, for averaging clients' models, say.
- ``save(path)`` / ``load(path)``: the same state in an ``.npz`` file, written
  reproducibly and read with ``allow_pickle=False`` (scratchdl.io): a weight file can
  never run code.
"""
import json
import os

import numpy as np

from . import io
from .conv import Conv2D, MaxPool2D, output_size
from .layers import Affine, BatchNorm, Dropout, Flatten, ReLU, layer_from_name
from .losses import SoftmaxCrossEntropy
from .metrics import get_metric
from .utils import as_rng, check_positive_int, check_samples

ARCHITECTURE_KEY = "__architecture__"


class Sequential:
    """Layers applied in order, followed by a loss.

    layers: a list of Layer objects. loss: a Loss (default SoftmaxCrossEntropy()).
    weight_decay: L2 strength lambda; the loss gains 0.5 * lambda * sum(p^2) over every
    parameter a layer lists in its ``decay`` (weights, not biases or BatchNorm's gamma/beta).
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
        return self._flat("params")

    @property
    def grads(self):
        """{"{index}.{name}": array}: the gradients from the last backward(), same keys as params."""
        return self._flat("grads")

    @property
    def buffers(self):
        """{"{index}.{name}": array}: state that is saved but not trained (running statistics)."""
        return self._flat("buffers")

    def _flat(self, kind):
        return {f"{i}.{name}": a for i, layer in enumerate(self.layers) for name, a in getattr(layer, kind).items()}

    def decayed_keys(self):
        """The keys of params that weight decay applies to (each layer's ``decay``)."""
        return [f"{i}.{name}" for i, layer in enumerate(self.layers) for name in layer.decay]

    def predict(self, x, train=False):
        """Forward pass through every layer. x: the first layer's input, e.g. (N, D).
        Returns the scores (logits) before the softmax, e.g. (N, K)."""
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def loss(self, x, t, train=True):
        """Mean loss on a batch plus the weight-decay penalty. x: (N, ...), t: (N, ...) targets."""
        x, t = check_samples(x, t, f"{type(self).__name__}.loss")
        loss = self.loss_layer.forward(self.predict(x, train=train), t)
        if self.weight_decay:
            params = self.params
            loss += 0.5 * self.weight_decay * sum(float(np.sum(params[k] ** 2)) for k in self.decayed_keys())
        return loss

    def backward(self, dout=1.0):
        """Backpropagate from the loss of the last loss() call; fills and returns self.grads."""
        dout = self.loss_layer.backward(dout)
        for layer in reversed(self.layers[1:]):
            dout = layer.backward(dout)
        # the model's input is data, not a parameter: nobody needs its gradient, and for a
        # first Affine layer it would cost a third of all the matrix products
        self.layers[0].backward(dout, input_grad=False)
        grads = self.grads
        if self.weight_decay:
            params = self.params
            for key in self.decayed_keys():
                grads[key] += self.weight_decay * params[key]   # d/dW of 0.5 * lambda * W^2
        return grads

    def gradient(self, x, t):
        """Gradients of loss(x, t) for every parameter (forward in training mode, then backward).
        Returns the grads dict, same keys and shapes as params."""
        self.last_loss = self.loss(x, t, train=True)
        return self.backward()

    def evaluate(self, x, t, metrics=("accuracy",), batch_size=1000):
        """{name: value} of each metric on (x, t), in inference mode, ``batch_size`` samples
        at a time so large sets need little memory. metrics: names ("accuracy",
        "cross_entropy", "perplexity") or Metric objects (scratchdl.metrics)."""
        x, t = check_samples(x, t, f"{type(self).__name__}.evaluate")
        metrics = [get_metric(m) for m in ([metrics] if isinstance(metrics, str) else metrics)]
        batch_size = check_positive_int(batch_size, "batch_size", f"{type(self).__name__}.evaluate")
        sums = [[0.0, 0] for _ in metrics]
        for start in range(0, x.shape[0], batch_size):
            scores = self.predict(x[start:start + batch_size], train=False)
            for metric, acc in zip(metrics, sums):
                total, count = metric.batch(scores, t[start:start + batch_size])
                acc[0] += total
                acc[1] += count
        return {m.name: m.result(total, count) for m, (total, count) in zip(metrics, sums)}

    def accuracy(self, x, t, batch_size=1000):
        """Fraction of samples whose highest score is the label. t: (N,) indices or (N, K) one-hot."""
        return self.evaluate(x, t, ("accuracy",), batch_size)["accuracy"]

    def reset_state(self):
        """Let every layer forget state carried between batches (recurrent layers)."""
        for layer in self.layers:
            layer.reset_state()

    # -- state: in memory and in files ----------------------------------------------------

    def architecture(self):
        """A JSON string naming each layer and its parameter shapes: what load() checks against."""
        description = [{"type": type(layer).__name__,
                        "shape": {name: list(p.shape) for name, p in layer.params.items()}}
                       for layer in self.layers]
        return json.dumps(description)

    def state_dict(self):
        """Copies of every parameter and buffer: {"0.W": ..., "1.running_mean": ...}."""
        return {key: array.copy() for key, array in {**self.params, **self.buffers}.items()}

    def load_state_dict(self, state):
        """Assign a state_dict() (same keys, shapes and dtypes) to this model, in place.

        Everything is checked first (ValueError naming the difference: missing or
        unexpected keys, a wrong shape or dtype), so on failure the model is unchanged.
        Returns self.
        """
        return self._assign(state, "state_dict")

    def _assign(self, arrays, source):
        if not isinstance(arrays, dict):
            raise ValueError(f"{source}: expected a dict of arrays like the one state_dict() returns, "
                             f"got {type(arrays).__name__}")
        expected = {**self.params, **self.buffers}
        missing = sorted(set(expected) - set(arrays))
        extra = sorted(set(arrays) - set(expected))
        if missing or extra:
            problems = ([f"missing arrays {missing}"] if missing else []) + \
                ([f"unexpected arrays {extra}"] if extra else [])
            raise ValueError(f"{source}: " + ", ".join(problems))
        for key, target in expected.items():
            value = arrays[key]
            if not isinstance(value, np.ndarray) or value.shape != target.shape or value.dtype != target.dtype:
                shape, dtype = np.shape(value), getattr(value, "dtype", type(value).__name__)
                raise ValueError(f"{source}: array {key!r} has shape {shape} and dtype {dtype}, "
                                 f"the model expects {target.shape} and {target.dtype}")
        for key, target in expected.items():
            target[...] = arrays[key]   # in place: optimizers and dict views stay attached
        return self

    def save(self, path):
        """Write every parameter and buffer to the .npz file ``path``, with the architecture.

        Written under a temporary name and renamed (never half-written); entries sorted and
        dated 1980, so equal weights give equal bytes and a shipped file's sha256 can be
        reproduced (scratchdl.io.write_npz).
        """
        arrays = {**self.params, **self.buffers, ARCHITECTURE_KEY: np.array(self.architecture())}
        io.write_npz(path, dict(sorted(arrays.items())))

    def load(self, path):
        """Load weights saved by save() into this model, in place.

        Refuses (ValueError naming the file and the difference) a file that is not an .npz,
        holds pickled objects, was saved from another architecture, or lacks an array or has
        one of the wrong shape or dtype. Everything is checked before anything is assigned,
        so on failure the model is unchanged. Returns self.
        """
        path = os.fspath(path)
        loaded = io.read_npz(path, what="model file")
        saved_arch = loaded.pop(ARCHITECTURE_KEY, None)
        if saved_arch is None or saved_arch.shape != () or saved_arch.dtype.kind != "U":
            raise ValueError(f"{path}: not a scratchdl model file (no {ARCHITECTURE_KEY} description)")
        if str(saved_arch) != self.architecture():
            raise ValueError(f"{path} was saved from a different architecture:\n"
                             f"  file:  {_summary(str(saved_arch))}\n  model: {_summary(self.architecture())}")
        return self._assign(loaded, path)

    def __repr__(self):
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"{type(self).__name__}([\n{inner}\n])"


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



class SimpleConvNet(Sequential):
    """Saito's simple convolutional network (*Deep Learning from Scratch*, chapter 7):

    Conv2D(C, 30, 5x5) -> MaxPool2D(2) -> ReLU -> Flatten -> Affine(100) -> ReLU -> Affine(classes)

    Saito applies the first ReLU before the pooling; here it comes after. Max and ReLU
    commute (max(relu(a), relu(b)) = relu(max(a, b)), and the gradients agree too), so the
    network computes exactly Saito's function while ReLU touches a quarter as many numbers.

    input_shape: (C, H, W) of one image, (1, 28, 28) for MNIST; x: (N, C, H, W) -> scores
    (N, classes). filters, kernel_size, hidden: the sizes above. He initialisation (ReLU).
    """

    def __init__(self, input_shape=(1, 28, 28), filters=30, kernel_size=5, hidden=100, classes=10,
                 init="he", weight_decay=0.0, rng=None, dtype=np.float64):
        c, h, w = self.input_shape = _check_input_shape(input_shape, "SimpleConvNet")
        rng = as_rng(rng)
        oh, ow = output_size((h, w), kernel_size, owner="SimpleConvNet")
        ph, pw = oh // 2, ow // 2
        layers = [Conv2D(c, filters, kernel_size, init=init, rng=rng, dtype=dtype),
                  MaxPool2D(2), ReLU(), Flatten(),
                  Affine(filters * ph * pw, hidden, init=init, rng=rng, dtype=dtype), ReLU(),
                  Affine(hidden, classes, init=init, rng=rng, dtype=dtype)]
        super().__init__(layers, weight_decay=weight_decay)


class DeepConvNet(Sequential):
    """Saito's VGG-like deep network (*Deep Learning from Scratch*, chapter 8): six 3x3
    convolutions with 16, 16, 32, 32, 64, 64 filters, a 2x2 max-pool after each pair, then
    Affine(50) -> ReLU -> Dropout(0.5) -> Affine(classes). He initialisation.

    As in Saito's network the fourth convolution pads by 2, so a 28x28 digit goes
    28 -> 14 -> 16 -> 8 -> 4: the last pool gives 64 x 4 x 4 = 1024 features.
    input_shape: (C, H, W); x: (N, C, H, W) -> scores (N, classes). rng: seed or Generator
    for the weights and the dropout masks.
    """

    FILTERS = (16, 16, 32, 32, 64, 64)
    PADDING = (1, 1, 1, 2, 1, 1)

    def __init__(self, input_shape=(1, 28, 28), classes=10, hidden=50, dropout=0.5, init="he",
                 weight_decay=0.0, rng=None, dtype=np.float64):
        c, h, w = self.input_shape = _check_input_shape(input_shape, "DeepConvNet")
        rng = as_rng(rng)
        layers, channels = [], c
        for i, (filters, padding) in enumerate(zip(self.FILTERS, self.PADDING)):
            layers += [Conv2D(channels, filters, 3, padding=padding, init=init, rng=rng, dtype=dtype), ReLU()]
            h, w = output_size((h, w), 3, padding=padding, owner="DeepConvNet")
            channels = filters
            if i % 2 == 1:
                layers.append(MaxPool2D(2))
                h, w = output_size((h, w), 2, stride=2, owner="DeepConvNet")
        layers += [Flatten(), Affine(channels * h * w, hidden, init=init, rng=rng, dtype=dtype), ReLU(),
                   Dropout(dropout, rng=rng), Affine(hidden, classes, init=init, rng=rng, dtype=dtype)]
        super().__init__(layers, weight_decay=weight_decay)


def _check_input_shape(shape, owner):
    try:
        c, h, w = (int(s) for s in shape)
        ok = len(tuple(shape)) == 3 and min(c, h, w) >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{owner} expected input_shape (channels, height, width) like (1, 28, 28), "
                         f"got {shape!r}")
    return c, h, w
