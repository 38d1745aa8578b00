"""Tests for scratchdl.pretrained: the registry of recipes, load(name), the command line,
and the weights shipped in data/mnist_mlp.npz."""
import hashlib
import io
import re
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scratchdl import datasets, manifest, pretrained
from scratchdl import io as sdl_io
from scratchdl.models import MLP

ROOT = Path(__file__).resolve().parents[2]
MLP_FILE = ROOT / "data" / "mnist_mlp.npz"

needs_weights = pytest.mark.skipif(not MLP_FILE.exists(), reason="data/mnist_mlp.npz is not in this checkout")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """No test reads the user's settings or cache."""
    monkeypatch.delenv("SCRATCHDL_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(datasets, "_verified", {})


def small_data(n_train=300, n_test=100, seed=0):
    """Random 'images' float32 in [0, 1] and labels, as ((train_x, train_y), (test_x, test_y))."""
    rng = np.random.default_rng(seed)
    return ((rng.random((n_train, 784), dtype=np.float32), rng.integers(0, 10, size=n_train)),
            (rng.random((n_test, 784), dtype=np.float32), rng.integers(0, 10, size=n_test)))


def readme_row(filename, row):
    """The value of `| row | value |` in the section of `filename` in data/README.md."""
    text = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    section = text.split(f"### `{filename}`", 1)[1].split("\n#", 1)[0]
    match = re.search(rf"^\|\s*{re.escape(row)}\s*\|\s*(.+?)\s*\|\s*$", section, re.M)
    assert match, f"data/README.md: no '{row}' row for {filename}"
    return match.group(1)


# --- the registry ---

def test_recipes_are_complete():
    assert "mnist_mlp" in pretrained.RECIPES
    for name, recipe in pretrained.RECIPES.items():
        assert recipe.name == name
        assert recipe.filename in manifest.FILES
        assert recipe.epochs >= 1 and recipe.description


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'mnist_cnn'.*mnist_mlp"):
        pretrained.load("mnist_cnn")
    with pytest.raises(ValueError, match="mnist_mlp"):
        pretrained.get("nope")


def test_a_name_can_be_registered_once():
    with pytest.raises(ValueError, match="already registered"):
        pretrained.register(pretrained.RECIPES["mnist_mlp"])


def test_command_line_lists_the_recipes(capsys):
    assert pretrained.main(["--list"]) == 0
    printed = capsys.readouterr().out
    for recipe in pretrained.RECIPES.values():
        assert recipe.name in printed and recipe.filename in printed


def test_command_line_refuses_an_unknown_or_missing_name(capsys):
    for argv in (["mnist_cnn"], []):
        with pytest.raises(SystemExit) as info:
            pretrained.main(argv)
        assert info.value.code == 2
        assert "mnist_mlp" in capsys.readouterr().err


# --- the shipped weights ---

@needs_weights
def test_shipped_file_holds_plain_float32_arrays():
    arrays = sdl_io.read_npz(MLP_FILE)
    shapes = {key: value.shape for key, value in arrays.items() if key != "__architecture__"}
    assert shapes == {"0.W": (784, 50), "0.b": (50,), "2.W": (50, 100), "2.b": (100,),
                      "4.W": (100, 10), "4.b": (10,)}
    assert all(arrays[key].dtype == np.float32 for key in shapes)
    assert all(np.all(np.isfinite(arrays[key])) for key in shapes)


@needs_weights
def test_load_gives_the_test_accuracy_the_readme_states():
    model = pretrained.load("mnist_mlp")
    _, (test_x, test_y) = datasets.load_mnist(dtype=np.float32)
    stated = readme_row("mnist_mlp.npz", "test accuracy")     # "96.92% (9,692 of the 10,000 ...)"
    correct = int(re.search(r"\(([\d,]+) of", stated).group(1).replace(",", ""))
    assert round(model.accuracy(test_x, test_y) * len(test_y)) == correct
    assert stated.startswith(f"{100 * correct / len(test_y):.2f}%")


@needs_weights
def test_load_is_the_model_the_recipe_builds():
    model = pretrained.load("mnist_mlp")
    assert model.architecture() == pretrained.get("mnist_mlp").build(0).architecture()
    x = small_data(20)[0][0]
    reference = MLP([784, 50, 100, 10], activation="sigmoid", dtype=np.float32).load(MLP_FILE)
    np.testing.assert_array_equal(model.predict(x), reference.predict(x))


@needs_weights
def test_load_refuses_a_damaged_copy(tmp_path, monkeypatch):
    raw = bytearray(MLP_FILE.read_bytes())
    raw[5000] ^= 0xFF
    (tmp_path / "mnist_mlp.npz").write_bytes(bytes(raw))
    monkeypatch.setenv("SCRATCHDL_DATA_DIR", str(tmp_path))
    with pytest.raises(datasets.DataError, match="python -m scratchdl.pretrained mnist_mlp"):
        pretrained.load("mnist_mlp")


@needs_weights
def test_load_downloads_when_the_package_is_installed_alone(tmp_path, monkeypatch):
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        return io.BytesIO(MLP_FILE.read_bytes())

    monkeypatch.setattr(datasets, "repository_data_dir", lambda: None)
    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    model = pretrained.load("mnist_mlp")
    assert requested == [datasets.download_url("mnist_mlp.npz")]
    cached = tmp_path / "xdg-cache" / "scratchdl" / "mnist_mlp.npz"
    assert cached.read_bytes() == MLP_FILE.read_bytes()
    np.testing.assert_array_equal(model.params["0.W"], sdl_io.read_npz(MLP_FILE)["0.W"])


# --- training and writing (on small random data: the full run takes a minute or two) ---

def test_training_and_writing_are_reproducible(tmp_path):
    recipe = pretrained.get("mnist_mlp")
    digests = []
    for name in ("a.npz", "b.npz"):
        model, report = recipe.train(epochs=1, seed=0, progress=False, data=small_data())
        assert 0.0 <= report["test accuracy"] <= 1.0 and len(report["log"]) == 1
        model.save(tmp_path / name)
        digests.append(sdl_io.sha256(tmp_path / name))
    assert digests[0] == digests[1]
    with zipfile.ZipFile(tmp_path / "a.npz") as archive:
        assert {info.date_time for info in archive.infolist()} == {sdl_io.ZIP_DATE}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]


def test_different_seeds_give_different_weights():
    recipe = pretrained.get("mnist_mlp")
    a, _ = recipe.train(epochs=1, seed=0, progress=False, data=small_data())
    b, _ = recipe.train(epochs=1, seed=1, progress=False, data=small_data())
    assert not np.array_equal(a.params["0.W"], b.params["0.W"])


def test_command_line_trains_writes_and_prints_sha256(tmp_path, capsys):
    out = tmp_path / "sub" / "weights.npz"
    argv = ["mnist_mlp", "--out", str(out), "--epochs", "1", "--no-progress"]
    assert pretrained.main(argv, data=small_data(200, 100)) == 0
    printed = capsys.readouterr().out
    assert f"sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}" in printed
    assert "epoch  1:" in printed and "test accuracy" in printed and "trained in" in printed
    loaded = pretrained.load("mnist_mlp", path=out)   # a file of one's own: read, not verified
    assert all(value.dtype == np.float32 for value in loaded.params.values())


def test_default_output_is_the_repository_data_folder():
    if datasets.repository_data_dir() is None:
        pytest.skip("no data/ folder next to the package")
    recipe = pretrained.get("mnist_mlp")
    assert pretrained.default_output(recipe) == datasets.repository_data_dir() / "mnist_mlp.npz"
