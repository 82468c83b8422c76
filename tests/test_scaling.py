"""stockml's block-fitted StandardScaler against scikit-learn's: values, API checks, memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from sklearn.base import clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from stockml.config import compose_config
from stockml.pipeline import build_pipeline, build_step
from stockml.scaling import StandardScaler as BlockStandardScaler

FITTED = ("mean_", "var_", "scale_", "n_samples_seen_")


@parametrize_with_checks([BlockStandardScaler(), BlockStandardScaler(batch_size=3)])
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


def _matrix(dtype: type, *, nans: bool = False) -> np.ndarray:
    """1,000 rows of columns on very different scales, two of them constant."""
    rng = np.random.default_rng(7)
    X = rng.normal(loc=[0.0, 5e3, -0.3, 1e-4], scale=[1.0, 40.0, 1e-3, 1e-6], size=(1000, 4))
    X = np.column_stack([X, np.full(1000, 0.1), np.full(1000, 1e3 + 0.1)]).astype(dtype)
    if nans:
        X[rng.random(X.shape) < 0.05] = np.nan
    return X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("nans", [False, True])
@pytest.mark.parametrize("batch_size", [1, 64, 999])
def test_same_statistics_and_output_as_sklearn(dtype: type, nans: bool, batch_size: int) -> None:
    """With NaNs, blocks of one row hold columns that are all NaN: the refit case."""
    X = _matrix(dtype, nans=nans)
    ours = BlockStandardScaler(batch_size=batch_size).fit(X)
    theirs = StandardScaler().fit(X)
    for name in FITTED:
        # a constant column's variance is rounding noise (~1e-22 here), zero or not
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-10,
                                   atol=1e-20)  # fmt: skip
    np.testing.assert_array_equal(ours.scale_[4:], [1.0, 1.0])  # constant columns: unscaled
    out, expected = ours.transform(X), theirs.transform(X)
    assert out.dtype == expected.dtype == dtype
    # in standard units; a constant column at 1e3 carries the float64 sum's rounding, ~1e-11
    tolerance = 1e-5 if dtype is np.float32 else 1e-10
    np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(np.nan_to_num(out[:, 4:]), 0.0, atol=1e-9)  # centred, not blown up


def test_weighted_fit_is_sklearns() -> None:
    X = _matrix(np.float64)
    weights = np.random.default_rng(3).uniform(0.5, 2.0, len(X))
    weights[:300] = 0.0  # a block of zero weights: partial_fit alone would refuse it
    ours = BlockStandardScaler(batch_size=300).fit(X, sample_weight=weights)
    theirs = StandardScaler().fit(X, sample_weight=weights)
    for name in FITTED:
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-10)


def test_frame_blocks_keep_the_feature_names() -> None:
    X = pd.DataFrame(_matrix(np.float32), columns=list("abcdef"))
    scaler = BlockStandardScaler(batch_size=256).fit(X)
    assert list(scaler.feature_names_in_) == list("abcdef")
    np.testing.assert_allclose(scaler.mean_, StandardScaler().fit(X).mean_, rtol=1e-10)


def test_refit_forgets_the_previous_data() -> None:
    X = _matrix(np.float64)
    scaler = BlockStandardScaler(batch_size=100).fit(X * 3 + 1).fit(X)
    np.testing.assert_allclose(scaler.mean_, X.mean(axis=0), rtol=1e-10)
    assert scaler.n_samples_seen_ == len(X)


def test_params_round_trip_through_clone() -> None:
    scaler = BlockStandardScaler(with_mean=False, batch_size=10)
    copy = clone(scaler)
    assert copy.get_params() == {"copy": True, "with_mean": False, "with_std": True,
                                 "batch_size": 10}  # fmt: skip


@pytest.mark.parametrize("batch_size", [0, 2.5, None])
def test_bad_batch_size_is_refused(batch_size: object) -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got "):
        BlockStandardScaler(batch_size=batch_size).fit(_matrix(np.float64))  # type: ignore[arg-type]


def _peak_bytes(fit: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fit()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fit_holds_one_block_in_float64_not_the_matrix() -> None:
    X = np.random.default_rng(0).standard_normal((200_000, 20), dtype=np.float32)  # 16 MB
    assert _peak_bytes(lambda: StandardScaler().fit(X)) > 2 * X.nbytes  # the whole, in float64
    # one 10,000-row float64 block is a twentieth of the matrix's own bytes
    assert _peak_bytes(lambda: BlockStandardScaler(batch_size=10_000).fit(X)) < X.nbytes / 4


def test_scaler_standard_is_the_block_scaler() -> None:
    pipeline = build_pipeline(compose_config(["scaler=standard"]))
    assert type(pipeline.named_steps["scaler"]) is BlockStandardScaler


def test_a_snapshot_naming_sklearns_scaler_still_builds_it() -> None:
    """Configs recorded before the block scaler reproduce with exactly the class they name."""
    node = OmegaConf.create({"_target_": "sklearn.preprocessing.StandardScaler"})
    assert type(build_step(node)) is StandardScaler


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F", "frame"])
def test_transform_is_sklearns_bit_for_bit(dtype: type, layout: str) -> None:
    """Centred into a new array rather than copied then centred: the same float operations."""
    X = _matrix(dtype, nans=True)
    data = (
        pd.DataFrame(X, columns=list("abcdef")) if layout == "frame" else np.array(X, order=layout)
    )
    before = np.array(data, copy=True)
    ours = BlockStandardScaler(batch_size=100).fit(data)
    out = ours.transform(data)
    expected = StandardScaler.transform(ours, data)  # sklearn's transform, same statistics
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == expected.dtype and out.flags.writeable
    assert not np.shares_memory(out, np.asarray(data))
    np.testing.assert_array_equal(np.asarray(data), before)  # the input is not written


def test_transform_without_copy_is_sklearns_in_place() -> None:
    X = _matrix(np.float64)
    scaler = BlockStandardScaler().fit(X)
    expected = StandardScaler.transform(scaler, X)
    assert scaler.transform(X, copy=False) is X
    np.testing.assert_array_equal(X, expected)


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinities_are_refused_as_sklearn_does(bad: float) -> None:
    X = _matrix(np.float32)
    X[500, 2] = bad
    with pytest.raises(ValueError, match="Input X contains infinity"):
        BlockStandardScaler(batch_size=64).fit(X)
    fitted = BlockStandardScaler().fit(_matrix(np.float32))
    with pytest.raises(ValueError, match="Input X contains infinity"):
        fitted.transform(X)


def test_an_all_nan_column_is_sklearns() -> None:
    X = _matrix(np.float64)
    X[:, 1] = np.nan
    ours = BlockStandardScaler(batch_size=64).fit(X)
    theirs = StandardScaler().fit(X)
    for name in FITTED:
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))


@pytest.mark.parametrize(("with_mean", "with_std"), [(False, True), (True, False)])
def test_without_mean_or_std_as_sklearn(with_mean: bool, with_std: bool) -> None:
    X = _matrix(np.float32, nans=True)
    ours = BlockStandardScaler(with_mean=with_mean, with_std=with_std, batch_size=64).fit(X)
    theirs = StandardScaler(with_mean=with_mean, with_std=with_std).fit(X)
    for name in FITTED:
        expected = getattr(theirs, name)
        if expected is None:
            assert getattr(ours, name) is None
        else:
            np.testing.assert_allclose(getattr(ours, name), expected, rtol=1e-10, atol=1e-20)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-5, atol=1e-5)
