"""Reading and writing ``.npz`` files safely and reproducibly, and their sha256.

One copy of three things every shipped file needs (models, datasets and ``data/build.py``
use them):

- ``read_npz``: every array of an ``.npz`` archive, read with ``allow_pickle=False`` and
  checked first, so a weight or data file can never run code, and a small damaged or
  hostile file cannot make us allocate gigabytes (each array's header must agree with the
  bytes that follow it).
- ``write_npz``: an ``.npz`` whose bytes depend only on the arrays (fixed entry dates and
  permissions, entries in the order given), written under a temporary name and renamed,
  so a crash never leaves half a file and a shipped file's sha256 can be reproduced.
- ``sha256``: the hex digest of a file, read in 1 MB blocks.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile

import numpy as np

ZIP_DATE = (1980, 1, 1, 0, 0, 0)   # the earliest date a zip entry can hold; np.savez stamps "now"
DEFAULT_MAX_BYTES = 1 << 30        # 1 GiB of arrays: far above any file of the book
_BLOCK = 1 << 20
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}


def sha256(path) -> str:
    """The sha256 of the file at `path` as 64 hex digits, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def read_npz(path, what="model file", max_bytes=DEFAULT_MAX_BYTES, dtypes=None) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file `path`, read fully into memory, nothing unpickled.

    what: what the file is meant to be ("model file", "data file"), for error messages.
    max_bytes: refuse archives whose arrays add up to more than this (None: no limit).
    dtypes: if given, the only dtypes allowed (e.g. ``[np.float32, np.float64]``).

    A missing file raises FileNotFoundError, as usual. Anything else wrong raises a
    ValueError that starts with the path: not a zip archive, a single ``.npy``, pickled
    (object) arrays, a dtype not allowed, an array larger than its entry, a damaged archive.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise ValueError(f"{path}: not a valid .npz {what} (a single .npy array, not an .npz archive)")
    if magic[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):   # every .npz is a zip archive
        raise ValueError(f"{path}: not a valid .npz {what} (it does not start like a zip archive)")
    allowed = None if dtypes is None else {np.dtype(d) for d in dtypes}
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_entries(path, what, entries, max_bytes)
            arrays = {}
            for info in entries:
                key = info.filename[:-len(".npy")]
                _check_header(path, what, archive, info, allowed)
                with archive.open(info) as entry:
                    arrays[key] = np.lib.format.read_array(entry, allow_pickle=False)
            return arrays
    except ValueError as error:
        if str(error).startswith(f"{path}:"):
            raise
        raise ValueError(f"{path}: not a valid .npz {what} ({error})") from error
    except Exception as error:  # BadZipFile (also a failed CRC), zlib.error, EOFError...
        raise ValueError(f"{path}: not a valid .npz {what}, or a corrupted one "
                         f"({type(error).__name__}: {error})") from error


def _check_entries(path, what, entries, max_bytes):
    """Entry names and the total size, from the zip directory, before reading anything."""
    names = [info.filename for info in entries]
    odd = [name for name in names if not name.endswith(".npy")]
    if odd:
        raise ValueError(f"{path}: not a valid .npz {what} (entries that are not .npy arrays: {odd[:5]})")
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: not a valid .npz {what} (an entry name appears twice)")
    total = sum(info.file_size for info in entries)
    if max_bytes is not None and total > max_bytes:
        raise ValueError(f"{path}: refusing to read {total:,} bytes of arrays, more than "
                         f"max_bytes={max_bytes:,}")


def _check_header(path, what, archive, info, allowed):
    """Read one entry's .npy header: refuse object arrays, dtypes not allowed, and a shape
    that needs more bytes than the entry holds (read_array would allocate it first)."""
    key = info.filename[:-len(".npy")]
    with archive.open(info) as entry:
        version = np.lib.format.read_magic(entry)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise ValueError(f"{path}: array {key!r} is in .npy format version {version}, "
                             f"which this reader does not accept")
        shape, _, dtype = read_header(entry)
        header_bytes = entry.tell()   # ZipExtFile counts the uncompressed bytes read
    if dtype.hasobject:
        raise ValueError(f"{path}: refusing to load pickled data (array {key!r} holds Python "
                         f"objects; {what}s hold plain arrays only, so this one may have been "
                         f"tampered with)")
    if allowed is not None and dtype not in allowed:
        raise ValueError(f"{path}: array {key!r} has dtype {dtype}, expected one of "
                         f"{', '.join(sorted(str(d) for d in allowed))}")
    needed = header_bytes + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if needed != info.file_size:
        raise ValueError(f"{path}: not a valid .npz {what} (array {key!r} of shape {shape} and "
                         f"dtype {dtype} needs {needed:,} bytes, its entry holds {info.file_size:,})")


def write_npz(path, arrays: dict[str, np.ndarray], compress=False) -> None:
    """Write `arrays` to the ``.npz`` file `path`, the same bytes for the same arrays.

    Entries come in the dict's order (pass a sorted dict for sorted entries), each named
    ``key + ".npy"``, dated 1980-01-01 with permissions 0644, stored (or deflated if
    `compress`). Object arrays are refused (nothing is ever pickled). The file is written to
    a temporary name in the same folder, flushed to disk and renamed over `path`; on any
    failure the temporary file is removed and `path` is left as it was.
    """
    path = os.fspath(path)
    arrays = {key: np.asarray(value) for key, value in arrays.items()}
    for key, array in arrays.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{path}: array names must be non-empty strings, got {key!r}")
        if array.dtype.hasobject:
            raise ValueError(f"{path}: array {key!r} holds Python objects (dtype object); "
                             f".npz files here hold plain arrays only, never pickled data")
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as error:   # report the caller's path, not the temporary name
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist") from None
        raise type(error)(error.errno, f"cannot write {path} ({error.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            with zipfile.ZipFile(f, "w") as archive:
                for key, array in arrays.items():
                    info = zipfile.ZipInfo(key + ".npy", date_time=ZIP_DATE)
                    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
                    info.external_attr = 0o644 << 16   # fixed permissions, like numpy's
                    info.create_system = 3             # "Unix" on every platform: same bytes
                    with archive.open(info, "w", force_zip64=True) as entry:
                        np.lib.format.write_array(entry, array, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)   # mkstemp creates 0600; a shipped file is readable by all
        os.replace(tmp, path)
    except BaseException:      # KeyboardInterrupt too: never leave a half-written file
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
