"""`fit_clone`: a final step may centre the steps' own matrix in place, never the caller's X.

Every combination of scaler, selector and copy_X model that conf/ offers is fitted both ways
(`fit_clone` and sklearn's plain `clone(...).fit`) on a float32 frame laid out as
`make_design_matrix` makes it and on a writeable float64 array: same coefficients bit for bit,
same params, and the input exactly as it was.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

import stockml.models.ridge as ridge_module
from stockml.config import compose_config
from stockml.pipeline import build_pipeline, fit_clone, made_by_the_steps

SCALERS = ["standard", "minmax", "robust", "none"]
SELECTIONS = ["none", "kbest_f"]
MODELS = ["ridge", "lasso", "linear"]


def _frame(n_rows: int = 600, n_features: int = 20) -> tuple[pd.DataFrame, pd.Series]:
    """A float32 frame over a (feature, row) array, like the design matrix (one block)."""
    rng = np.random.default_rng(5)
    values = rng.standard_normal((n_features, n_rows), dtype=np.float32) * 3 + 1
    X = pd.DataFrame(values.T, columns=[f"f{i}" for i in range(n_features)], copy=False)
    y = pd.Series(0.01 * values[0] - 0.02 * values[3] + 0.05 * rng.standard_normal(n_rows))
    return X, y


def _inputs() -> list[tuple[object, pd.Series]]:
    X, y = _frame()
    writeable = np.array(X.to_numpy(), dtype=np.float64)  # owns its memory: the risky case
    return [(X, y), (writeable, y)]


def _fits_record_copy_x(monkeypatch: pytest.MonkeyPatch, model: type) -> list[bool]:
    """copy_X as each ``model.fit`` from now on sees it (fit_clone fits a clone: patch the
    class)."""
    seen: list[bool] = []
    fit = model.fit

    def recording_fit(self, X, y, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(self.copy_X)
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(model, "fit", recording_fit)
    return seen


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("selection", SELECTIONS)
@pytest.mark.parametrize("scaler", SCALERS)
def test_same_fit_as_sklearn_and_the_input_untouched(
    scaler: str, selection: str, model: str
) -> None:
    template = build_pipeline(
        compose_config([f"scaler={scaler}", f"selection={selection}", f"model={model}"])
    )
    for X, y in _inputs():
        before = np.array(X, copy=True)
        ours = fit_clone(template, X, y)
        assert np.array_equal(np.asarray(X), before)  # the caller's matrix, bit for bit
        theirs = clone(template).fit(X, y)
        np.testing.assert_array_equal(ours[-1].coef_, theirs[-1].coef_)
        np.testing.assert_array_equal(ours[-1].intercept_, theirs[-1].intercept_)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.get_params(deep=True).keys() == theirs.get_params(deep=True).keys()
        assert ours[-1].get_params() == theirs[-1].get_params()  # copy_X back to True
        assert np.array_equal(np.asarray(X), before)


@pytest.mark.parametrize(
    ("scaler", "in_place"), [("standard", True), ("minmax", True), ("none", False)]
)
def test_only_the_steps_own_matrix_is_centred_in_place(
    scaler: str, in_place: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = build_pipeline(compose_config([f"scaler={scaler}", "model=linear"]))
    seen = _fits_record_copy_x(monkeypatch, LinearRegression)
    for X, y in _inputs():
        fitted = fit_clone(template, X, y)
        assert fitted[-1].copy_X is True
    assert seen == [not in_place] * 2


def test_a_step_returning_its_input_or_a_view_is_not_overwritten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = _inputs()[1]
    before = X.copy()
    seen = _fits_record_copy_x(monkeypatch, Ridge)  # sklearn's: it centres X in place
    for step in (FunctionTransformer(), FunctionTransformer(lambda a: a[:, :])):
        fit_clone(make_pipeline(step, Ridge()), X, y)
        np.testing.assert_array_equal(X, before)
    assert seen == [True, True]


def test_made_by_the_steps() -> None:
    X, _ = _frame()
    values = X.to_numpy()
    fresh = values * 2
    assert made_by_the_steps(fresh, X)
    assert not made_by_the_steps(values, X)  # a view of the frame's block
    assert not made_by_the_steps(fresh, fresh)  # passthrough: X itself
    assert not made_by_the_steps(fresh[:10], X)  # a view of an array
    assert not made_by_the_steps(X, values)  # a frame: whose arrays, unknown
    fresh.flags.writeable = False
    assert not made_by_the_steps(fresh, X)


def test_a_model_without_copy_x_is_fitted_as_before() -> None:
    X, y = _frame()
    template = build_pipeline(compose_config(["model=random_forest", "model.n_estimators=5"]))
    ours = fit_clone(template, X, y)
    assert isinstance(ours, Pipeline) and ours is not template
    np.testing.assert_array_equal(ours.predict(X), clone(template).fit(X, y).predict(X))


def _fitted_state(step: object) -> dict[str, object]:
    return {key: value for key, value in vars(step).items() if key.endswith("_")}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["frame", "C", "F"])
def test_a_scaled_ridge_is_fitted_without_its_scaled_matrix_bit_for_bit(
    dtype: type, layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """stockml's StandardScaler -> Ridge: same fitted steps as sklearn's Pipeline.fit, which
    makes the scaled matrix, and a peak far below that matrix. Small blocks, so the fit sums
    many of them and a partial last one (float64 X also takes the first block's mean)."""
    monkeypatch.setattr(ridge_module, "BLOCK_ROWS", 64)
    frame, y = _frame(n_rows=50_000)  # large enough that its size dwarfs the bookkeeping
    values = frame.to_numpy().astype(dtype, order="K" if layout == "frame" else layout)
    X = pd.DataFrame(values, columns=frame.columns, copy=False) if layout == "frame" else values
    template = build_pipeline(compose_config(["scaler=standard", "+scaler.batch_size=64"]))
    theirs = clone(template).fit(X, y)  # first: it imports what reading a frame needs
    tracemalloc.start()
    ours = fit_clone(template, X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < values.nbytes / 4
    assert ours.named_steps["selector"] == theirs.named_steps["selector"] == "passthrough"
    for step in ("scaler", "model"):
        state = _fitted_state(ours.named_steps[step])
        expected = _fitted_state(theirs.named_steps[step])
        assert state.keys() == expected.keys()
        for key, value in expected.items():
            np.testing.assert_array_equal(state[key], value, err_msg=key, strict=True)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X), strict=True)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the scaler's inf - inf
@pytest.mark.parametrize(("bad", "message"), [(np.nan, "contains NaN"), (np.inf, "infinity")])
def test_a_scaled_ridge_refuses_what_ridge_refuses(bad: float, message: str) -> None:
    X, y = _frame()
    X.iloc[7, 3] = bad
    template = build_pipeline(compose_config(["scaler=standard", "model=ridge"]))
    with pytest.raises(ValueError, match=message):
        fit_clone(template, X, y)
