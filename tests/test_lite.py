"""The in-browser (JupyterLite) copy of the book holds every chapter, its data and the package."""

import json
import zipfile

import pytest

from book import ROOT, toc_notebooks

LITE = ROOT / "_build" / "html" / "lite"
if not (LITE / "jupyter-lite.json").exists():
    pytest.fail("_build/html/lite is missing: run `make build` (or `make lite`)", pytrace=False)


def contents_listing(folder):
    listing = json.loads((LITE / "api" / "contents" / folder / "all.json").read_text())
    return {item["name"] for item in listing["content"]}


def test_every_chapter_is_in_the_lite_copy():
    names = contents_listing("chapters") if toc_notebooks() else set()
    missing = [p.name for p in toc_notebooks() if p.name not in names]
    assert not missing, f"chapters missing from the JupyterLite copy: {missing}"
    for notebook in toc_notebooks():
        served = LITE / "files" / "chapters" / notebook.name
        assert served.read_bytes() == notebook.read_bytes(), f"{notebook.name}: stale copy in lite"


def test_data_files_are_served():
    from scratchdl.datasets import verify
    from scratchdl.manifest import FILES
    for name in FILES:
        verify(LITE / "files" / "data" / name, name)   # raises if missing or different


def test_pip_index_has_the_package_and_its_pure_python_dependencies():
    index = json.loads((LITE / "pypi" / "all.json").read_text())
    assert {"scratchdl", "ipywidgets", "tqdm", "comm", "jupyterlab-widgets"} <= set(index)
    import scratchdl
    releases = index["scratchdl"]["releases"]
    assert scratchdl.__version__ in releases, f"scratchdl {scratchdl.__version__} not in {sorted(releases)}"
    wheel = LITE / "pypi" / releases[scratchdl.__version__][0]["filename"]
    with zipfile.ZipFile(wheel) as zf:
        modules = {n.split("/")[-1] for n in zf.namelist() if n.startswith("scratchdl/")}
    package_modules = {p.name for p in (ROOT / "code" / "scratchdl").glob("*.py")}
    assert package_modules <= modules, f"wheel lacks {sorted(package_modules - modules)}"


def test_widget_front_end_matches_ipywidgets():
    import ipywidgets
    package = json.loads((LITE / "extensions" / "@jupyter-widgets" / "jupyterlab-manager" / "package.json").read_text())
    assert package["version"].split(".")[0] == "5", "ipywidgets 8 needs @jupyter-widgets/jupyterlab-manager 5.x"
    assert ipywidgets.__version__ == "8.1.9"
