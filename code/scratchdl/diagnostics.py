"""Diagnostics: look inside any network while it computes (chapters 6 and 8).

``probe(model, x)`` runs a batch forward through every layer of a ``Sequential``, sends a
gradient back from the top, and records, layer by layer, the output (its mean and spread)
and the size of every parameter's gradient and of the gradient passed down. That is how
chapter 6 compares initializers and chapter 8 looks at deep convolutional nets.
``probe_deep_net`` builds Saito's experiment (a stack of Affine + activation layers) and
probes it.
"""
import numpy as np

from .layers import Affine, layer_from_name
from .models import Sequential
from .utils import as_rng, check_array, check_positive_int


def probe(model, x, upstream=None, train=True, rng=0):
    """Forward ``x`` through every layer of ``model`` and backward from the top.

    model: a Sequential (any layers). x: a batch the first layer accepts, e.g. (N, D) or
    (N, C, H, W). upstream: d L / d (top output), of the top output's shape; by default a
    standard normal array from ``rng``, i.e. L = sum(top output * upstream). train: the mode
    of the forward pass (BatchNorm and Dropout behave as in training by default).

    Returns one dict per layer, in order: "layer" (its repr), "output" (the array),
    "mean" and "std" of the output, "grad_norms" {parameter name: Frobenius norm of its
    gradient}, "dout_norm" (norm of d L / d output arriving at the layer) and "dx_norm"
    (norm of the gradient it passes down; None for the first layer, which is not asked).
    """
    if not isinstance(model, Sequential):
        raise ValueError(f"probe expected a Sequential model, got {type(model).__name__}")
    outputs, a = [], x
    # a saturating stack may overflow exp() on the way; the values it gives (0 or 1) are right
    with np.errstate(over="ignore"):
        for layer in model.layers:
            a = layer.forward(a, train=train)
            outputs.append(a)
    if upstream is None:
        upstream = as_rng(rng).standard_normal(np.shape(a))
    dout = check_array(upstream, "probe upstream", shape=np.shape(a))
    records = [None] * len(model.layers)
    for i in range(len(model.layers) - 1, -1, -1):
        layer = model.layers[i]
        dx = layer.backward(dout, input_grad=i > 0)
        out = outputs[i]
        records[i] = {"layer": repr(layer), "output": out, "mean": float(np.mean(out)),
                      "std": float(np.std(out)),
                      "grad_norms": {name: float(np.linalg.norm(g)) for name, g in layer.grads.items()},
                      "dout_norm": float(np.linalg.norm(dout)),
                      "dx_norm": None if dx is None or i == 0 else float(np.linalg.norm(dx))}
        dout = dx
    return records


def probe_deep_net(x, depth=5, width=100, activation="sigmoid", init="xavier", rng=0,
                   upstream=None):
    """Saito's experiment: ``depth`` layers of ``width`` units, probed with ``probe``.

    x: (N, D) input batch. Each layer is Affine(D_in, width, init) (biases 0) followed by the
    activation ("sigmoid", "tanh", "relu", "leaky_relu"). init: a name, a std or a callable
    (see scratchdl.initializers). rng: seed or Generator for the weights and, unless
    ``upstream`` (N, width) is given, for the random gradient sent back from the top.

    Returns a dict:
      "activations": list of depth arrays (N, width), the output of each activation;
      "weight_gradient_norms": (depth,) Frobenius norm of dL/dW for each layer, where
        L = sum(top activations * upstream);
      "relative_weight_gradients": (depth,) ||dL/dW|| / ||W|| for each layer: how far one
        step of learning rate 1 would move the layer's weights, relative to their size;
      "activation_gradient_norms": (depth,) Frobenius norm of dL/dh for each layer's
        activations h (the gradient that arrives at the layer's output on the way down);
      "weights": list of the depth weight matrices.
    """
    x = check_array(x, "probe_deep_net", ndim=2)
    depth = check_positive_int(depth, "depth", "probe_deep_net")
    width = check_positive_int(width, "width", "probe_deep_net")
    rng = as_rng(rng)
    layers, n_in = [], x.shape[1]
    for _ in range(depth):
        layers += [Affine(n_in, width, init=init, rng=rng), layer_from_name(activation)]
        n_in = width
    records = probe(Sequential(layers), np.asarray(x, dtype=np.float64), upstream=upstream, rng=rng)
    weights = [layer.params["W"] for layer in layers[0::2]]
    gradient_norms = np.array([r["grad_norms"]["W"] for r in records[0::2]])
    weight_norms = np.array([np.linalg.norm(W) for W in weights])
    with np.errstate(divide="ignore", invalid="ignore"):   # all-zero weights: ratio nan/inf
        relative = gradient_norms / weight_norms
    return {"activations": [r["output"] for r in records[1::2]],
            "weight_gradient_norms": gradient_norms,
            "relative_weight_gradients": relative,
            "activation_gradient_norms": np.array([r["dout_norm"] for r in records[1::2]]),
            "weights": weights}
