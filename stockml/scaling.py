"""A StandardScaler whose fit reads the training matrix in row blocks, in plain NumPy.

scikit-learn's `StandardScaler.fit` accumulates the mean and variance in float64, so on a
float32 matrix it builds float64 temporaries of the whole matrix: more than twice the
matrix's own size on top of it, the peak of a 5M-row run. Here the same statistics are
accumulated over row blocks, so those temporaries are one block; and they are computed
directly (one pass for the sums, one for the squared deviations) instead of through
`partial_fit`, whose per-block validation, NaN masks and pairwise updates cost about three
times as much CPU. The statistics equal sklearn's to float64 rounding (see
`column_statistics`). Transform is sklearn's, without its extra copy.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn import preprocessing
from sklearn.preprocessing._data import _handle_zeros_in_scale, _is_constant_feature
from sklearn.utils.validation import check_is_fitted, validate_data

# 2**14 rows: a float64 block of 65 features is ~8 MiB, which stays in cache between the
# subtraction and the sum of squares (2**16 rows and more take twice the CPU), and is large
# enough that the per-block Python overhead is negligible.
DEFAULT_BATCH_SIZE = 16_384
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def dense_float_values(X: Any) -> np.ndarray | None:
    """``X`` as a 2-D float32/float64 array (a view of a one-dtype frame's values), or None
    for anything else (sparse, integer, mixed dtypes, 1-D): those take sklearn's own path."""
    if isinstance(X, pd.DataFrame):
        if X.shape[1] == 0 or len(set(X.dtypes)) != 1:
            return None
        X = X.to_numpy()
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype not in FLOAT_DTYPES:
        return None
    return X


def column_statistics(
    values: np.ndarray, batch_size: int, *, with_var: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(non-NaN count, mean, variance or None) of each column, NaNs ignored as sklearn does,
    in float64, reading ``batch_size`` rows at a time.

    Two passes: the sums, then the squared deviations from the mean. sklearn's whole-matrix
    fit also subtracts Chan, Golub and LeVeque's correction, sum(x - mean)^2 / n, which
    makes up for an inexact mean; a float64 mean of float32 or float64 data leaves it below
    the variance's own rounding (constant columns, where both are rounding noise, are found
    constant either way), and computing it would cost a third more.
    A column with an infinity or no value at all comes out non-finite; the caller refers
    those to sklearn, which raises or defines them.
    """
    blocks = [values[start : start + batch_size] for start in range(0, len(values), batch_size)]
    count = np.full(values.shape[1], float(len(values)))
    total = np.zeros(values.shape[1])
    with_nans = []
    for block in blocks:
        sums = block.sum(axis=0, dtype=np.float64)
        has_nan = bool(np.isnan(sums).any())  # cheap test first: NaN-free blocks skip the mask
        if has_nan:
            count -= np.isnan(block).sum(axis=0)
            sums = np.nansum(block, axis=0, dtype=np.float64)
        total += sums
        with_nans.append(has_nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / count
    if not with_var:
        return count, mean, None
    squares = np.zeros_like(mean)
    for block, has_nan in zip(blocks, with_nans, strict=True):
        deviation = np.subtract(block, mean, dtype=np.float64)
        if has_nan:
            deviation[np.isnan(deviation)] = 0.0
        squares += np.einsum("ij,ij->j", deviation, deviation)
    with np.errstate(divide="ignore", invalid="ignore"):
        return count, mean, squares / count


class StandardScaler(preprocessing.StandardScaler):
    """scikit-learn's `StandardScaler` fitted in blocks of ``batch_size`` rows (same
    parameters otherwise). It keeps the name: pipelines and their MLflow models are named by
    their steps' classes (`standardscaler-ridge`), and a drop-in should not rename them.

    Only a dense float matrix (array, or frame of one float dtype) without sample weights is
    fitted here, and only if every column has a finite mean and variance; anything else goes
    to sklearn's `fit` unchanged, so weighted fits, sparse matrices, infinities (refused),
    all-NaN columns and odd inputs behave exactly as there.
    """

    def __init__(
        self,
        *,
        copy: bool = True,
        with_mean: bool = True,
        with_std: bool = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        super().__init__(copy=copy, with_mean=with_mean, with_std=with_std)
        self.batch_size = batch_size

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Compute the mean and standard deviation from row blocks of ``X``."""
        if not isinstance(self.batch_size, Integral) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        values = dense_float_values(X) if sample_weight is None and not sparse.issparse(X) else None
        if values is None or 0 in values.shape or not (self.with_mean or self.with_std):
            return super().fit(X, y, sample_weight)
        self._validate_params()
        count, mean, var = column_statistics(values, self.batch_size, with_var=self.with_std)
        if not (np.isfinite(mean).all() and (var is None or np.isfinite(var).all())):
            return super().fit(X, y, sample_weight)
        validate_data(self, X, skip_check_array=True, reset=True)  # feature names and count
        # sklearn's count is float64, one number when no column misses a value
        self.n_samples_seen_ = count[0] if count.min() == count.max() else count
        self.mean_, self.var_ = mean, var
        self.scale_ = None
        if var is not None:
            constant = _is_constant_feature(var, mean, self.n_samples_seen_)
            self.scale_ = _handle_zeros_in_scale(np.sqrt(var), copy=False, constant_mask=constant)
        return self

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """sklearn's transform; a dense float matrix is centred into a new array directly,
        not copied first and then centred in place (one pass over the matrix fewer, and the
        same float operations, so the same bits)."""
        values = self.rows_to_scale(X, copy)
        if values is None:
            return super().transform(X, copy=copy)
        return self.scale_rows(values)

    def rows_to_scale(self, X: Any, copy: bool | None = None) -> np.ndarray | None:
        """The checked matrix whose rows `scale_rows` makes ``transform(X, copy)`` of, or None
        when that transform is sklearn's own (not a dense float matrix, ``copy`` or
        ``with_mean`` off)."""
        values = dense_float_values(X)
        if values is None or not (copy if copy is not None else self.copy) or not self.with_mean:
            return None
        check_is_fitted(self)
        # checks the feature names and count, and refuses infinities, as sklearn's does
        return validate_data(
            self, X, reset=False, dtype=None, ensure_all_finite="allow-nan", copy=False
        )

    def scale_rows(self, values: np.ndarray, order: str = "K") -> np.ndarray:
        """Rows of `rows_to_scale`'s matrix centred (and scaled) into a new array, laid out in
        numpy's ``order``: for any rows, those rows of ``transform``'s result, bit for bit, so
        a reader can scale the matrix a block of rows at a time instead
        (`stockml.models.Ridge.fit_scaled`)."""
        out = np.subtract(values, self.mean_.astype(values.dtype), order=order)
        if self.with_std:
            out /= self.scale_.astype(values.dtype)
        return out
