"""Live redraw time of every interactive figure in the book, and each page's weight.

    python benchmarks/bench_book_widgets.py            # every chapter in _toc.yml
    python benchmarks/bench_book_widgets.py chapters/03_learning.ipynb

Each chapter is executed in a fresh kernel; then every InteractiveFigure it made is moved
through each control's website values, one control at a time, the way a reader drags a
slider, and the redraw (draw + PNG for the live widget) is timed. Goal: median <= 150 ms.
Page weights (HTML + figures, static players included) are read from _build/html when the
site has been built (`make book`); the limit is 3 MB.
"""

import json
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# benchmarks/ holds plain scripts, not a package, so the book's one reader of its pages
# (tools/book.py) is reached by adding its folder, as Python does for scripts in tools/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from book import built_page_weight, toc_notebooks  # noqa: E402

PROBE = r'''
import gc as _gc, json as _json, math as _math, statistics as _st
from scratchdl.widgets import InteractiveFigure as _IF
_rows = []
for _f in [o for o in _gc.get_objects() if isinstance(o, _IF)]:
    _times = []
    for _name, _control in _f.controls.items():
        for _value in list(_control.static) + [_control.value]:
            _f.set(**{_name: _value})
            _times.append(_f.last_redraw_seconds)
    _rows.append({"controls": list(_f.controls), "frames": _math.prod(len(c.static) for c in _f.controls.values()),
                  "median_ms": 1000 * _st.median(_times), "max_ms": 1000 * max(_times), "redraws": len(_times)})
print("BENCH" + _json.dumps(_rows))
'''


def measure(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    return json.loads(text.split("BENCH", 1)[1])


def main(argv):
    paths = [Path(p).resolve() for p in argv] or toc_notebooks()
    print(f"{'chapter':<28}{'widget controls':<40}{'frames':>7}{'median ms':>11}{'max ms':>9}{'page MB':>9}")
    all_medians = []
    for path in paths:
        weight = built_page_weight(f"chapters/{path.stem}")
        shown = f"{weight / 1e6:.2f}" if weight else "-"
        for i, row in enumerate(measure(path)):
            all_medians.append(row["median_ms"])
            print(f"{path.stem if i == 0 else '':<28}{', '.join(row['controls'])[:38]:<40}{row['frames']:>7}"
                  f"{row['median_ms']:>11.0f}{row['max_ms']:>9.0f}{shown if i == 0 else '':>9}")
    if all_medians:
        slow = sum(m > 150 for m in all_medians)
        print(f"\n{len(all_medians)} widgets; {slow} with a median redraw above 150 ms")


if __name__ == "__main__":
    main(sys.argv[1:])
