"""The Examples sections of the public Python API run as written (numpydoc + doctest).

Run here rather than through `pytest --doctest-modules`, so that the README's plain `pytest`
collects exactly these modules and a module whose examples vanished fails instead of
passing with nothing run.
"""

from __future__ import annotations

import doctest
import importlib

import pytest

DOCUMENTED = {
    "stockml.features.builder": {"FeatureBuilder"},
    "stockml.features.selection": {"KBestMutualInfo", "mutual_info_scores"},
    "stockml.validation.splitters": {"ExpandingWindowSplit", "WalkForwardSplit", "PurgedKFold"},
    "stockml.validation.holdout": {"split_holdout"},
    "stockml.validation.metrics": {"regression_metrics"},
}


@pytest.mark.parametrize("module_name", sorted(DOCUMENTED))
def test_examples_run(module_name: str) -> None:
    module = importlib.import_module(module_name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = finder.find(module)
    with_examples = {test.name.rsplit(".", 1)[-1] for test in tests if test.examples}
    assert DOCUMENTED[module_name] <= with_examples, "an Examples section is missing"
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) in {module_name} failed (see output)"


@pytest.mark.parametrize("module_name", sorted(DOCUMENTED))
def test_numpydoc_sections(module_name: str) -> None:
    """Each documented name says what it takes and shows how it is used."""
    module = importlib.import_module(module_name)
    for name in DOCUMENTED[module_name]:
        doc = getattr(module, name).__doc__
        for section in ("Parameters\n    ----------", "Examples\n    --------"):
            assert section in doc, f"{module_name}.{name} has no {section.split()[0]} section"
