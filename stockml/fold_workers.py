"""How many CV folds a run may fit at once: by cores and by memory.

A fold's fit and scoring spend most of their time in NumPy, BLAS and pandas code that releases
the GIL, so two folds in two threads use two cores (each with one BLAS thread, so that they do
not fight over the cores). The price is memory: each fold in flight holds the matrices it
makes. After the CV comes the final fit, which makes one new matrix of every development row;
folds run together only while the largest of them, together, make no more than that, so the
CV never raises the run's peak above what the final fit needs anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from stockml.threads import job_cores


def is_one_run(positions: np.ndarray) -> bool:
    """Whether the positions are consecutive ascending rows, which `take_rows` slices without
    a copy."""
    return bool(len(positions)) and bool(np.all(np.diff(positions) == 1))


def fold_bytes(row_bytes: int, train: np.ndarray, test: np.ndarray) -> int:
    """The matrices one fold makes, at most: the steps' new matrix of its rows, and a copy of
    the rows themselves when they are not one run."""
    return row_bytes * sum(len(rows) * (1 if is_one_run(rows) else 2) for rows in (train, test))


def threads_of_own(pipeline: Pipeline) -> bool:
    """Whether a step runs threads of its own (``n_jobs`` other than 1: LightGBM, XGBoost):
    folds in parallel would oversubscribe the cores."""
    return any(
        getattr(step, "n_jobs", 1) != 1 for _, step in pipeline.steps if step != "passthrough"
    )


def fold_workers(
    pipeline: Pipeline, X: pd.DataFrame, splits: Iterable[tuple[np.ndarray, np.ndarray]]
) -> int:
    """Folds to fit at once: at most the job's thread budget and the number of folds, and 1 when
    a step has threads of its own or the largest folds together would make more than the final
    fit's one matrix of all ``len(X)`` development rows. ``splits`` is read once, one fold at
    a time (a purged k-fold's row indices are ~0.15 GiB at 5M rows)."""
    cores = job_cores()
    if threads_of_own(pipeline):
        return 1
    row_bytes = int(sum(dtype.itemsize for dtype in X.dtypes))
    largest_first = sorted((fold_bytes(row_bytes, *split) for split in splits), reverse=True)
    workers = min(cores, len(largest_first))
    while workers > 1 and sum(largest_first[:workers]) > row_bytes * len(X):
        workers -= 1
    return max(workers, 1)


def fold_threads(workers: int) -> contextlib.AbstractContextManager[object]:
    """When ``workers`` folds run at once: one BLAS and one OpenMP thread each (threadpoolctl's
    limits are process-wide, so they are set once around all the fold threads)."""
    return threadpool_limits(limits=1) if workers > 1 else contextlib.nullcontext()
