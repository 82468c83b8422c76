"""Logging a model checks its pins by version without scanning every installed distribution."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from mlflow.utils import requirements_utils

from stockml.tracking.requirement_check import without_distribution_scan


@pytest.fixture
def scans(monkeypatch) -> list[int]:
    """Counts MLflow's full module -> distribution scans (the cost this module avoids)."""
    calls: list[int] = []
    real = requirements_utils.importlib_metadata.packages_distributions

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(requirements_utils.importlib_metadata, "packages_distributions", counted)
    monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
    return calls


def test_pins_are_still_checked_by_version_without_the_scan(scans, caplog) -> None:
    pins = [f"numpy=={np.__version__}", "scikit-learn==0.0.1"]
    with caplog.at_level(logging.WARNING), without_distribution_scan():
        requirements_utils.warn_dependency_requirement_mismatches(pins)
    assert scans == []
    assert "scikit-learn (current:" in caplog.text and "numpy" not in caplog.text
    assert requirements_utils._MODULES_TO_PACKAGES is None  # the full map is built when needed


def test_outside_the_context_mlflow_scans_as_before(scans) -> None:
    requirements_utils.warn_dependency_requirement_mismatches([f"numpy=={np.__version__}"])
    assert scans == [1]
