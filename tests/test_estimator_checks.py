"""stockml's transformers against scikit-learn's own API checks.

`KBestMutualInfo` takes any 2-D X, so it gets every check `parametrize_with_checks` runs.
`FeatureBuilder` does not: its X is a (ticker, date)-indexed OHLCV panel, and its output has
its own columns (the features), so the generic checks, which feed random 2-D arrays and
compare output shapes with input shapes, cannot apply. It is held to the parts of the
contract that do: clone, get_params/set_params round trip, nothing validated or computed in
``__init__``, keyword-only parameters, and a fit that learns nothing from the data.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from stockml.data import synthetic_panel
from stockml.features import FeatureBuilder, KBestMutualInfo
from stockml.messages import InputError
from stockml.validation import ExpandingWindowSplit, PurgedKFold, WalkForwardSplit


@parametrize_with_checks([KBestMutualInfo(k=2)])
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def test_feature_builder_params_round_trip_through_clone() -> None:
    builder = FeatureBuilder(preset="minimal", families={"trend": None}, dtype="float32")
    params = builder.get_params()
    assert {k: params[k] for k in ("preset", "families", "dtype")} == {
        "preset": "minimal", "families": {"trend": None}, "dtype": "float32"
    }  # fmt: skip
    assert set(params) == set(inspect.signature(FeatureBuilder).parameters)
    copy = clone(builder)
    assert copy is not builder and copy.get_params() == params
    changed = copy.set_params(preset="full", dtype="float64")
    assert changed is copy
    assert copy.get_params() == params | {"preset": "full", "dtype": "float64"}
    assert builder.get_params() == params  # the original is untouched


def test_feature_builder_validates_in_fit_not_in_init() -> None:
    bad = FeatureBuilder(preset="no-such-preset", dtype="float16")  # must not raise
    assert bad.get_params()["preset"] == "no-such-preset"
    clone(bad)  # clone re-creates it from its params: also no validation
    panel = synthetic_panel(n_tickers=2, n_days=40, seed=0)
    with pytest.raises(InputError, match="unknown feature preset 'no-such-preset'"):
        bad.fit(panel)
    with pytest.raises(InputError, match="dtype must be one of float32, float64, got 'float16'"):
        FeatureBuilder(dtype="float16").fit(panel)


def test_feature_builder_parameters_are_keyword_only() -> None:
    parameters = inspect.signature(FeatureBuilder).parameters.values()
    assert {p.kind for p in parameters} == {inspect.Parameter.KEYWORD_ONLY}
    with pytest.raises(TypeError):
        FeatureBuilder(None, "minimal")  # type: ignore[misc]


def test_feature_builder_fit_learns_nothing() -> None:
    """Stateless: fitting on one slice then transforming another equals transforming it."""
    panel = synthetic_panel(n_tickers=2, n_days=80, seed=1)
    early = panel[panel.index.get_level_values("date") < panel.index.get_level_values("date")[40]]
    builder = FeatureBuilder(preset="minimal").fit(early)
    assert vars(builder) == vars(FeatureBuilder(preset="minimal"))  # no fitted attribute
    pd.testing.assert_frame_equal(
        builder.transform(panel), FeatureBuilder(preset="minimal").fit_transform(panel)
    )


def test_selector_arguments_after_k_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        KBestMutualInfo(2, 0)  # type: ignore[misc]
    assert KBestMutualInfo(2, random_state=1).get_params()["random_state"] == 1
    X = np.random.default_rng(0).normal(size=(50, 3))
    assert KBestMutualInfo(2).fit(X, X[:, 0]).transform(X).shape == (50, 2)


@pytest.mark.parametrize("splitter", [WalkForwardSplit, ExpandingWindowSplit, PurgedKFold])
def test_splitters_take_n_splits_by_position_and_the_rest_by_keyword(splitter: type) -> None:
    """As scikit-learn's own splitters (``KFold(n_splits=5, *, shuffle=False, ...)``)."""
    made = splitter(3, horizon=2)
    assert made.get_n_splits() == 3
    assert clone(made).get_params() == made.get_params()
    with pytest.raises(TypeError):
        splitter(3, 2)
