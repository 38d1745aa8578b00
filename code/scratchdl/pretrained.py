"""Trained models the chapters load, and the seeded recipes that train them.

A chapter gets a trained model in one line; the file comes from ``data/``, is checked
against the sha256 in ``scratchdl.manifest``, and is downloaded from the repository when
the package is installed alone (Colab)::

    from scratchdl import pretrained
    model = pretrained.load("mnist_mlp")

Every shipped weights file has a **recipe** here: how to build the untrained model, how to
train it (every random choice from one seed) and how to load the file. From a clone of the
repository, the recipe writes the file again and prints its test score, training time and
sha256::

    python -m scratchdl.pretrained --list                      # the recipes
    python -m scratchdl.pretrained mnist_mlp                   # train, write data/mnist_mlp.npz
    python -m scratchdl.pretrained mnist_mlp --out net.npz     # write somewhere else
    python -m scratchdl.pretrained mnist_mlp --epochs 2        # quicker, less accurate

The files are written with fixed zip timestamps, so the same NumPy, BLAS kernel and number
of BLAS threads write the same bytes (``data/README.md`` states the settings each shipped
file was built with). Another BLAS kernel or thread count rounds float32 sums differently
and changes the last bits of the weights, and so the sha256; a file meant to replace the
shipped one needs its printed sha256 and size copied into ``scratchdl/manifest.py`` and
``data/README.md``.

To add a recipe (a CNN, word vectors...): write its build / train functions below, and
``register(Recipe(...))``; add the file to the manifest and to ``data/README.md``.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import char_model, datasets, io, manifest, nlp
from .augment import augmented_batches
from .models import MLP, DeepConvNet, SimpleConvNet
from .optimizers import Adam
from .schedules import Scheduled, cosine_decay
from .training import Trainer


@dataclass(frozen=True)
class Recipe:
    """How one shipped weights file is made and read.

    name: what ``load(name)`` and the command line call it, e.g. "mnist_mlp".
    filename: the file in ``data/`` (and in the manifest), e.g. "mnist_mlp.npz".
    description: one line for ``--list``.
    build(seed) -> the untrained model, with the architecture the file holds.
    train(epochs, seed, progress, data=None) -> (trained model, report). `data` replaces the
        shipped training data (tests use small random data). The model has ``save(path)``;
        the report is a dict of numbers to print, e.g. {"test accuracy": 0.9692}, and may
        hold "log", a list of lines (one per epoch) printed first.
    load(path) -> the ready model; the default ``build(0).load(path)`` suits any Sequential.
    epochs: the number of epochs the shipped file was trained for.
    """
    name: str
    filename: str
    description: str
    build: Callable
    train: Callable
    epochs: int
    load: Callable | None = None

    def read(self, path):
        """The ready model with the weights of the file `path` (not checked against the manifest)."""
        return self.load(path) if self.load is not None else self.build(0).load(path)


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Add `recipe` to RECIPES (a name can be registered once); returns it."""
    if recipe.name in RECIPES:
        raise ValueError(f"a recipe named {recipe.name!r} is already registered")
    RECIPES[recipe.name] = recipe
    return recipe


def get(name: str) -> Recipe:
    """The recipe called `name`; a ValueError listing the known names if there is none."""
    try:
        return RECIPES[name]
    except (KeyError, TypeError):
        raise ValueError(f"no pretrained model named {name!r}; known: {', '.join(sorted(RECIPES))}") from None


def load(name: str, path=None):
    """The trained model `name` (e.g. "mnist_mlp"), ready to predict.

    Reads the shipped file ``data/<filename>`` after checking its sha256 (downloading it
    first when the package is installed without ``data/``), or the file `path` if given.
    """
    recipe = get(name)
    if path is None:
        path = datasets.data_path(recipe.filename)
    return recipe.read(path)


# --- mnist_mlp: chapter 2's classifier ---------------------------------------------------
# The shape of the sample network in Saito's *Deep Learning from Scratch* (chapter 3): 784
# inputs, hidden layers of 50 and 100 sigmoid units, 10 scores, trained on the 60,000
# training images only. float32 halves the file (plenty for inference).

def _mnist_mlp_build(seed=0):
    # xavier: Glorot's scale suits sigmoid units
    return MLP([784, 50, 100, 10], activation="sigmoid", init="xavier", rng=seed, dtype=np.float32)


def _mnist_mlp_train(epochs=10, seed=0, progress=True, data=None):
    """data: ((train_x (N, 784) float32 in [0, 1], train_y (N,)), (test_x, test_y));
    default the shipped MNIST."""
    return _train_classifier(_mnist_mlp_build(seed), data, flatten=True, epochs=epochs, seed=seed,
                             progress=progress, learning_rate=3e-3)


def _train_classifier(model, data, flatten, epochs, seed, progress, learning_rate, eval_samples=None,
                      schedule=False, batches=None):
    """Adam on batches of 100 from seed `seed` (with a cosine-decaying learning rate if
    `schedule`, and the batch source `batches` if given); returns (model, report with the
    test accuracy). data: ((train_x, train_y), (test_x, test_y)) or None for the shipped MNIST."""
    (train_x, train_y), (test_x, test_y) = data if data is not None else \
        datasets.load_mnist(flatten=flatten, dtype=np.float32)
    optimizer = Adam(learning_rate)
    if schedule:
        steps = epochs * math.ceil(len(train_x) / 100)
        optimizer = Scheduled(optimizer, cosine_decay(learning_rate, total=steps))
    trainer = Trainer(model, optimizer, batch_size=100, rng=seed, progress=progress, batches=batches)
    history = trainer.fit(train_x, train_y, epochs=epochs, eval_data=(test_x, test_y),
                          eval_samples=eval_samples)
    if history["diverged"]:
        raise RuntimeError("training diverged; nothing was written")
    subset = "" if eval_samples is None else f" (on {eval_samples:,} samples of each)"
    log = [f"epoch {epoch:2d}: train accuracy {train:.4f}, test accuracy {test:.4f}{subset}"
           for epoch, train, test in zip(history["epoch"], history["train_accuracy"],
                                         history["eval_accuracy"])]
    return model, {"log": log, "test accuracy": model.accuracy(test_x, test_y)}


register(Recipe(
    name="mnist_mlp", filename="mnist_mlp.npz", epochs=10,
    description="chapter 2: MLP 784-50-100-10, sigmoid, float32, Adam 3e-3, batches of 100, seed 0",
    build=_mnist_mlp_build, train=_mnist_mlp_train))


# --- simple_convnet and deep_convnet: chapters 7 and 8 -----------------------------------
# Saito's two convolutional networks (*Deep Learning from Scratch*, chapters 7 and 8), in
# float32, trained with Adam on batches of 100 of the 60,000 training images, the learning
# rate decaying from 1e-3 to 0 along a cosine (at a constant 1e-3 the last epochs jump
# around: the simple network ended a 20-epoch run at 98.1%). Per-epoch accuracies are
# measured on 5,000 samples of each set to save time, the final test accuracy on all 10,000
# test images. The deep network is trained twice, on the images as they are and on randomly
# rotated (up to 10 degrees) and shifted (up to 2 pixels) copies drawn afresh for every
# batch, otherwise alike.

def _simple_convnet_build(seed=0):
    return SimpleConvNet(rng=seed, dtype=np.float32)


def _deep_convnet_build(seed=0):
    return DeepConvNet(rng=seed, dtype=np.float32)


def _simple_convnet_train(epochs, seed=0, progress=True, data=None):
    return _train_classifier(_simple_convnet_build(seed), data, flatten=False, epochs=epochs, seed=seed,
                             progress=progress, learning_rate=1e-3, eval_samples=5000, schedule=True)


def _deep_convnet_train(augment):
    def train(epochs, seed=0, progress=True, data=None):
        batches = augmented_batches(100, max_shift=2, max_degrees=10.0) if augment else None
        return _train_classifier(_deep_convnet_build(seed), data, flatten=False, epochs=epochs, seed=seed,
                                 progress=progress, learning_rate=1e-3, eval_samples=5000,
                                 schedule=True, batches=batches)
    return train


register(Recipe(
    name="simple_convnet", filename="simple_convnet.npz", epochs=15,
    description="chapter 7: conv 30x5x5, pool, affine 100, 10; float32, Adam 1e-3 with cosine decay, "
                "batches of 100, seed 0",
    build=_simple_convnet_build, train=_simple_convnet_train))

register(Recipe(
    name="deep_convnet", filename="deep_convnet.npz", epochs=12,
    description="chapter 8: six 3x3 convs (16-16-32-32-64-64), affine 50, dropout 0.5, 10; float32, "
                "Adam 1e-3 with cosine decay, batches of 100, seed 0",
    build=_deep_convnet_build, train=_deep_convnet_train(augment=False)))

register(Recipe(
    name="deep_convnet_augmented", filename="deep_convnet_augmented.npz", epochs=12,
    description="chapter 8: deep_convnet trained on images randomly rotated (<= 10 degrees) and "
                "shifted (<= 2 pixels), otherwise the same",
    build=_deep_convnet_build, train=_deep_convnet_train(augment=True)))


# --- word2vec: chapter 9's word vectors ----------------------------------------------------
# Skip-gram with negative sampling (scratchdl.nlp) on the word2vec corpus of data/README.md
# (about 11 million words, built by `python data/build.py corpus`, not shipped). The file
# keeps the 30,000 most frequent words in float16. Its "test" is the Google analogy set.

register(Recipe(
    name="word2vec", filename="word2vec.npz", epochs=nlp.WORD2VEC_EPOCHS,
    description="chapter 9: skip-gram, negative sampling, 100 dimensions, window 5, 5 negatives, "
                "subsampling 1e-4, min count 5, seed 0; 30,000 words kept, float16",
    build=nlp.word2vec_build, train=nlp.word2vec_train, load=nlp.word2vec_load))


# --- char_lstm: chapter 10's character-level language model -------------------------------
# Embedding 64 -> LSTM 512 -> Affine to the 84 characters, trained on Shakespeare's works
# without Julius Caesar, Macbeth and Twelfth Night (scratchdl.char_model). Its score is the
# validation loss on those three plays, in nats per character.

register(Recipe(
    name="char_lstm", filename="char_lstm.npz", epochs=char_model.CHAR_LSTM_EPOCHS,
    description="chapter 10: character LSTM (embedding 64, 512 units, dropout 0.2), Adam 2e-3 with cosine "
                "decay to 1e-4, batches of 64 x 100 characters, clipping at norm 5, seed 0",
    build=char_model.char_lstm_build, train=char_model.char_lstm_train, load=char_model.char_lstm_load))


# --- the command line ---------------------------------------------------------------------

def default_output(recipe: Recipe) -> Path:
    """``data/<filename>`` of the repository this package sits in."""
    folder = datasets.repository_data_dir()
    if folder is None:
        raise SystemExit("no data/ folder next to the package (not a clone of the repository): "
                         "pass --out PATH")
    return folder / recipe.filename


def main(argv=None, data=None):
    """`python -m scratchdl.pretrained NAME [--out PATH] [--epochs N] [--seed S]`, or --list.
    `data` is passed on to the recipe's train (tests). Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m scratchdl.pretrained",
                                     description="Train a shipped model from its recipe and write its file.")
    parser.add_argument("name", nargs="?", help=f"the recipe: {', '.join(sorted(RECIPES))}")
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    parser.add_argument("--out", type=Path, default=None, help="output file (default data/<filename>)")
    parser.add_argument("--epochs", type=int, default=None, help="passes over the data (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.list:
        for recipe in RECIPES.values():
            print(f"{recipe.name:23s} {recipe.filename:27s} {recipe.epochs:3d} epochs  {recipe.description}")
        return 0
    if args.name is None:
        parser.error(f"name a recipe ({', '.join(sorted(RECIPES))}), or pass --list")
    if args.name not in RECIPES:
        parser.error(f"no recipe named {args.name!r}; known: {', '.join(sorted(RECIPES))}")
    recipe = RECIPES[args.name]
    epochs = recipe.epochs if args.epochs is None else args.epochs
    out = args.out if args.out is not None else default_output(recipe)

    start = time.perf_counter()
    model, report = recipe.train(epochs=epochs, seed=args.seed, progress=not args.no_progress, data=data)
    seconds = time.perf_counter() - start
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    digest = io.sha256(out)
    for line in report.get("log", []):
        print(line)
    print(f"trained in {seconds:.1f} s; wrote {out} ({out.stat().st_size:,} bytes)")
    for key, value in report.items():
        if key != "log":
            print(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}")
    print(f"sha256 {digest}")
    shipped = manifest.FILES.get(recipe.filename)
    if shipped is not None and (epochs, args.seed) == (recipe.epochs, 0):
        print("same bytes as the shipped file" if digest == shipped.sha256 else
              f"differs from the shipped file (sha256 {shipped.sha256}): if this file is to "
              f"replace it, copy its sha256 and size into scratchdl/manifest.py and data/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
