"""Tests for scratchdl.io: the safe .npz reader, the deterministic writer and sha256.

The independent truths: hashlib for sha256, NumPy's own np.load for what was written, the
shipped files' recorded sha256 for the writer's bytes, and hand-made hostile files for
what the reader must refuse."""
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scratchdl import io as sdl_io
from scratchdl import manifest
from scratchdl.models import MLP

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def sample_arrays():
    """One array of every kind a model or dataset file holds, in a deliberate (unsorted) order."""
    return {
        "w": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "b": np.array([1.5, -2.0, np.inf]),
        "labels": np.arange(5, dtype=np.uint8),
        "index": np.array([3, 1, 2], dtype=np.int64),
        "mask": np.array([True, False]),
        "empty": np.zeros((0, 3)),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "__architecture__": np.array('[{"type": "Affine"}]'),   # 0-d unicode, no pickle
    }


def test_round_trip_keeps_values_dtypes_shapes_and_order(tmp_path):
    arrays = sample_arrays()
    for compress in (False, True):
        path = tmp_path / f"a{compress}.npz"
        sdl_io.write_npz(path, arrays, compress=compress)
        loaded = sdl_io.read_npz(path)
        assert list(loaded) == list(arrays)     # entries in the dict's order
        for key, array in arrays.items():
            assert loaded[key].dtype == array.dtype and loaded[key].shape == array.shape, key
            np.testing.assert_array_equal(loaded[key], array)
        with np.load(path, allow_pickle=False) as archive:   # NumPy reads it too
            assert archive.files == list(arrays)
            np.testing.assert_array_equal(archive["w"], arrays["w"])


def test_writes_are_deterministic(tmp_path):
    for compress in (False, True):
        first, second = tmp_path / f"1-{compress}.npz", tmp_path / f"2-{compress}.npz"
        sdl_io.write_npz(first, sample_arrays(), compress=compress)
        os.utime(tmp_path, (0, 0))   # a different "now" must not matter
        sdl_io.write_npz(second, sample_arrays(), compress=compress)
        assert first.read_bytes() == second.read_bytes()
        with zipfile.ZipFile(first) as archive:
            infos = archive.infolist()
        assert [info.filename for info in infos] == [key + ".npy" for key in sample_arrays()]
        assert {info.date_time for info in infos} == {sdl_io.ZIP_DATE}
        assert {info.external_attr >> 16 for info in infos} == {0o644}
        expected = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        assert {info.compress_type for info in infos} == {expected}
        assert first.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "1-False.npz", "1-True.npz", "2-False.npz", "2-True.npz"]   # no temporary file left


def test_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "a.npz"
    sdl_io.write_npz(path, {"x": np.zeros(3)})
    sdl_io.write_npz(path, {"y": np.ones(2)})
    assert list(sdl_io.read_npz(path)) == ["y"]


@pytest.mark.parametrize("name,compress,sort", [("mnist_mlp.npz", False, True),
                                               ("mnist.npz", True, False)])
def test_rewriting_a_shipped_file_reproduces_its_sha256(tmp_path, name, compress, sort):
    """The shipped files were written by the two writers this module replaced (models.save,
    stored and sorted; data/build.py, deflated in its own order): same bytes today."""
    shipped = DATA / name
    if not shipped.exists():
        pytest.skip(f"data/{name} is not in this checkout")
    arrays = sdl_io.read_npz(shipped)
    if sort:
        arrays = dict(sorted(arrays.items()))
    out = tmp_path / name
    sdl_io.write_npz(out, arrays, compress=compress)
    assert sdl_io.sha256(out) == manifest.FILES[name].sha256


def test_sha256_matches_hashlib_across_blocks(tmp_path):
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)   # several 1 MB blocks and a tail
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sdl_io.sha256(path) == hashlib.sha256(data).hexdigest()
    assert sdl_io.sha256(str(path)) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sdl_io.sha256(empty) == hashlib.sha256(b"").hexdigest()


# --- the writer: failures leave nothing behind and name the caller's path ---

def test_missing_folder_names_the_path_given(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "w.npz"
    with pytest.raises(FileNotFoundError) as info:
        sdl_io.write_npz(path, {"x": np.zeros(2)})
    message = str(info.value)
    assert str(path) in message
    assert ".tmp" not in message   # not the temporary file's name
    assert not (tmp_path / "no").exists()


def test_model_save_into_missing_folder_names_the_path_given(tmp_path):
    """The reported bug: Sequential.save into a folder that does not exist named the
    temporary file, not the path the caller gave."""
    path = tmp_path / "missing" / "model.npz"
    with pytest.raises((FileNotFoundError, ValueError)) as info:
        MLP([3, 2], rng=0).save(path)
    assert str(path) in str(info.value) and ".tmp" not in str(info.value)


def test_object_arrays_are_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "evil.npz"
    with pytest.raises(ValueError, match="'payload'.*objects"):
        sdl_io.write_npz(path, {"ok": np.zeros(2), "payload": np.array([{"a": 1}], dtype=object)})
    assert list(tmp_path.iterdir()) == []


def test_failure_while_writing_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    sdl_io.write_npz(path, {"x": np.arange(3)})
    before = path.read_bytes()
    calls = []

    def failing_write_array(fp, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:       # the second entry: the archive is half written
            raise KeyboardInterrupt
        return real_write_array(fp, array, **kwargs)

    real_write_array = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(KeyboardInterrupt):
        sdl_io.write_npz(path, {"a": np.ones(1000), "b": np.ones(1000)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]


# --- the reader: refuses what is not a plain .npz ---

def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        sdl_io.read_npz(tmp_path / "nope.npz")


def test_refuses_pickled_arrays(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, allow_pickle=True, w=np.zeros(3),
             payload=np.array([{"code": "would run on unpickling"}], dtype=object))
    with pytest.raises(ValueError, match=r"^.*evil\.npz: refusing to load pickled data") as info:
        sdl_io.read_npz(path)
    assert str(info.value).startswith(f"{path}: ")


def good_file(folder):
    path = folder / "good.npz"
    sdl_io.write_npz(path, {"w": np.arange(200.0), "b": np.ones(50)})
    return path


@pytest.mark.parametrize("damage,message", [
    ("not a zip", "not a valid .npz model file"),
    ("single npy", r"not a valid \.npz model file \(a single \.npy"),
    ("text", "not a valid .npz model file"),
    ("truncated", "not a valid .npz model file"),
    ("flipped bytes", "corrupted"),
    ("foreign entry", "not .npy arrays"),
    ("empty", "not a valid .npz"),
])
def test_refuses_damaged_files_with_a_message_naming_them(tmp_path, damage, message):
    good = good_file(tmp_path)
    path = tmp_path / "bad.npz"
    raw = bytearray(good.read_bytes())
    if damage == "not a zip":
        raw[:4] = b"XXXX"
    elif damage == "single npy":
        np.save(tmp_path / "single.npy", np.zeros(3))
        raw = (tmp_path / "single.npy").read_bytes()
    elif damage == "text":
        raw = b"hello"
    elif damage == "truncated":
        raw = raw[:300]
    elif damage == "flipped bytes":   # inside the first entry's data: the CRC check fails
        for i in range(200, 260):
            raw[i] ^= 0xFF
    elif damage == "foreign entry":
        with zipfile.ZipFile(good, "a") as archive:
            archive.writestr("readme.txt", "not an array")
        raw = good.read_bytes()
    elif damage == "empty":
        raw = b""
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=message) as info:
        sdl_io.read_npz(path)
    assert str(info.value).startswith(f"{path}: ")


def test_what_names_the_kind_of_file(tmp_path):
    path = tmp_path / "x.npz"
    path.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not a valid .npz data file"):
        sdl_io.read_npz(path, what="data file")


def test_refuses_a_header_promising_more_bytes_than_the_entry_holds(tmp_path):
    """A 100-byte entry whose header claims 10^12 floats must not make us allocate 8 TB."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    entry = tmp_path / "huge.npy"
    with open(entry, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(b"\x00" * 16)
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(entry, "x.npy")
    with pytest.raises(ValueError, match=r"'x' of shape \(1000000000000,\).*needs"):
        sdl_io.read_npz(path)


def test_size_and_dtype_limits(tmp_path):
    path = tmp_path / "a.npz"
    sdl_io.write_npz(path, {"x": np.zeros(1000), "n": np.arange(3)})   # about 8 KB
    with pytest.raises(ValueError, match="max_bytes"):
        sdl_io.read_npz(path, max_bytes=4000)
    assert set(sdl_io.read_npz(path, max_bytes=None)) == {"x", "n"}
    with pytest.raises(ValueError, match="'n' has dtype int64"):
        sdl_io.read_npz(path, dtypes=[np.float64])
    assert set(sdl_io.read_npz(path, dtypes=[np.float64, np.int64])) == {"x", "n"}
