"""Re-execute chapters in place, each top to bottom in a fresh kernel (`make execute`).

    python tools/execute.py                      # every notebook listed in _toc.yml
    python tools/execute.py chapters/01_*.ipynb  # only these

Outputs are kept (the site and nbval read them); widget state is dropped, since the
static site gets its interactive figures from the build, not from the notebook.
Prints each notebook's wall time: the budget is 60 s on two cores.
"""

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from book import NUMERIC_ENV, ROOT, toc_notebooks


def execute(path: Path) -> tuple[Path, float]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    # A widget view points at a model that only lived in the kernel: keep its text (which
    # says to run the notebook) and drop the dangling view and its random model id.
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)
    return path, elapsed


def main(argv: list[str]) -> None:
    paths = [Path(p).resolve() for p in argv] or toc_notebooks()
    # Static players are for the website build only; committed notebooks never hold frames.
    os.environ.pop("SCRATCHDL_STATIC_WIDGETS", None)
    # The same numeric code on every machine, so the printed numbers are the same, and one
    # BLAS thread per kernel (tools/book.py says why). `make execute` sets these already;
    # this covers running the script by hand, and a value set outside still wins.
    for key, value in NUMERIC_ENV.items():
        os.environ.setdefault(key, value)
    jobs = int(os.environ.get("JOBS", "2"))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path, seconds in pool.map(execute, paths):
            print(f"{seconds:6.1f} s  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
