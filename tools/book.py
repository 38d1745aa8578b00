"""The book as data, one copy for the build tools, the tests and the benchmarks.

Which pages the book has (one reader of _toc.yml), the hidden setup cell every chapter
starts with, how heavy a built page is, and the numeric environment chapters run in.

    python tools/book.py numeric-env    # KEY=VALUE ..., shell-quoted (the Makefile reads it)

Scripts in tools/ import it as `book` (their own folder is on sys.path); pytest finds it
through `pythonpath = tools` in pytest.ini. The numeric-env command needs only the
standard library: the Makefile runs it with the system Python, before .venv exists.
"""

from __future__ import annotations  # the system Python may be older than the venv's

import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The chapters' printed numbers must be the same on every machine that runs them. OpenBLAS
# and NumPy pick their vector code by CPU, and other code rounds float32 sums differently
# (enough for nbval to see after a few hundred training steps): pin both to what any
# x86-64 CPU with AVX2 runs (OpenBLAS's Haswell kernels, NumPy without its AVX-512 paths).
# Two notebooks run at once on two cores, so one BLAS thread each keeps them from fighting.
NUMERIC_ENV = {
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}


def toc_entries() -> list[str]:
    """Every `file:` in _toc.yml, without suffix, root first: ['intro', 'chapters/01_...']."""
    import yaml  # here, not at the top: `numeric-env` must run without the venv

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


def built_page_weight(page: str, site: Path | None = None) -> int | None:
    """Bytes of a built page (`page` as in _toc.yml, e.g. 'chapters/01_perceptron') plus the
    figures it references from the site's _images (the theme's files are not counted);
    None when the site has not been built. site: the built HTML, _build/html by default."""
    site = ROOT / "_build" / "html" if site is None else Path(site)
    html = site / f"{page}.html"
    if not html.exists():
        return None
    text = html.read_text(errors="ignore")
    images = [p for p in (site / "_images").glob("*") if p.name in text]
    return html.stat().st_size + sum(p.stat().st_size for p in images)


def main(argv: list[str]) -> None:
    if argv == ["numeric-env"]:
        # Quoted for the shell: NPY_DISABLE_CPU_FEATURES holds spaces, and the Makefile puts
        # these assignments in front of a command.
        print(" ".join(f"{key}={shlex.quote(value)}" for key, value in NUMERIC_ENV.items()))
    else:
        sys.exit("usage: python tools/book.py numeric-env")


if __name__ == "__main__":
    main(sys.argv[1:])
