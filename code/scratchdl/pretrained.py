"""Train the small MNIST network that chapter 2 loads, and write ``data/mnist_mlp.npz``.

Chapter 2 classifies the 10,000 MNIST test images with a network it does not train
itself (training is the subject of chapter 3). This script is where that network comes
from. Run it from a clone of the repository::

    python -m scratchdl.pretrained                  # train, write data/mnist_mlp.npz
    python -m scratchdl.pretrained --out net.npz    # write somewhere else
    python -m scratchdl.pretrained --epochs 2       # a quicker, less accurate network

The network has the shape of the sample weights in Koki Saito's *Deep Learning from
Scratch* (chapter 3): 784 inputs, hidden layers of 50 and 100 sigmoid units, 10 scores.
It is built and trained by scratchdl itself::

    MLP([784, 50, 100, 10], activation="sigmoid", init="xavier", rng=0, dtype=float32)
    Trainer(model, "adam", learning_rate=3e-3, batch_size=100, rng=0)   # 10 epochs

on the 60,000 training images; the 10,000 test images are never used for training.
The weights are stored as float32 (about 180 KB); the test accuracy is printed at the end.

Reproducible: every random choice (initial weights, batch order) comes from seed 0, and
the zip entries of the .npz get a fixed timestamp, so the same NumPy on the same kind of
machine writes the same bytes. (A different BLAS may round float32 sums differently and
change the last bits of the weights, and so the sha256.) The script prints the file's
sha256: after retraining, copy it into ``scratchdl.datasets.FILES["mnist_mlp.npz"]`` and
``data/README.md``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from . import datasets
from .models import MLP
from .training import Trainer

FILENAME = "mnist_mlp.npz"
SIZES = (784, 50, 100, 10)
ACTIVATION = "sigmoid"
INIT = "xavier"          # Glorot's scale suits sigmoid units
DTYPE = np.float32       # half the file size of float64; plenty for inference
SEED = 0
EPOCHS = 10
BATCH_SIZE = 100
LEARNING_RATE = 3e-3


def build_model(rng=SEED):
    """The untrained network: MLP([784, 50, 100, 10]) with sigmoid hidden units, float32."""
    return MLP(list(SIZES), activation=ACTIVATION, init=INIT, rng=rng, dtype=DTYPE)


def load_pretrained(path=None):
    """The trained network, with the weights of ``path`` (default: the verified shipped
    file ``data/mnist_mlp.npz``, downloaded when the package is installed alone)."""
    if path is None:
        path = datasets.data_path(FILENAME)
    return build_model().load(path)


def train(epochs=EPOCHS, seed=SEED, progress=True, train_data=None, eval_data=None):
    """Train the network; returns (model, history).

    train_data: (train_x (N, 784) float32 in [0, 1], train_y (N,) labels); default the
    60,000 MNIST training images. eval_data: evaluated after each epoch (default none).
    """
    if train_data is None:
        (train_x, train_y), _ = datasets.load_mnist(dtype=DTYPE)
    else:
        train_x, train_y = train_data
    model = build_model(rng=seed)
    trainer = Trainer(model, "adam", learning_rate=LEARNING_RATE, batch_size=BATCH_SIZE,
                      rng=seed, progress=progress)
    history = trainer.fit(train_x, train_y, epochs=epochs, eval_data=eval_data)
    if history["diverged"]:
        raise RuntimeError("training diverged; the weights were not saved")
    return model, history


def write(model, path):
    """Save the model with model.save (reproducible bytes); returns the file's sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return datasets._sha256(path)


def default_output():
    """``data/mnist_mlp.npz`` of the repository this package sits in."""
    folder = datasets._repository_data_dir()
    if folder is None:
        raise SystemExit("no data/ folder next to the package (not a clone of the repository): "
                         "pass --out PATH")
    return folder / FILENAME


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scratchdl.pretrained",
                                     description="Train chapter 2's MNIST network and save it.")
    parser.add_argument("--out", type=Path, default=None, help="output .npz (default data/mnist_mlp.npz)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over the data (default {EPOCHS})")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    out = args.out if args.out is not None else default_output()

    (train_x, train_y), (test_x, test_y) = datasets.load_mnist(dtype=DTYPE)
    start = time.perf_counter()
    model, history = train(epochs=args.epochs, progress=not args.no_progress,
                           train_data=(train_x, train_y), eval_data=(test_x, test_y))
    seconds = time.perf_counter() - start
    for epoch, train_acc, test_acc in zip(history["epoch"], history["train_accuracy"],
                                          history["eval_accuracy"]):
        print(f"epoch {epoch:2d}: train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f}")
    digest = write(model, out)
    print(f"trained in {seconds:.1f} s; wrote {out} ({out.stat().st_size:,} bytes)")
    print(f"test accuracy {model.accuracy(test_x, test_y):.4f}")
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
