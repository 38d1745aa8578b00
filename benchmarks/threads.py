"""What the speed benchmarks share: finding the frameworks to compare, starting each
configuration in a process of its own with its thread count, timing the parts of a step,
and reporting repeated measurements as 'median (min-max)'."""
import importlib.metadata
import importlib.util
import multiprocessing
import os
import statistics
import time

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(threads):
    """For the processes started from now on (before they load their BLAS and OpenMP)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


SCRATCHDL_MODES = ("workers", "blas")


def set_scratchdl_threads(threads, mode="workers"):
    """For the scratchdl processes started from now on: how they use ``threads`` cores.
    "workers": scratchdl's own threads (scratchdl.parallel, SCRATCHDL_NUM_THREADS) split
    the layers' work, and BLAS runs on one thread per call; "blas": only numpy's BLAS uses
    several threads, inside the matrix products (what plain numpy code gets)."""
    if mode not in SCRATCHDL_MODES:
        raise ValueError(f"mode must be one of {SCRATCHDL_MODES}, got {mode!r}")
    set_threads(1 if mode == "workers" else threads)
    os.environ["SCRATCHDL_NUM_THREADS"] = str(threads if mode == "workers" else 1)


def frameworks(no_torch):
    """["scratchdl"], and "pytorch" when it is installed and not ruled out; says which. Only
    looks for torch: importing it would start its thread pool in this process."""
    found = ["scratchdl"]
    if no_torch:
        return found
    if importlib.util.find_spec("torch") is not None:
        found.append("pytorch")
        print(f"PyTorch {importlib.metadata.version('torch')}")
    else:
        print("PyTorch was not found: timing scratchdl only")
    return found


def start(target, args, threads, scratchdl_mode=None):
    """(pipe, process): ``target(child_pipe, *args)`` started with ``spawn`` after the thread
    variables are set to ``threads`` (with ``scratchdl_mode``, for a scratchdl process: see
    set_scratchdl_threads), so the new process loads its BLAS and OpenMP with them."""
    set_threads(threads)
    if scratchdl_mode is not None:
        set_scratchdl_threads(threads, scratchdl_mode)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    return parent, process


def spread(values):
    """'median (min-max)' of the values, e.g. '4,120 (3,980-4,200)'."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


class PartTimer:
    """Times the parts of a step: ``timer(name, function, *args)`` calls the function,
    records its wall time under ``name`` (in ``timer.times``, a list per name) and returns
    its result."""

    def __init__(self):
        self.times = {}

    def __call__(self, name, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        self.times.setdefault(name, []).append(time.perf_counter() - start)
        return result
