"""The table of contents as data: which pages the book has (one reader of _toc.yml)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_entries() -> list[str]:
    """Every `file:` in _toc.yml, without suffix, root first: ['intro', 'chapters/01_...']."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            entries.append(chapter["file"])
            entries.extend(section["file"] for section in chapter.get("sections", []))
    return entries


def toc_notebooks() -> list[Path]:
    """The notebooks the table of contents lists (pages that are .ipynb files)."""
    paths = []
    for entry in toc_entries():
        path = ROOT / f"{entry}.ipynb"
        if path.exists():
            paths.append(path)
    return paths


def setup_cell_source(repository_url: str) -> str:
    """The hidden first cell every chapter starts with (one text, checked by the policy test)."""
    return f'''# Colab, JupyterLite and other fresh environments: install the book's package when it is missing.
try:
    import scratchdl
except ImportError:
    import sys
    if sys.platform == "emscripten":  # JupyterLite: the site ships a wheel of scratchdl
        %pip install scratchdl
    else:
        %pip install --quiet "scratchdl @ git+{repository_url}#subdirectory=code"'''


def built_page_weight(page: str) -> int | None:
    """Bytes of a built page (`page` as in _toc.yml, e.g. 'chapters/01_perceptron') plus the
    figures it references from _build/html/_images (the theme's files are not counted);
    None when the site has not been built."""
    html = ROOT / "_build" / "html" / f"{page}.html"
    if not html.exists():
        return None
    text = html.read_text(errors="ignore")
    images = [p for p in (ROOT / "_build" / "html" / "_images").glob("*") if p.name in text]
    return html.stat().st_size + sum(p.stat().st_size for p in images)
