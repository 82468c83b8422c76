"""A run keeps freed NumPy temporaries for reuse instead of faulting in fresh pages."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Allocates four 1 MiB arrays and frees them together, a hundred times, and prints the page
# faults that cost: each array above glibc's default 128 KiB threshold is mapped afresh, and
# the heap is trimmed as soon as more than that lies free at its top.
_FAULTS = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from stockml.memory import reuse_freed_memory
    if sys.argv[1] == "reuse":
        reuse_freed_memory()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(100):
        arrays = [np.ones(2**17) for _ in range(4)]
        del arrays
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _page_faults(mode: str) -> int:
    # a process of its own: the allocator setting is process-wide
    done = subprocess.run(
        [sys.executable, "-c", _FAULTS, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator settings")
def test_reusing_freed_memory_spares_the_page_faults_of_fresh_temporaries() -> None:
    """400 MiB of temporaries: ~100,000 faults with glibc's defaults, one round's with reuse."""
    default, reused = _page_faults("default"), _page_faults("reuse")
    assert default > 50_000
    assert reused < default / 20
