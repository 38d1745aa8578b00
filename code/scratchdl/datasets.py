"""Datasets used in the book: find the file, check its sha256, return NumPy arrays.

Every file lives in the repository's ``data/`` folder (built by ``data/build.py``, with its
source and license in ``data/README.md``). Where a file is looked for, in order:

1. the folder named by the environment variable ``SCRATCHDL_DATA_DIR``, if it is set
   (a missing file is downloaded into that folder);
2. the ``data/`` folder of the repository this package sits in (a clone, Binder);
3. a user cache folder, ``$XDG_CACHE_HOME/scratchdl`` or ``~/.cache/scratchdl``, where
   the file is downloaded from the repository the first time (Colab, ``pip install``).

Whatever the source, the file's sha256 must match the one in ``scratchdl.manifest`` before
it is used: a file that was cut short or changed is an error that says how to fix it, never
silently wrong data. A download goes to a temporary file first, so nothing half-written is
left. Arrays are read with ``scratchdl.io.read_npz`` (no pickles).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from . import io, manifest

# Must equal `repository: url:` in the book's _config.yml (a test checks it).
REPOSITORY_URL = "https://github.com/scratchdl/interactive-deep-learning-from-scratch"
BRANCH = "main"

# str(path) -> (mtime_ns, size) of files whose sha256 was checked in this process, so
# loading the same file again does not hash 11 MB again.
_verified: dict[str, tuple[int, int]] = {}
# (str(path), mtime_ns, size) -> dict of the raw uint8 MNIST arrays (decompressing takes
# most of the loading time; every call still returns fresh arrays).
_mnist_cache: dict[tuple[str, int, int], dict[str, np.ndarray]] = {}


class DataError(RuntimeError):
    """A data file is missing, damaged or could not be downloaded. The message says which
    file and how to fix it."""


def repository_data_dir() -> Path | None:
    """The ``data/`` folder of the repository (code/scratchdl/../../data), or None when the
    package is installed without it. Tests replace this to simulate a bare install.

    In the browser (JupyterLite, where ``sys.platform == "emscripten"``) the package is an
    installed wheel and the book's files sit in the in-browser drive: ``data/`` is then
    found beside or above the notebook's folder.
    """
    candidates = [Path(__file__).resolve().parent.parent.parent / "data"]
    if sys.platform == "emscripten":
        cwd = Path.cwd()
        candidates += [cwd / "data", cwd.parent / "data"]
    return next((folder for folder in candidates if folder.is_dir()), None)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "scratchdl"


def download_url(name: str) -> str:
    """Address of the shipped file ``data/<name>`` in the repository."""
    return f"{REPOSITORY_URL}/raw/{BRANCH}/data/{name}"


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def _rebuild_hint(name: str) -> str:
    return f"rebuild it with `{manifest.entry(name).recipe}` in a clone of the repository"


def verify(path, name: str | None = None) -> Path:
    """Check that the file at `path` has the sha256 that ``scratchdl.manifest`` records for
    `name` (default: the file's own name). Returns the path; raises DataError on a mismatch."""
    path = Path(path)
    name = path.name if name is None else name
    expected = manifest.entry(name)   # ValueError listing the known files
    stamp = _stamp(path)
    if _verified.get(str(path)) == stamp:
        return path
    actual = io.sha256(path)
    if actual != expected.sha256:
        size = stamp[1]
        cut = (f" and it holds {size:,} bytes instead of {expected.size:,}"
               if size != expected.size else "")
        raise DataError(
            f"{path} is damaged or out of date: its sha256 is {actual}{cut}, expected "
            f"{expected.sha256}. Delete it and load it again to download a fresh copy, or "
            f"{_rebuild_hint(name)} (a file in the repository's data/ folder can also be "
            f"restored with `git checkout -- data/{name}`).")
    _verified[str(path)] = stamp
    return path


def _download(name: str, target: Path) -> None:
    """Download ``data/<name>`` from the repository to `target`, check its sha256 while
    streaming, then move it into place. On any failure nothing is left at `target`."""
    url = download_url(name)
    expected = manifest.entry(name).sha256
    fix = f"{_rebuild_hint(name)}, or check your network connection"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the folder {target.parent} for {name}: {exc}. "
                        f"Set SCRATCHDL_DATA_DIR to a writable folder.") from exc
    print(f"Downloading {name} from {url} to {target.parent} ...", file=sys.stderr)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{name}.", suffix=".part")
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(url, timeout=60) as response:
                for block in iter(lambda: response.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
        actual = digest.hexdigest()
        if actual != expected:
            raise DataError(
                f"the download of {name} from {url} has sha256 {actual}, expected "
                f"{expected} (the file on the server differs from what this version of "
                f"scratchdl expects); {fix}.")
        os.replace(tmp_name, target)
    except DataError:
        _remove_quietly(tmp_name)
        raise
    except (OSError, ValueError, urllib.error.URLError) as exc:  # URLError is an OSError
        _remove_quietly(tmp_name)
        raise DataError(f"could not download {name} from {url}: {exc}. Fix: {fix}.") from exc
    except BaseException:  # KeyboardInterrupt: still leave nothing half-written
        _remove_quietly(tmp_name)
        raise
    _verified[str(target)] = _stamp(target)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def data_path(name: str) -> Path:
    """Path of the verified data file `name` (e.g. ``"mnist.npz"``), downloading it into
    the cache folder if no copy is found (see the module docstring for the order)."""
    manifest.entry(name)   # an unknown name is a ValueError listing the known files
    env_dir = os.environ.get("SCRATCHDL_DATA_DIR")
    if env_dir:
        path = Path(env_dir).expanduser() / name
        if not path.exists():
            _download(name, path)
        return verify(path, name)
    repo_dir = repository_data_dir()
    if repo_dir is not None and (repo_dir / name).exists():
        return verify(repo_dir / name, name)
    path = _cache_dir() / name
    if not path.exists():
        _download(name, path)
    return verify(path, name)


def _mnist_raw() -> dict[str, np.ndarray]:
    path = data_path("mnist.npz")
    key = (str(path), *_stamp(path))
    if key not in _mnist_cache:
        arrays = io.read_npz(path, what="data file", dtypes=[np.uint8])
        _mnist_cache.clear()  # keep one copy (55 MB), not one per file version
        _mnist_cache[key] = arrays
    return _mnist_cache[key]


def load_mnist(normalize=True, flatten=True, one_hot=False, dtype=np.float64):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 pixels.

    Returns ``(train_x, train_y), (test_x, test_y)`` with N = 60000 for train, 10000 for test:

    - images: ``(N, 784)`` if `flatten`, else ``(N, 1, 28, 28)`` (channel axis first, the
      layout Conv2D expects); `dtype` with values in [0, 1] if `normalize`, else the raw
      uint8 pixels 0..255;
    - labels: ``(N,)`` int64 digits 0..9, or ``(N, 10)`` one-hot rows of `dtype` if
      `one_hot`.

    Source: Yann LeCun, Corinna Cortes and Christopher Burges (CC BY-SA 3.0); see
    ``data/README.md``. Every call returns new arrays, so changing them is safe.
    """
    dtype = np.dtype(dtype)
    if (normalize or one_hot) and dtype.kind != "f":
        raise ValueError(f"load_mnist expected a floating dtype such as float64 or float32, "
                         f"got {dtype}")
    raw = _mnist_raw()
    result = []
    for split in ("train", "test"):
        images, labels = raw[f"{split}_x"], raw[f"{split}_y"]
        shape = (len(images), 784) if flatten else (len(images), 1, 28, 28)
        if normalize:
            x = images.reshape(shape).astype(dtype)
            x /= 255.0  # in place: a second 376 MB temporary would double the cost
        else:
            x = images.reshape(shape).copy()  # a copy, so callers cannot change the cache
        if one_hot:
            t = np.zeros((len(labels), 10), dtype=dtype)
            t[np.arange(len(labels)), labels] = 1.0
        else:
            t = labels.astype(np.int64)
        result.append((x, t))
    return tuple(result)
