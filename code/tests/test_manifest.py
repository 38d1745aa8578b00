"""The manifest (scratchdl/manifest.py), the files in data/ and data/README.md agree, and
every file names a recipe that exists."""
import importlib.util
import re
from pathlib import Path

import pytest

from scratchdl import io as sdl_io
from scratchdl import manifest, pretrained

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
NOT_SHIPPED = {"build.py", "README.md"}   # the tools and the documentation of data/


def readme_sections():
    """{file name: {row name: value}} from the "### `name`" sections of data/README.md and
    the "| row | value |" table under each."""
    sections, current = {}, None
    for line in (DATA / "README.md").read_text(encoding="utf-8").splitlines():
        heading = re.match(r"^###\s+`([^`]+)`\s*$", line)
        if heading:
            current = sections.setdefault(heading.group(1), {})
        elif line.startswith("#"):
            current = None
        elif current is not None:
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if line.startswith("|") and len(cells) == 2 and cells[0].strip("-"):
                current[cells[0]] = cells[1]
    return sections


def shipped_files():
    return sorted(p.name for p in DATA.iterdir()
                  if p.is_file() and p.name not in NOT_SHIPPED and not p.name.startswith("."))


def load_build_script():
    spec = importlib.util.spec_from_file_location("data_build", DATA / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def test_every_file_in_data_is_in_the_manifest_and_vice_versa():
    assert shipped_files() == sorted(manifest.FILES)


@pytest.mark.parametrize("name", sorted(manifest.FILES))
def test_manifest_entry_matches_the_file(name):
    path = DATA / name
    entry = manifest.FILES[name]
    assert re.fullmatch(r"[0-9a-f]{64}", entry.sha256)
    assert path.stat().st_size == entry.size
    assert sdl_io.sha256(path) == entry.sha256


@pytest.mark.parametrize("name", sorted(manifest.FILES))
def test_readme_states_the_manifest_sha256_size_and_recipe(name):
    sections = readme_sections()
    assert name in sections, f"data/README.md has no section ### `{name}`"
    rows = sections[name]
    for required in ("source", "license", "size", "sha256", "recipe"):
        assert required in rows, f"data/README.md: {name} has no '{required}' row"
    entry = manifest.FILES[name]
    assert rows["sha256"] == f"`{entry.sha256}`"
    size = re.match(r"^([\d,]+) bytes", rows["size"])
    assert size and int(size.group(1).replace(",", "")) == entry.size, rows["size"]
    assert rows["recipe"] == f"`{entry.recipe}`"


def test_readme_describes_no_file_that_is_not_shipped():
    assert sorted(readme_sections()) == sorted(manifest.FILES)


def test_trained_weights_state_their_training_time_and_test_accuracy():
    sections = readme_sections()
    for recipe in pretrained.RECIPES.values():
        rows = sections[recipe.filename]
        scores = ("test accuracy", "analogy accuracy", "validation loss")
        assert "training time" in rows and any(score in rows for score in scores), recipe.filename


@pytest.mark.parametrize("name", sorted(manifest.FILES))
def test_every_recipe_exists(name):
    recipe = manifest.FILES[name].recipe
    build = re.fullmatch(r"python data/build\.py (\w+)", recipe)
    weights = re.fullmatch(r"python -m scratchdl\.pretrained (\w+)", recipe)
    assert build or weights, f"{name}: recipe {recipe!r} is neither a data/build.py target " \
                             f"nor a scratchdl.pretrained recipe"
    if build:
        targets = load_build_script().TARGETS
        assert build.group(1) in targets, f"data/build.py has no target {build.group(1)!r}"
        assert targets[build.group(1)][0] == name
    else:
        assert pretrained.get(weights.group(1)).filename == name


def test_every_pretrained_recipe_and_build_target_is_in_the_manifest():
    for recipe in pretrained.RECIPES.values():
        assert manifest.FILES[recipe.filename].recipe == f"python -m scratchdl.pretrained {recipe.name}"
    for target, (filename, _) in load_build_script().TARGETS.items():
        assert manifest.FILES[filename].recipe == f"python data/build.py {target}"


def test_unknown_file_lists_the_known_ones():
    with pytest.raises(ValueError, match="mnist.npz"):
        manifest.entry("cifar10.npz")
