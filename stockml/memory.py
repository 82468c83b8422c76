"""Handing freed memory back to the system before a run's largest allocation."""

from __future__ import annotations

import contextlib
import ctypes


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
