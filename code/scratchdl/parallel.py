"""Splitting one large array operation over several cores (intra-operation parallelism).

numpy's BLAS uses several cores inside a matrix product, and nowhere else: a convolutional
network's pooling, ReLU, im2col copy and Adam update run on one core. PyTorch spreads those
too. This module does the same for the layers that matter, with threads: numpy releases
Python's lock inside large operations, so threads working on disjoint slices of an array
run at the same time.

Most splits are over an axis that no sum runs along (images of a batch, rows of a
product's output, stretches of a parameter); the LSTM's weight gradients, which sum over
its sequences, add one sum per worker. Elementwise work (ReLU, pooling, copies, Adam) gives the
same numbers, bit for bit, with any number of workers. A matrix product split into pieces
can differ in the last bit: OpenBLAS computes the edges of a matrix with other kernels,
which round differently. OpenBLAS's own threads do the same (a product at two BLAS threads
differs from one at one thread in the last bit), so results agree to float precision
across thread counts, not bit for bit (tested). With one worker (the default) nothing is
split and every result is that of the plain numpy code.

Off by default (one worker). To use two cores::

    OPENBLAS_NUM_THREADS=1 python ...     # before numpy loads: BLAS on one core per call
    scratchdl.parallel.set_workers(2)     # or SCRATCHDL_NUM_THREADS=2 in the environment

BLAS should get one thread when the workers are on: each worker then runs its share of a
matrix product on its own core, and OpenBLAS's idle threads (which keep polling for work
for a while after every product) do not compete with the workers for the cores.
"""
import os
from concurrent.futures import ThreadPoolExecutor, wait

from .utils import check_positive_int

# below this many numbers per worker, one thread is faster than handing work over
MIN_PER_WORKER = 32_768

_workers = 1
_pool = None


def set_workers(n):
    """Use ``n`` threads (n >= 1; 1: no threads) for the splits below. Returns the old value."""
    global _workers, _pool
    n = check_positive_int(n, "n", "set_workers")
    old = _workers
    if n != _workers:
        if _pool is not None:
            _pool.shutdown(wait=True)
        _pool = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="scratchdl") if n > 1 else None
        _workers = n
    return old


def get_workers():
    """How many threads the splits use (1: none)."""
    return _workers


def pieces(n, size=None):
    """The (start, stop) ranges that split range(n) among the workers: as many as there are
    workers, fewer when each would get less than MIN_PER_WORKER numbers (``size``: the
    numbers of the whole operation, default n)."""
    size = n if size is None else size
    parts = max(1, min(_workers, n, size // MIN_PER_WORKER))
    bounds = [n * k // parts for k in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def run(fn, n, size=None):
    """fn(start, stop) for each range of pieces(n, size), at the same time on the workers
    (the first range on the calling thread). Returns the results in order; an exception in
    any piece is raised here, after every piece has finished."""
    ranges = pieces(n, size)
    if len(ranges) == 1:
        return [fn(*ranges[0])]
    futures = [_pool.submit(fn, a, b) for a, b in ranges[1:]]
    try:
        first = fn(*ranges[0])
    finally:
        wait(futures)      # no piece may still be writing when this returns or raises
    return [first] + [f.result() for f in futures]


def active(size):
    """True when an operation on ``size`` numbers is worth splitting."""
    return _workers > 1 and size >= 2 * MIN_PER_WORKER


_env = os.environ.get("SCRATCHDL_NUM_THREADS")
if _env:
    try:
        set_workers(int(_env))
    except ValueError as error:
        raise ValueError(f"SCRATCHDL_NUM_THREADS must be a whole number >= 1, got {_env!r}") from error
