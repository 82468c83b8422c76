"""`stockml.models.Ridge`: sklearn's Ridge solved in float64 over row blocks.

On float64 data it must give sklearn's coefficients (to float64 rounding, ~1e-10 relative
here); on float32 data ill-conditioned enough that sklearn's float32 Gram matrix is not
positive definite (sklearn then takes an SVD of X) it must give the exact ridge solution of
that float32 data, which sklearn's float32 fit misses by orders of magnitude. Whatever it
does not cover is sklearn's own fit, bit for bit.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn import linear_model
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import stockml.models.ridge as ridge_module
from stockml.config import compose_config
from stockml.models import Ridge
from stockml.pipeline import build_pipeline

RTOL = 1e-10  # float64 sums in another order, through a well-conditioned 6x6 solve


@pytest.fixture(autouse=True)
def _small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 64 rows, so every test sums many blocks and a partial last one."""
    monkeypatch.setattr(ridge_module, "BLOCK_ROWS", 64)


def _data(n_rows: int = 1000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Columns of different scales and large means (centring matters), one of them trending
    (its first block's mean is far from its mean), and two targets."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_rows, 6)) * [1, 2, 5, 0.1, 3, 1] + [0, 10, -50, 3, 100, 1]
    X[:, 5] += np.linspace(0.0, 1000.0, n_rows)
    y = X @ rng.standard_normal((6, 2)) + rng.standard_normal((n_rows, 2))
    return X, y


def _ill_conditioned_float32(near: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Float32 columns two of which repeat others up to ``near`` noise, one with a mean of
    10,000 (not shifted, float32 X's products are summed raw: this checks nothing cancels),
    and a target from the first three."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((20_000, 4))
    near_copies = base[:, :2] + near * rng.standard_normal((20_000, 2))
    X = np.c_[base, near_copies, 1e4 + rng.standard_normal(20_000)].astype(np.float32)
    y = base @ [1.0, -0.5, 0.2, 0.0] + 0.1 * rng.standard_normal(20_000)
    return X, y


def _assert_same_fit(ours: Ridge, theirs: linear_model.Ridge, rtol: float) -> None:
    assert ours.coef_.shape == theirs.coef_.shape and ours.coef_.dtype == theirs.coef_.dtype
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=rtol, atol=0)
    assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
    assert type(ours.intercept_) is type(theirs.intercept_)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=rtol, atol=0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("targets", ["1-D", "one column", "two columns"])
@pytest.mark.parametrize("alpha", [0.5, 1e4, [0.5, 30.0]])
def test_float64_fits_are_sklearns(fit_intercept: bool, targets: str, alpha: object) -> None:
    X, Y = _data()
    y = {"1-D": Y[:, 0], "one column": Y[:, :1], "two columns": Y}[targets]
    if isinstance(alpha, list) and targets != "two columns":
        pytest.skip("one penalty per target needs two targets")
    ours = Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)  # type: ignore[arg-type]
    theirs = linear_model.Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    _assert_same_fit(ours, theirs, RTOL)
    assert ours.solver_ == theirs.solver_ == "cholesky" and ours.n_iter_ is None
    expected = theirs.predict(X)
    np.testing.assert_allclose(ours.predict(X), expected, atol=RTOL * np.abs(expected).max())


@pytest.mark.parametrize(
    ("near", "seed", "sklearn_solver"),
    [(3e-4, 2, "svd"), (1e-3, 1, "cholesky")],  # its float32 Gram: not positive definite, or
)  # positive definite but ill-conditioned (LinAlgWarning, as on 5M-row runs)
def test_ill_conditioned_float32_gets_the_exact_solution_of_its_values(
    near: float, seed: int, sklearn_solver: str
) -> None:
    X, y = _ill_conditioned_float32(near, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sklearn_float32 = linear_model.Ridge(alpha=1e-6).fit(X, y)
    assert sklearn_float32.solver_ == sklearn_solver  # the case this parameter is about
    exact = linear_model.Ridge(alpha=1e-6).fit(X.astype(np.float64), y)  # of the same values
    ours = Ridge(alpha=1e-6).fit(X, y)
    assert ours.coef_.dtype == ours.intercept_.dtype == np.float32 and ours.solver_ == "cholesky"
    scale = np.abs(exact.coef_).max()
    # the exact coefficients rounded to float32 (~5e-8 of the largest apart); sklearn's are
    # 1e-4 (its SVD fallback) to 1.0 (its float32 Cholesky) of the largest away
    assert np.abs(ours.coef_ - exact.coef_).max() < 1e-6 * scale
    assert np.abs(sklearn_float32.coef_ - exact.coef_).max() > 5e-5 * scale
    truth = exact.predict(X.astype(np.float64))
    assert np.abs(ours.predict(X) - truth).max() < 1e-5 * np.std(truth)


def test_a_singular_system_gets_the_minimum_norm_solution() -> None:
    """alpha=0 with a constant column: not positive definite even in float64, so the small
    system is solved by least squares, which gives the constant column no weight. (sklearn's
    SVD of X keeps the centred column's rounding noise, singular value ~1e-14 above its
    1e-15 cut-off, and gives it a coefficient of ~1e15.)"""
    X, Y = _data()
    X[:, 2] = 7.0
    ours = Ridge(alpha=0.0).fit(X, Y[:, 0])
    assert ours.solver_ == "lstsq" and abs(ours.coef_[2]) < 1e-12
    centred = np.delete(X, 2, axis=1)
    centred = centred - centred.mean(axis=0)
    others = np.linalg.lstsq(centred, Y[:, 0] - Y[:, 0].mean(), rcond=None)[0]
    np.testing.assert_allclose(np.delete(ours.coef_, 2), others, rtol=1e-9)
    np.testing.assert_allclose(
        ours.predict(X), linear_model.LinearRegression().fit(X, Y[:, 0]).predict(X), rtol=1e-9
    )


def _scale(rows: np.ndarray, order: str = "K") -> np.ndarray:
    return np.multiply(rows - rows.dtype.type(3), rows.dtype.type(0.5), order=order)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("targets", ["1-D", "two columns"])
def test_fit_scaled_is_fit_on_the_scaled_matrix_bit_for_bit(
    dtype: type, layout: str, fit_intercept: bool, targets: str
) -> None:
    X, Y = _data()
    X = np.array(X, dtype=dtype, order=layout)  # type: ignore[call-overload]
    y = Y[:, 0] if targets == "1-D" else Y
    ours = Ridge(fit_intercept=fit_intercept)
    assert ours.fit_scaled(X, y, _scale)
    theirs = Ridge(fit_intercept=fit_intercept).fit(_scale(X), y)
    for attribute in ("coef_", "intercept_", "solver_", "n_iter_", "n_features_in_"):
        np.testing.assert_array_equal(
            getattr(ours, attribute), getattr(theirs, attribute), strict=True
        )
    assert not hasattr(ours, "feature_names_in_")


@pytest.mark.parametrize(
    ("params", "change"),
    [
        ({}, lambda X, y: (np.where(np.arange(len(X))[:, None] == 5, np.nan, X), y)),  # NaN
        ({}, lambda X, y: (X, y.astype(object))),  # y not float
        ({}, lambda X, y: (X, y[:-1])),  # y of another length
        ({"solver": "svd"}, lambda X, y: (X, y)),  # not this class's fit
    ],
)
def test_fit_scaled_leaves_what_it_does_not_cover_to_fit(params: dict, change: object) -> None:
    X, Y = _data()
    X, y = change(X, Y[:, 0])  # type: ignore[operator]
    ridge = Ridge(**params)
    assert not ridge.fit_scaled(X, y, _scale)
    assert not hasattr(ridge, "coef_")


def test_x_is_never_written_nor_copied() -> None:
    """Read-only X is fine, and the fit's temporaries are blocks: sklearn's fit copies X."""
    X, Y = _data(n_rows=20_000)
    X32 = np.asfortranarray(X, dtype=np.float32)  # laid out as the design matrix is
    before = X32.copy()
    X32.flags.writeable = False

    def fit_peak(model: linear_model.Ridge) -> int:
        tracemalloc.start()
        model.fit(X32, Y[:, 0])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    assert fit_peak(Ridge()) < X32.nbytes / 4
    assert fit_peak(linear_model.Ridge()) > X32.nbytes  # its writeable copy of X
    np.testing.assert_array_equal(X32, before)


@pytest.mark.parametrize(
    ("params", "fit_args"),
    [
        ({"solver": "svd"}, {}),
        ({"solver": "lsqr"}, {}),
        ({"positive": True}, {}),
        ({}, {"sample_weight": np.linspace(0.5, 2.0, 1000)}),
        ({}, {"sparse": True}),
    ],
)
def test_what_it_does_not_cover_is_sklearns_own_fit(params: dict, fit_args: dict) -> None:
    X, Y = _data()
    inputs = sparse.csr_matrix(X) if fit_args.pop("sparse", False) else X
    ours = Ridge(alpha=2.0, **params).fit(inputs, Y[:, 0], **fit_args)
    theirs = linear_model.Ridge(alpha=2.0, **params).fit(inputs, Y[:, 0], **fit_args)
    np.testing.assert_array_equal(ours.coef_, theirs.coef_)
    np.testing.assert_array_equal(ours.intercept_, theirs.intercept_)
    assert ours.solver_ == theirs.solver_


def test_penalties_must_match_the_targets() -> None:
    X, Y = _data()
    with pytest.raises(ValueError, match="Number of targets and number of penalties"):
        Ridge(alpha=[1.0, 2.0, 3.0]).fit(X, Y)
    with pytest.raises(ValueError, match="alpha"):
        Ridge(alpha=-1.0).fit(X, Y)  # sklearn's parameter validation


def test_it_is_sklearns_ridge_to_configs_and_pipelines() -> None:
    """Same class name (run names, leaderboards), same params (search spaces, MLflow)."""
    model = build_pipeline(compose_config(["model=ridge"]))[-1]
    assert type(model) is Ridge and isinstance(model, linear_model.Ridge)
    assert type(model).__name__ == "Ridge"
    assert model.get_params() == linear_model.Ridge(alpha=10.0).get_params()
    assert clone(model).get_params() == model.get_params()


@parametrize_with_checks(
    [Ridge()],
    expected_failed_checks=lambda _: {"check_non_transformer_estimators_n_iter": "as sklearn's"},
)
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
