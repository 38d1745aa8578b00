"""Re-execute chapters in place, each top to bottom in a fresh kernel (`make execute`).

    python tools/execute.py                      # every notebook listed in _toc.yml
    python tools/execute.py chapters/01_*.ipynb  # only these
    python tools/execute.py --cache _build/.jupyter_cache   # for the site build (make build)

Outputs are kept (the site and nbval read them); widget state is dropped, since the
static site gets its interactive figures from the build, not from the notebook.
Prints each notebook's wall time: the budget is 60 s on two cores.

With --cache DIR the chapters are not changed: each one not yet in the site build's
execution cache (jupyter-cache, which myst-nb reads in `execute_notebooks: cache` mode) is
executed with its static players (SCRATCHDL_STATIC_WIDGETS=1), JOBS at a time, the way
myst-nb would (jupyter-cache's own single_nb_execution, in the chapter's folder), and
stored there. jupyter-book executes one notebook after another; this fills the cache on
every core first, and the build then finds every chapter cached.
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


def execute_for_site(path: Path) -> tuple[Path, object, float]:
    """(path, the executed notebook, seconds), executed as myst-nb's cache mode would."""
    from jupyter_cache.executors.utils import single_nb_execution
    nb = nbformat.read(path, as_version=4)
    result = single_nb_execution(nb, cwd=str(path.parent), timeout=600, allow_errors=False)
    if result.err is not None:
        raise RuntimeError(f"{path.relative_to(ROOT)} failed:\n{result.exc_string}")
    return path, nb, result.time


def fill_cache(cache_dir: str, paths: list[Path], jobs: int) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    cache = get_cache(cache_dir)
    missing = []
    for path in paths:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            missing.append(path)
    print(f"{len(paths) - len(missing)} of {len(paths)} notebooks already in {cache_dir}")
    os.environ["SCRATCHDL_STATIC_WIDGETS"] = "1"
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path, nb, seconds in pool.map(execute_for_site, missing):
            # one writer (this process) for the cache's database
            cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                                        check_validity=False, overwrite=True)
            print(f"{seconds:6.1f} s  {path.relative_to(ROOT)} (with static players, cached)")


def main(argv: list[str]) -> None:
    cache_dir = None
    if argv[:1] == ["--cache"]:
        if len(argv) < 2:
            raise SystemExit("--cache needs a folder (the build's execution cache)")
        cache_dir, argv = argv[1], argv[2:]
    paths = [Path(p).resolve() for p in argv] or toc_notebooks()
    # Static players are for the website build only; committed notebooks never hold frames.
    os.environ.pop("SCRATCHDL_STATIC_WIDGETS", None)
    # The same numeric code on every machine, so the printed numbers are the same, and one
    # BLAS thread per kernel (tools/book.py says why). `make execute` sets these already;
    # this covers running the script by hand, and a value set outside still wins.
    for key, value in NUMERIC_ENV.items():
        os.environ.setdefault(key, value)
    jobs = int(os.environ.get("JOBS", "2"))
    if cache_dir is not None:
        fill_cache(cache_dir, paths, jobs)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for path, seconds in pool.map(execute, paths):
            print(f"{seconds:6.1f} s  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
