"""Tests for scratchdl.datasets: the shipped MNIST file, every load_mnist option, and the
failure paths (damaged file, failed or wrong download) that must leave nothing behind;
the text datasets (IMDB, analogies, Shakespeare, spam, the word2vec corpus) and the
pieces of data/build.py that convert them."""
import email.mime.multipart
import email.mime.text
import gzip
import hashlib
import importlib.util
import io
import itertools
import re
import shutil
import struct
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from scratchdl import datasets, manifest
from scratchdl import io as sdl_io
from scratchdl.datasets import DataError, data_path, load_mnist

ROOT = Path(__file__).resolve().parents[2]
MNIST_FILE = ROOT / "data" / "mnist.npz"
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

needs_mnist = pytest.mark.skipif(not MNIST_FILE.exists(),
                                 reason="data/mnist.npz not built (run data/build.py)")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """No test reads the user's settings or cache, and every test starts unverified."""
    monkeypatch.delenv("SCRATCHDL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(datasets, "_verified", {})


@pytest.fixture(scope="module")
def mnist_bytes():
    if not MNIST_FILE.exists():
        pytest.skip("data/mnist.npz not built (run data/build.py)")
    return MNIST_FILE.read_bytes()


@pytest.fixture(scope="module")
def raw_mnist():
    """The shipped arrays, read once per module straight from the file."""
    if not MNIST_FILE.exists():
        pytest.skip("data/mnist.npz not built (run data/build.py)")
    with np.load(MNIST_FILE, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def test_repository_url_matches_book_config():
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    match = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", config, re.M)
    assert match, "_config.yml has no repository: url:"
    assert datasets.REPOSITORY_URL == match.group(1)
    assert datasets.download_url("mnist.npz") == (
        f"{match.group(1)}/raw/{datasets.BRANCH}/data/mnist.npz")


@needs_mnist
def test_shipped_file_matches_recorded_sha256(mnist_bytes):
    assert hashlib.sha256(mnist_bytes).hexdigest() == manifest.FILES["mnist.npz"].sha256


@needs_mnist
def test_shipped_arrays(raw_mnist):
    assert sorted(raw_mnist) == ["test_x", "test_y", "train_x", "train_y"]
    assert raw_mnist["train_x"].shape == (60000, 28, 28)
    assert raw_mnist["test_x"].shape == (10000, 28, 28)
    assert raw_mnist["train_y"].shape == (60000,)
    assert raw_mnist["test_y"].shape == (10000,)
    assert all(a.dtype == np.uint8 for a in raw_mnist.values())
    assert np.bincount(raw_mnist["test_y"], minlength=10).tolist() == TEST_LABEL_COUNTS


@needs_mnist
@pytest.mark.parametrize("normalize,flatten,one_hot",
                         list(itertools.product([True, False], repeat=3)))
def test_load_mnist_options(raw_mnist, normalize, flatten, one_hot):
    (train_x, train_y), (test_x, test_y) = load_mnist(
        normalize=normalize, flatten=flatten, one_hot=one_hot)
    for x, t, n, key in [(train_x, train_y, 60000, "train"), (test_x, test_y, 10000, "test")]:
        assert x.shape == ((n, 784) if flatten else (n, 1, 28, 28))
        pixels = raw_mnist[f"{key}_x"].reshape(x.shape)
        if normalize:
            assert x.dtype == np.float64
            assert x.min() == 0.0 and x.max() == 1.0
            # a slice is enough here: the full arrays are 376 MB of float64 per copy
            np.testing.assert_allclose(x[:2000] * 255.0, pixels[:2000], atol=1e-9)
        else:
            assert x.dtype == np.uint8
            np.testing.assert_array_equal(x, pixels)
        labels = raw_mnist[f"{key}_y"]
        if one_hot:
            assert t.shape == (n, 10) and t.dtype == np.float64
            np.testing.assert_array_equal(t.sum(axis=1), 1.0)
            np.testing.assert_array_equal(t.argmax(axis=1), labels)
        else:
            assert t.shape == (n,) and t.dtype == np.int64
            np.testing.assert_array_equal(t, labels)
    counts = (test_y.sum(axis=0) if one_hot else np.bincount(test_y, minlength=10)).tolist()
    assert counts == TEST_LABEL_COUNTS


@needs_mnist
def test_load_mnist_float32_and_fresh_arrays():
    (train_x, train_y), _ = load_mnist(dtype=np.float32, one_hot=True)
    assert train_x.dtype == np.float32 and train_y.dtype == np.float32
    (raw_x, _), _ = load_mnist(normalize=False)
    raw_x[:] = 7  # changing a result must not change what the next call returns
    (again, _), _ = load_mnist(normalize=False)
    assert again.max() == 255
    with pytest.raises(ValueError, match="floating dtype"):
        load_mnist(dtype=np.int32)


def test_unknown_name_lists_known_files():
    with pytest.raises(ValueError, match="mnist.npz"):
        data_path("cifar10.npz")


@needs_mnist
def test_verified_file_is_hashed_once(monkeypatch):
    calls = []
    real_sha256 = sdl_io.sha256
    monkeypatch.setattr(sdl_io, "sha256", lambda p: calls.append(p) or real_sha256(p))
    assert data_path("mnist.npz") == data_path("mnist.npz") == MNIST_FILE
    assert len(calls) == 1


@needs_mnist
def test_corrupted_file_is_an_error_naming_it(monkeypatch, tmp_path, mnist_bytes):
    damaged = bytearray(mnist_bytes)
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "mnist.npz").write_bytes(bytes(damaged))
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as info:
        load_mnist()
    message = str(info.value)
    assert str(tmp_path / "mnist.npz") in message
    assert manifest.FILES["mnist.npz"].sha256 in message
    assert hashlib.sha256(damaged).hexdigest() in message
    assert "python data/build.py mnist" in message   # the file's recipe


@needs_mnist
def test_cut_file_is_an_error_stating_both_sizes(monkeypatch, tmp_path, mnist_bytes):
    (tmp_path / "mnist.npz").write_bytes(mnist_bytes[:1000])
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="1,000 bytes instead of 11,490,519"):
        data_path("mnist.npz")


# --- downloading when the package is installed without the repository's data/ folder ---

class FakeResponse(io.BytesIO):
    """What urlopen returns: a readable, closable context manager."""


def bare_install(monkeypatch, tmp_path, serve):
    """Hide the repository's data/ folder and route urlopen to `serve(url)`."""
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return serve(url)

    monkeypatch.setattr(datasets, "repository_data_dir", lambda: None)
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    cache = tmp_path / "xdg-cache" / "scratchdl"
    return cache, requested


@needs_mnist
def test_download_into_cache(monkeypatch, tmp_path, mnist_bytes):
    cache, requested = bare_install(monkeypatch, tmp_path, lambda url: FakeResponse(mnist_bytes))
    path = data_path("mnist.npz")
    assert path == cache / "mnist.npz"
    assert requested == [datasets.download_url("mnist.npz")]
    assert path.read_bytes() == mnist_bytes
    assert sorted(p.name for p in cache.iterdir()) == ["mnist.npz"]  # no temp file left
    (train_x, _), _ = load_mnist()
    assert train_x.shape == (60000, 784)
    assert len(requested) == 1  # the cached copy is used from now on


@needs_mnist
def test_download_into_scratchdl_data_dir(monkeypatch, tmp_path, mnist_bytes):
    target = tmp_path / "my-data"
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(target))
    _, requested = bare_install(monkeypatch, tmp_path, lambda url: FakeResponse(mnist_bytes))
    assert data_path("mnist.npz") == target / "mnist.npz"
    assert len(requested) == 1


@needs_mnist
def test_download_with_wrong_bytes_leaves_nothing(monkeypatch, tmp_path, mnist_bytes):
    wrong = mnist_bytes[:-1000]  # a download cut short
    cache, _ = bare_install(monkeypatch, tmp_path, lambda url: FakeResponse(wrong))
    with pytest.raises(DataError) as info:
        load_mnist()
    message = str(info.value)
    assert datasets.download_url("mnist.npz") in message
    assert hashlib.sha256(wrong).hexdigest() in message
    assert list(cache.iterdir()) == []


def test_download_network_error_leaves_nothing(monkeypatch, tmp_path):
    def refuse(url):
        raise urllib.error.URLError("Temporary failure in name resolution")

    cache, requested = bare_install(monkeypatch, tmp_path, refuse)
    with pytest.raises(DataError) as info:
        data_path("mnist.npz")
    message = str(info.value)
    assert datasets.download_url("mnist.npz") in message
    assert "name resolution" in message
    assert "data/build.py" in message and "network" in message
    assert list(cache.iterdir()) == []
    assert requested == [datasets.download_url("mnist.npz")]


@needs_mnist
def test_damaged_cached_copy_is_an_error(monkeypatch, tmp_path, mnist_bytes):
    cache, requested = bare_install(monkeypatch, tmp_path, lambda url: FakeResponse(mnist_bytes))
    cache.mkdir(parents=True)
    shutil.copyfile(MNIST_FILE, cache / "mnist.npz")
    with open(cache / "mnist.npz", "r+b") as f:
        f.seek(100)
        f.write(b"\x00" * 16)
    with pytest.raises(DataError, match=re.escape(str(cache / "mnist.npz"))):
        data_path("mnist.npz")
    assert requested == []  # a damaged file is reported, not silently replaced


# --- data/build.py: the recipe of mnist.npz ---

def load_build_script():
    spec = importlib.util.spec_from_file_location("data_build", ROOT / "data" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def write_idx(path, array):
    """An IDX file as LeCun published them: 0, 0, type 0x08 (uint8), ndim, big-endian sizes, data."""
    path.write_bytes(bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
                     + array.tobytes())


def test_build_target_rebuilds_the_shipped_mnist(tmp_path, raw_mnist, capsys):
    """From the four IDX files (rebuilt here from the shipped arrays: their md5 must equal
    the published ones), `python data/build.py mnist` writes the shipped bytes again."""
    idx = tmp_path / "idx"
    idx.mkdir()
    for key, name in [("train_x", "train-images.idx3-ubyte"), ("train_y", "train-labels.idx1-ubyte"),
                      ("test_x", "t10k-images.idx3-ubyte"), ("test_y", "t10k-labels.idx1-ubyte")]:
        write_idx(idx / name, raw_mnist[key])
    out = tmp_path / "out"
    load_build_script().main(["mnist", "--mnist-idx-dir", str(idx), "--out-dir", str(out)])
    assert sorted(p.name for p in out.iterdir()) == ["mnist.npz"]   # no temporary file left
    assert sdl_io.sha256(out / "mnist.npz") == manifest.FILES["mnist.npz"].sha256
    assert "(matches the manifest)" in capsys.readouterr().out


def test_build_refuses_an_unknown_target(capsys):
    with pytest.raises(SystemExit):
        load_build_script().main(["cifar10"])
    assert "mnist" in capsys.readouterr().err


def test_build_refuses_idx_files_with_the_wrong_md5(tmp_path, raw_mnist):
    idx = tmp_path / "idx"
    idx.mkdir()
    build = load_build_script()
    for name in build.MNIST_MD5:
        write_idx(idx / name, np.zeros((3, 2), dtype=np.uint8))
    with pytest.raises(SystemExit, match="md5"):
        build.main(["mnist", "--mnist-idx-dir", str(idx), "--out-dir", str(tmp_path / "out")])
    assert not (tmp_path / "out" / "mnist.npz").exists()


# --- the text datasets (chapters 9-11) ---

DATA = ROOT / "data"
needs_file = {name: pytest.mark.skipif(not (DATA / name).exists(),
                                       reason=f"data/{name} not built (run data/build.py)")
              for name in ("imdb.jsonl.xz", "questions-words.txt.gz", "shakespeare.txt.gz",
                           "spam.jsonl.xz")}


@pytest.fixture(scope="module")
def imdb():
    if not (DATA / "imdb.jsonl.xz").exists():
        pytest.skip("data/imdb.jsonl.xz not built (run data/build.py imdb)")
    return datasets.load_imdb()   # about 2 s: read it once for every test


@pytest.fixture(scope="module")
def spam():
    if not (DATA / "spam.jsonl.xz").exists():
        pytest.skip("data/spam.jsonl.xz not built (run data/build.py spam)")
    return datasets.load_spam(folders=True)


def test_imdb_split_is_balanced_and_disjoint(imdb):
    (train_texts, train_labels), (test_texts, test_labels) = imdb
    for texts, labels in imdb:
        assert isinstance(texts, list) and len(texts) == 25_000
        assert all(isinstance(text, str) and text for text in texts)
        assert labels.shape == (25_000,) and labels.dtype == np.int64
        assert np.bincount(labels).tolist() == [12_500, 12_500]
    assert not set(train_texts) & set(test_texts)   # no review is in both halves
    assert len(set(train_texts)) + len(set(test_texts)) == 49_582   # the distinct reviews
    assert any("<br />" in text for text in train_texts[:100])   # the raw text, tags and all


def test_imdb_labels_follow_the_sentiment(imdb):
    (train_texts, train_labels), _ = imdb
    def share_with(word, label):
        chosen = [text for text, y in zip(train_texts, train_labels) if y == label]
        return sum(word in text.lower() for text in chosen) / len(chosen)
    assert share_with("terrible", 0) > 3 * share_with("terrible", 1)
    assert share_with("wonderful", 1) > 2 * share_with("wonderful", 0)


@needs_file["questions-words.txt.gz"]
def test_analogy_questions():
    path = datasets.analogy_questions_path()
    assert path == DATA / "questions-words.txt.gz"
    questions = datasets.load_analogy_questions()
    assert len(questions) == 14
    assert sum(map(len, questions.values())) == 19_544
    assert list(questions)[0] == "capital-common-countries"
    assert list(questions)[-1] == "gram9-plural-verbs"
    assert questions["capital-common-countries"][0] == ("athens", "greece", "baghdad", "iraq")
    assert ("king", "queen", "man", "woman") in questions["family"] or \
        ("man", "woman", "king", "queen") in questions["family"]
    assert all(len(q) == 4 and all(w == w.lower() for w in q)
               for section in questions.values() for q in section)
    with gzip.open(path, "rt", encoding="ascii") as f:   # the original format, unchanged
        assert f.readline() == ": capital-common-countries\n"


@needs_file["shakespeare.txt.gz"]
def test_shakespeare_holds_out_exactly_three_plays():
    train, valid = datasets.load_shakespeare()
    assert list(valid) == ["Julius Caesar", "Macbeth", "Twelfth Night"]
    works = datasets.read_shakespeare(DATA / "shakespeare.txt.gz")
    assert len(works) == 42
    assert train == "\n".join(text for title, text in works.items() if title not in valid)
    assert valid == {title: works[title] for title in valid}
    assert valid["Macbeth"].startswith("MACBETH\n")
    assert valid["Julius Caesar"].startswith("JULIUS CAESAR\n")
    assert valid["Twelfth Night"].startswith("TWELFTH NIGHT")
    for title, text in valid.items():
        assert text[:2000] not in train and text[-2000:] not in train, title
    assert "MACBETH, General in the King's Army." not in train   # Macbeth's list of persons
    assert "=== " not in train and "\r" not in train and train.isascii()
    held_out = sum(map(len, valid.values()))
    assert 330_000 < held_out < 340_000
    assert 0.06 < held_out / (held_out + len(train)) < 0.07


@needs_file["spam.jsonl.xz"]
def test_spam_counts_labels_and_folders(spam):
    (train_texts, train_labels, train_folders), (test_texts, test_labels, test_folders) = spam
    assert len(train_texts) == len(train_labels) == len(train_folders) == 4_837
    assert len(test_texts) == len(test_labels) == len(test_folders) == 1_209
    assert train_labels.dtype == test_labels.dtype == np.int64
    per_folder = {"easy-ham-1": (2000, 500), "easy-ham-2": (1120, 280), "hard-ham-1": (200, 50),
                  "spam-1": (400, 100), "spam-2": (1117, 279)}
    for folder, (n_train, n_test) in per_folder.items():
        assert train_folders.count(folder) == n_train and test_folders.count(folder) == n_test
    for folders, labels in [(train_folders, train_labels), (test_folders, test_labels)]:
        assert labels.tolist() == [int(f.startswith("spam")) for f in folders]
    assert not set(train_texts) & set(test_texts)
    assert all(text.startswith("Subject:") for text in train_texts + test_texts)
    (texts, labels), _ = datasets.load_spam()   # without folders: two items per split
    assert texts == train_texts and labels.tolist() == train_labels.tolist()


@needs_file["questions-words.txt.gz"]
def test_damaged_text_file_is_an_error_naming_it(monkeypatch, tmp_path):
    name = "questions-words.txt.gz"
    damaged = bytearray((DATA / name).read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / name).write_bytes(bytes(damaged))
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError) as info:
        datasets.load_analogy_questions()
    message = str(info.value)
    assert str(tmp_path / name) in message and manifest.FILES[name].sha256 in message
    assert "python data/build.py analogies" in message


def test_read_text_file_reports_a_damaged_archive(tmp_path):
    (tmp_path / "cut.xz").write_bytes(b"\xfd7zXZ\x00 not really")
    with pytest.raises(DataError, match="cut.xz is damaged"):
        datasets.read_text_file(tmp_path / "cut.xz")


def test_word2vec_corpus_missing_names_the_build_command(monkeypatch, tmp_path):
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"python data/build\.py corpus"):
        datasets.load_word2vec_corpus()


def test_word2vec_corpus_lines(monkeypatch, tmp_path):
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(tmp_path))
    path = datasets.word2vec_corpus_path()
    assert path == tmp_path / "corpus" / "word2vec_corpus.txt.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress("The king spoke.\nA line\u2028with a separator\n".encode()))
    assert datasets.load_word2vec_corpus() == ["The king spoke.", "A line\u2028with a separator"]


# --- data/build.py: the pieces that convert the text datasets ---

def test_split_keeps_copies_together_and_fills_each_stratum_exactly():
    build = load_build_script()
    texts = [f"review {i}" for i in range(100)] + ["copy"] * 3 + ["twice"] * 2
    strata = [i % 2 for i in range(100)] + [0, 0, 0] + [0, 1]   # "twice" has two labels
    is_test, quota = build.split_keeping_duplicates_together(texts, strata, 0.2, seed=0)
    assert quota == {0: 11, 1: 10}   # 20% of 54 and of 51, rounded
    labels = np.array(strata)
    assert [(is_test & (labels == key)).sum() for key in (0, 1)] == [11, 10]
    assert len({is_test[i] for i in (100, 101, 102)}) == 1   # the three copies together
    assert not is_test[103] and not is_test[104]               # mixed labels: training only
    again, _ = build.split_keeping_duplicates_together(texts, strata, 0.2, seed=0)
    np.testing.assert_array_equal(is_test, again)              # the seed fixes the split


def test_email_text_decodes_and_strips_html():
    build = load_build_script()
    message = email.mime.multipart.MIMEMultipart("alternative")
    message["Subject"] = "=?utf-8?b?Q2Fmw6kgb2ZmZXI=?="          # "Café offer", RFC 2047
    message.attach(email.mime.text.MIMEText("<p>Buy &amp; save</p><script>x()</script>"
                                            "<br>now&nbsp;!", "html", "utf-8"))
    assert build.email_text(message.as_bytes()) == "Subject: Café offer\n\nBuy & save\n\nnow !"
    mixed = email.mime.multipart.MIMEMultipart("mixed")
    mixed["Subject"] = "report"
    mixed.attach(email.mime.text.MIMEText("Grüße,\r\nsee attached.  \r\n", "plain", "iso-8859-1"))
    attachment = email.mime.text.MIMEText("secret,data", "plain", "utf-8")
    attachment.add_header("Content-Disposition", "attachment", filename="data.csv")
    mixed.attach(attachment)
    assert build.email_text(mixed.as_bytes()) == "Subject: report\n\nGrüße,\nsee attached."


def test_read_r_strings_reads_a_character_vector():
    build = load_build_script()
    def charsxp(text, levels=0x40):   # 0x40: ASCII, 0x08: UTF-8
        raw = text.encode()
        return struct.pack(">ii", 9 | (levels << 12), len(raw)) + raw
    header = b"X\n" + struct.pack(">iii", 3, 0x040201, 0x030500) + struct.pack(">i", 5) + b"UTF-8"
    body = struct.pack(">ii", 16, 3) + charsxp("EMMA") + charsxp("") + charsxp("Café", 0x08)
    assert build.read_r_strings(header + body, "test") == ["EMMA", "", "Café"]
    with pytest.raises(SystemExit, match="bytes left"):
        build.read_r_strings(header + body + b"\x00", "test")


def test_clean_gutenberg_text():
    build = load_build_script()
    raw = ("Header\r\n*** START OF THIS PROJECT GUTENBERG EBOOK MACBETH ***\r\n\r\nMACBETH  \r\n"
           "Fair is foul.\r\n\r\n*** END OF THIS PROJECT GUTENBERG EBOOK MACBETH ***\r\nLicence")
    assert build.clean_gutenberg_text(raw) == "MACBETH\nFair is foul.\n"


def test_write_bytes_atomic_leaves_nothing_on_error(tmp_path, monkeypatch):
    build = load_build_script()
    target = tmp_path / "file.txt.gz"
    build.write_bytes_atomic(target, b"old")
    monkeypatch.setattr(build.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        build.write_bytes_atomic(target, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt.gz"]
    assert target.read_bytes() == b"old"


def test_build_lists_every_target(capsys):
    load_build_script().main(["--list"])
    out = capsys.readouterr().out
    for target in ("mnist", "imdb", "analogies", "shakespeare", "spam", "corpus"):
        assert target in out
