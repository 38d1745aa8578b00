"""The rules every chapter notebook keeps (see DESIGN.md, "Chapters" and "Tests and CI")."""

import json

import pytest
import yaml

from book import ROOT, setup_cell_source, toc_entries, toc_notebooks

MAX_BYTES = 3 * 1024 * 1024
REPOSITORY_URL = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
NOTEBOOKS = toc_notebooks()


def test_every_toc_entry_exists():
    missing = [e for e in toc_entries()
               if not any((ROOT / f"{e}{suffix}").exists() for suffix in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"


def test_every_chapter_is_in_the_toc():
    listed = {p.resolve() for p in NOTEBOOKS}
    orphans = [p.name for p in sorted((ROOT / "chapters").glob("*.ipynb")) if p.resolve() not in listed]
    assert not orphans, f"notebooks missing from _toc.yml: {orphans}"


def test_package_points_at_the_same_repository():
    from scratchdl.datasets import REPOSITORY_URL as package_url
    assert package_url == REPOSITORY_URL, "scratchdl.datasets.REPOSITORY_URL differs from _config.yml"


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request):
    path = request.param
    return path, json.loads(path.read_text())


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_small_enough(notebook):
    path, _ = notebook
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes (limit 3 MB)"


def test_starts_with_hidden_colab_setup(notebook):
    path, nb = notebook
    first = nb["cells"][0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code", f"{path.name}: the first cell must be the setup code cell"
    assert "remove-cell" in first.get("metadata", {}).get("tags", []), f"{path.name}: setup cell not tagged remove-cell"
    assert source == setup_cell_source(REPOSITORY_URL), (
        f"{path.name}: the setup cell differs from tools/book.py:setup_cell_source "
        f"(it installs scratchdl from {REPOSITORY_URL}, subdirectory code, or from the JupyterLite wheel)")


def test_executed_top_to_bottom_in_one_kernel(notebook):
    path, nb = notebook
    counts = [c.get("execution_count") for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..{len(counts)}; run `make execute`")


def test_no_error_outputs(notebook):
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        assert not errors, f"{path.name}: code cell {i} has an error output: {errors[0].get('ename')}"


def test_no_widget_state(notebook):
    path, nb = notebook
    assert "widgets" not in nb.get("metadata", {}), f"{path.name}: widget state is stored; run `make execute`"
    views = [i for i, cell in enumerate(code_cells(nb)) for output in cell.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    assert not views, f"{path.name}: code cells {views} keep views of widgets that no longer exist; run `make execute`"


def test_no_static_player_frames(notebook):
    """Players are rendered during the website build only; frames in a notebook waste megabytes."""
    path, nb = notebook
    for i, cell in enumerate(code_cells(nb)):
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            assert "data-sdl-player" not in html, (
                f"{path.name}: code cell {i} stores a static player; run `make execute`")


def test_no_control_characters_in_sources(notebook):
    """A backslash lost in a Python string ("\text", "\frac", "\beta") leaves a tab, form feed
    or backspace in the cell, and the math breaks without any error."""
    path, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        found = sorted({f"\\x{ord(ch):02x}" for ch in source
                        if ord(ch) < 32 and ch != "\n" and (ch != "\t" or cell["cell_type"] == "markdown")})
        assert not found, f"{path.name}: cell {i} ({cell['cell_type']}) holds control characters {found}"
