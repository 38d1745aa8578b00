"""What the speed benchmarks share: setting the thread count of the processes they start,
and reporting repeated measurements as 'median (min-max)'."""
import os
import statistics

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(threads):
    """For the processes started from now on (before they load their BLAS and OpenMP)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def spread(values):
    """'median (min-max)' of the values, e.g. '4,120 (3,980-4,200)'."""
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"
