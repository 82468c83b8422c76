"""How a run's process treats freed heap memory: kept for reuse while it computes, handed
back to the system before its largest allocation (glibc only; elsewhere these do nothing)."""

from __future__ import annotations

import contextlib
import ctypes

# glibc's mallopt parameters (malloc.h) and the values a run sets them to
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# glibc's own ceiling for its adaptive threshold: larger arrays (whole feature or design
# matrices) are still mapped afresh and unmapped when freed, straight back to the system
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 256 * 2**20


def reuse_freed_memory() -> None:
    """Keep freed blocks of up to `MMAP_THRESHOLD` in the heap for the next allocation.

    With glibc's defaults a NumPy temporary above 128 KiB is mapped afresh and unmapped when
    freed, and the heap is trimmed as soon as 128 KiB lie free at its top, so the feature
    kernels' block-sized temporaries (0.5-3 MiB, thousands per run) each cost fresh page
    faults (a 5M-row run, three of each: 3.4-3.9 s of system time with this, 3.8-5.5 s
    without; 14.0 s wall on average against 14.7 s). The heap kept this way is bounded by
    what one block's computation holds at once (per thread), and `release_freed_memory`
    still hands it back before the final fit.
    """
    with contextlib.suppress(AttributeError, OSError):
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)


def release_freed_memory() -> None:
    """Return the heap memory this process has freed to the system (glibc's `malloc_trim`).

    glibc keeps freed small and mid-sized blocks (below its mmap threshold, up to 32 MiB) for
    reuse, in the heap of whichever thread freed them: after the CV, the folds' index arrays
    and the parallel folds' per-thread arenas held ~0.1 GiB that stayed resident through
    the final fit, whose own matrix is mapped afresh and cannot reuse them. Elsewhere (no
    glibc) this does nothing.
    """
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).malloc_trim(0)
