"""Tests for scratchdl.datasets: the shipped MNIST file, every load_mnist option, and the
failure paths (damaged file, failed or wrong download) that must leave nothing behind."""
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
