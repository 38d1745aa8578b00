"""Tests for scratchdl.pretrained and the weights it shipped in data/mnist_mlp.npz."""
import hashlib
import zipfile

import numpy as np
import pytest

from scratchdl import datasets, models, pretrained
from scratchdl.models import MLP


def _small_data(n=300, seed=0):
    """Random 'images' (n, 784) float32 in [0, 1] and labels (n,), enough to run the script."""
    rng = np.random.default_rng(seed)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, size=n)


@pytest.fixture(scope="module")
def shipped_path():
    folder = datasets._repository_data_dir()
    if folder is None or not (folder / pretrained.FILENAME).exists():
        pytest.skip("data/mnist_mlp.npz is not next to the package")
    return folder / pretrained.FILENAME


def test_shipped_file_is_registered_small_and_intact(shipped_path):
    assert pretrained.FILENAME in datasets.FILES
    assert hashlib.sha256(shipped_path.read_bytes()).hexdigest() == datasets.FILES[pretrained.FILENAME]
    assert shipped_path.stat().st_size < 1_500_000
    assert datasets.data_path(pretrained.FILENAME) == shipped_path


def test_shipped_file_holds_plain_float32_arrays(shipped_path):
    with np.load(shipped_path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    shapes = {key: value.shape for key, value in arrays.items() if key != "__architecture__"}
    assert shapes == {"0.W": (784, 50), "0.b": (50,), "2.W": (50, 100), "2.b": (100,),
                      "4.W": (100, 10), "4.b": (10,)}
    assert all(arrays[key].dtype == np.float32 for key in shapes)
    assert all(np.all(np.isfinite(arrays[key])) for key in shapes)


def test_shipped_network_classifies_the_test_set():
    model = pretrained.load_pretrained()
    _, (test_x, test_y) = datasets.load_mnist(dtype=np.float32)
    accuracy = model.accuracy(test_x, test_y)
    assert 0.96 <= accuracy <= 0.98, accuracy    # the script printed 0.9692


def test_loads_into_the_model_the_chapter_builds(shipped_path):
    model = MLP([784, 50, 100, 10], activation="sigmoid", dtype=np.float32).load(shipped_path)
    reference = pretrained.load_pretrained(shipped_path)
    x = _small_data(20)[0]
    np.testing.assert_array_equal(model.predict(x), reference.predict(x))


def test_wrong_architecture_is_refused(shipped_path):
    with pytest.raises(ValueError, match="different architecture"):
        MLP([784, 100, 10], activation="sigmoid", dtype=np.float32).load(shipped_path)


def test_training_and_writing_are_reproducible(tmp_path):
    data = _small_data()
    digests = []
    for name in ("a.npz", "b.npz"):
        model, history = pretrained.train(epochs=1, progress=False, train_data=data)
        assert not history["diverged"] and len(history["loss"]) == 3   # 300 samples / 100
        digests.append(pretrained.write(model, tmp_path / name))
    assert digests[0] == digests[1]
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.npz") as archive:
        assert {info.date_time for info in archive.infolist()} == {models.ZIP_DATE}
    assert not list(tmp_path.glob("*.tmp"))   # nothing half-written left behind


def test_written_file_loads_back(tmp_path):
    model, _ = pretrained.train(epochs=1, progress=False, train_data=_small_data())
    path = tmp_path / "net.npz"
    pretrained.write(model, path)
    loaded = pretrained.load_pretrained(path)
    x = _small_data(10, seed=1)[0]
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert all(value.dtype == np.float32 for value in loaded.params.values())


def test_different_seeds_give_different_weights():
    data = _small_data()
    a, _ = pretrained.train(epochs=1, seed=0, progress=False, train_data=data)
    b, _ = pretrained.train(epochs=1, seed=1, progress=False, train_data=data)
    assert not np.array_equal(a.params["0.W"], b.params["0.W"])


def test_main_writes_the_file_and_prints_its_sha256(tmp_path, monkeypatch, capsys):
    train = _small_data(200)
    test = _small_data(100, seed=2)
    monkeypatch.setattr(pretrained.datasets, "load_mnist", lambda dtype=np.float32: (train, test))
    out = tmp_path / "sub" / "weights.npz"
    assert pretrained.main(["--out", str(out), "--epochs", "1", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in printed
    assert "epoch  1:" in printed and "test accuracy" in printed


def test_default_output_is_the_repository_data_folder(shipped_path):
    assert pretrained.default_output() == shipped_path
