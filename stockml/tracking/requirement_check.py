"""Logging a model without MLflow's scan of every installed distribution.

Before it saves a model, MLflow checks the pinned requirements against the environment. The
check reads each pin's version with `importlib.metadata.version`, but first it builds a map of
every installed distribution to its top-level modules (`packages_distributions()`), which it
only consults when a pin names no installed distribution. In an environment with Ray, Optuna
and MLflow's own dependencies that scan reads thousands of RECORD files: the largest single
cost of logging a model (about half of it, see benchmarks/bench_overhead.py). stockml's pins
are distribution names taken from `importlib.metadata` itself, so the fallback is never needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# MLflow's lazily built module -> distributions map (private): None means "not built yet".
_MAP_ATTRIBUTE = "_MODULES_TO_PACKAGES"


@contextmanager
def without_distribution_scan() -> Iterator[None]:
    """Inside: MLflow's requirement check finds the map built (empty) and skips the scan.

    Versions are still checked, by distribution name. The map is reset on exit, so anything
    else in the process that needs it (requirement inference) builds the full one. If MLflow
    renames its cache, this does nothing and the check simply costs what it did before.
    """
    from mlflow.utils import requirements_utils

    if getattr(requirements_utils, _MAP_ATTRIBUTE, False) is not None:
        yield  # already built (full), or MLflow no longer has this cache
        return
    setattr(requirements_utils, _MAP_ATTRIBUTE, {})
    try:
        yield
    finally:
        setattr(requirements_utils, _MAP_ATTRIBUTE, None)
