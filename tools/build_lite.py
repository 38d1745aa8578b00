"""Build the in-browser (JupyterLite) copy of the book into _build/html/lite, offline.

    python tools/build_lite.py

The copy holds every chapter notebook (as committed), the shipped data files, and wheels
of `scratchdl` and of the pure-Python packages it needs that Pyodide lacks (ipywidgets,
its comm and widget front-end packages, tqdm), indexed for `%pip install` in the browser.
Everything is taken from this machine; the reader's browser later loads Pyodide itself
(NumPy, Matplotlib) from Pyodide's public CDN.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from book import ROOT, toc_notebooks

OUT = ROOT / "_build" / "html" / "lite"
BIN = Path(sys.executable).parent
# Wheels the browser kernel installs from the site; versions match requirements*.txt.
RUNTIME_WHEELS = ["ipywidgets==8.1.9", "comm==0.2.3", "jupyterlab-widgets==3.0.17", "tqdm==4.70.1"]


def run(*args, cwd=None):
    subprocess.run([str(a) for a in args], check=True, cwd=cwd)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        contents = tmp / "contents"
        (contents / "chapters").mkdir(parents=True)
        for notebook in toc_notebooks():
            shutil.copy2(notebook, contents / "chapters" / notebook.name)
        shutil.copytree(ROOT / "data", contents / "data",
                        ignore=shutil.ignore_patterns("*.py", "README.md", "__pycache__"))
        wheels = tmp / "wheels"
        run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, ROOT / "code")
        run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
            "--dest", wheels, *RUNTIME_WHEELS)
        if OUT.exists():
            shutil.rmtree(OUT)
        run(BIN / "jupyter", "lite", "build", "--no-sourcemaps", "--contents", contents,
            *[arg for whl in sorted(wheels.glob("*.whl")) for arg in ("--piplite-wheels", whl)],
            "--output-dir", OUT, cwd=tmp)
    print(f"JupyterLite copy of the book: {OUT.relative_to(ROOT)}/lab/index.html")


if __name__ == "__main__":
    main()
