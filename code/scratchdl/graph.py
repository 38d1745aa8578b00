"""Computational graphs: the shop-receipt nodes, and a tiny reverse-mode autograd ``Tensor``.

``MulNode`` and ``AddNode`` are the two nodes of Saito's shopping example (2 apples at 100
each, 10% tax): each remembers what its backward pass needs and hands every input its
share of the upstream derivative. ``Tensor`` turns the same idea into an automatic
engine in the spirit of Karpathy's micrograd, but array-valued: every operation records
its inputs and a closure that pushes gradients back to them, and ``backward()`` runs those
closures in reverse topological order.
"""
import numpy as np

from .functions import as_labels, log_softmax


class MulNode:
    """out = x * y. backward(dout) -> (dout * y, dout * x): each input gets the other one."""

    def forward(self, x, y):
        self.x, self.y = x, y          # the backward pass needs both inputs, swapped
        return x * y

    def backward(self, dout):
        return dout * self.y, dout * self.x


class AddNode:
    """out = x + y. backward(dout) -> (dout, dout): addition passes the derivative on unchanged."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout, dout


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the gradient of an input NumPy broadcast in the forward pass.

    A bias b of shape (M,) added to x of shape (N, M) was used by all N rows, so its
    gradient is the sum of the N rows' gradients.
    """
    while grad.ndim > len(shape):      # axes that broadcasting added in front
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:   # axes of length 1 that were stretched
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An array that remembers how it was computed, so that ``backward()`` can find gradients.

    data: any shape (stored as float64). After ``loss.backward()`` every Tensor that loss
    depends on holds d loss / d itself in ``.grad`` (same shape as ``.data``). The gradients
    of inputs accumulate, as in PyTorch: call ``zero_grad()`` between passes.
    """

    def __init__(self, data, parents=(), op="", name=""):
        self.data = np.array(data, dtype=np.float64)
        self.grad = np.zeros_like(self.data)
        self.parents = tuple(parents)
        self.op = op                   # the operation that made this Tensor ("" for inputs)
        self.name = name
        self._backward = lambda: None  # pushes self.grad into the parents' .grad

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        label = f", name={self.name!r}" if self.name else ""
        return f"Tensor(shape={self.data.shape}, op={self.op!r}{label})"

    # -- operations: each returns a new Tensor and defines how to send gradients back ------

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward():   # d(x+y)/dx = 1: pass the gradient on, summed over broadcast axes
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward():   # the multiply node: each input gets the other one
            self.grad += _unbroadcast(out.grad * other.data, self.shape)
            other.grad += _unbroadcast(out.grad * self.data, other.shape)
        out._backward = _backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other if isinstance(other, Tensor) else Tensor(-np.asarray(other, dtype=np.float64)))

    def __matmul__(self, other):
        if self.data.ndim != 2 or other.data.ndim != 2 or self.shape[1] != other.shape[0]:
            raise ValueError(f"Tensor @ expected shapes (N, D) and (D, M), got {self.shape} and {other.shape}")
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward():   # the Affine layer's rules: dX = dY W^T, dW = X^T dY
            self.grad += out.grad @ other.data.T
            other.grad += self.data.T @ out.grad
        out._backward = _backward
        return out

    def relu(self):
        out = Tensor(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward():   # the gradient passes only where the input was positive
            self.grad += out.grad * (self.data > 0)
        out._backward = _backward
        return out

    def sum(self):
        out = Tensor(self.data.sum(), (self,), "sum")

        def _backward():   # every entry contributed with weight 1
            self.grad += np.broadcast_to(out.grad, self.shape)
        out._backward = _backward
        return out

    def mean(self):
        return self.sum() * (1.0 / self.data.size)

    def cross_entropy(self, t):
        """Mean cross-entropy of softmax(self) for labels t. self: logits (N, K); t: (N,) or (N, K)."""
        if self.data.ndim != 2:
            raise ValueError(f"cross_entropy expected logits of shape (N, K), got {self.shape}")
        t = as_labels(self.data, t)
        n = self.shape[0]
        log_p = log_softmax(self.data)
        out = Tensor(-log_p[np.arange(n), t].mean(), (self,), "cross_entropy")

        def _backward():   # the softmax-with-loss rule: (y - t) / N
            delta = np.exp(log_p)
            delta[np.arange(n), t] -= 1.0
            self.grad += out.grad * delta / n
        out._backward = _backward
        return out

    # -- the engine ----------------------------------------------------------------------

    def topological_order(self):
        """Every Tensor this one depends on, each after all of its parents (self last)."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:   # an explicit stack: deep graphs would exceed Python's recursion limit
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in reversed(node.parents) if id(p) not in visited)
        return order

    def backward(self):
        """Fill ``.grad`` of every Tensor this one depends on with d self / d that Tensor.

        self must be a scalar (a loss): its own gradient starts at 1. Intermediate results
        start from zero on every call; inputs (leaves) keep adding up, as in PyTorch.
        """
        if self.data.size != 1:
            raise ValueError(f"backward() expected a scalar Tensor (a loss), got shape {self.shape}")
        order = self.topological_order()
        for node in order:
            if node.parents:
                node.grad = np.zeros_like(node.data)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):   # a node's gradient is complete before it is passed on
            node._backward()

    def zero_grad(self):
        """Reset the gradient of this Tensor and of everything it depends on to zero."""
        for node in self.topological_order():
            node.grad = np.zeros_like(node.data)
