"""Ridge regression whose normal equations are summed in float64 over row blocks.

scikit-learn's `Ridge` (``solver="auto"``, dense X) forms ``X.T @ X`` in X's own dtype and
solves it by Cholesky. On a float32 design matrix of millions of rows that float32 Gram matrix
is rounded so coarsely that it is ill-conditioned (a 5M-row run warns `LinAlgWarning`) or no
longer positive definite, and then sklearn falls back to an SVD of the whole training matrix:
a 20M-row run was killed out of memory in it at 24 GiB.

This `Ridge` solves the same problem the normal-equations way, but exactly enough: the column
means, the centred Gram matrix and ``X.T @ y`` are summed in float64, one block of rows at a
time (a float64 block is the only temporary: no float64 copy of X, and X is never written),
then the small features x features system is solved in float64 by Cholesky, or, should it be
singular (``alpha=0`` with collinear columns), by a least-squares solve of that small matrix.
It never decomposes X. Everything else (parameters, ``predict``, ``get_params``, the fitted
attributes and their dtypes) is sklearn's, so configs, search spaces and saved pipelines treat
it as sklearn's `Ridge`; fits it does not cover go to sklearn's own `fit` (see `Ridge.fit`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg, sparse
from sklearn import linear_model
from sklearn.utils.validation import validate_data

# (rows of X, numpy's memory order) -> those rows of a matrix made of X element by element.
ScaleRows = Callable[[np.ndarray, str], np.ndarray]
# 2**12 rows: a float64 block of ~65 columns (2 MiB) stays in a core's cache between its
# conversion and its products (2**14 rows measured no faster, up to 15% slower); the per-block
# Python overhead is negligible.
BLOCK_ROWS = 4096


class Ridge(linear_model.Ridge):
    """`sklearn.linear_model.Ridge` with a float64, blockwise solve for ``solver="auto"``.

    Same parameters as sklearn's. With ``solver="auto"`` (the default), ``positive=False``,
    dense X and no ``sample_weight``, `fit` solves the normal equations in float64 (see the
    module docstring): for float64 X that is the solution sklearn's Cholesky solver computes,
    to float64 rounding; for float32 X it is the exact ridge solution of the float32 data,
    where sklearn's float32 Gram matrix loses digits. ``coef_`` and ``intercept_`` are in
    X's dtype, as sklearn's are. Every other case is sklearn's own `fit`.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit the model; ``copy_X`` has no effect on this path, which never writes X."""
        if not self._covers(X, sample_weight):
            return super().fit(X, y, sample_weight=sample_weight)
        self._validate_params()
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True
        )
        targets = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return self._solve(normal_equations(X, targets, centred=self.fit_intercept), X.dtype, y)

    def fit_scaled(self, X: np.ndarray, y: Any, scale_rows: ScaleRows) -> bool:
        """``fit(scale_rows(X), y)`` without the scaled matrix: each block of rows is scaled
        as it is read, so a matrix the size of X is never allocated (for a 5M-row run 1 GiB,
        whose fresh pages cost the fit up to a second of system time).

        ``scale_rows(rows, order)`` must return those rows of the scaled matrix, bit for bit,
        laid out in numpy's ``order`` ("K": as the scaled matrix would be), as
        `stockml.scaling.StandardScaler.scale_rows` does; then every block of the normal
        equations holds the same numbers as in ``fit``, and the fit is the same, bit for bit.
        Returns False, having fitted nothing, for a fit that is not this class's own path, a
        ``y`` that is not a float array of X's length, or a scaled matrix with a NaN or an
        infinity (seen in its sums): ``fit`` on the scaled matrix then refuses it, or hands
        it to sklearn, as it does.
        """
        targets = np.asarray(y)
        if (
            not self._covers(X, None)
            or not isinstance(X, np.ndarray)
            or X.ndim != 2
            or X.dtype not in (np.float32, np.float64)
            or 0 in X.shape
            or targets.dtype.kind != "f"
            or targets.ndim not in (1, 2)
            or len(targets) != len(X)
        ):
            return False
        self._validate_params()
        equations = normal_equations(
            X,
            targets.astype(np.float64).reshape(len(X), -1),
            centred=self.fit_intercept,
            scale_rows=scale_rows,
        )
        if not all(np.isfinite(part).all() for part in equations):
            return False
        validate_data(self, X, skip_check_array=True)  # the feature count, and no names
        self._solve(equations, X.dtype, targets)
        return True

    def _covers(self, X: Any, sample_weight: Any) -> bool:
        """Whether a fit is this class's own (the normal equations), not sklearn's."""
        return (
            self.solver == "auto"
            and not self.positive
            and sample_weight is None
            and not sparse.issparse(X)
        )

    def _solve(
        self,
        equations: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        dtype: np.dtype,
        y: np.ndarray,
    ) -> Ridge:
        """Set the fitted attributes from the normal equations of X (of ``dtype``) and y."""
        x_mean, y_mean, gram, xy = equations
        alphas = np.asarray(self.alpha, dtype=np.float64).ravel()
        if alphas.size not in (1, xy.shape[1]):
            raise ValueError(
                "Number of targets and number of penalties do not correspond: "
                f"{xy.shape[1]} != {alphas.size}"
            )
        alphas = np.broadcast_to(alphas, xy.shape[1])
        solved = [solve_penalised(gram, xy[:, t], alpha) for t, alpha in enumerate(alphas)]
        coef = np.stack([solution for solution, _ in solved]).astype(dtype)  # (targets, p)
        self.solver_ = "cholesky" if all(by_cholesky for _, by_cholesky in solved) else "lstsq"
        self.n_iter_ = None
        self.coef_ = coef.ravel() if len(coef) == 1 else coef  # sklearn's shapes
        if not self.fit_intercept:
            self.intercept_ = 0.0
            return self
        # from the rounded coefficients, so that predict(x_mean) is y_mean
        intercept = (y_mean - coef.astype(np.float64) @ x_mean).astype(dtype)
        self.intercept_ = intercept if y.ndim > 1 else intercept[0]
        return self


def normal_equations(
    X: np.ndarray,
    y: np.ndarray,
    *,
    centred: bool,
    scale_rows: ScaleRows | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_mean, y_mean, Xc.T @ Xc, Xc.T @ yc)`` in float64, in one pass over X; with
    ``scale_rows``, of the matrix it makes of X, one block of rows at a time.

    ``Xc = X - x_mean`` and ``yc = y - y_mean`` when ``centred``; otherwise the means are zeros
    and the products are of X and y themselves. Each block of rows becomes, in one float64
    buffer, ``[X - x_shift, y - y_shift, 1]``, and the buffer's ``B.T @ B`` (one BLAS syrk)
    sums every product at once: the Gram matrix, ``X.T @ y`` and, against the column of ones,
    the column sums, from which the means and their correction ``n * outer(d, d)`` (``d``:
    mean minus shift) follow.

    The shifts keep that correction from cancelling digits: ``y_shift`` is y's first block's
    mean, and so is ``x_shift`` for float64 X. Float32 X is not shifted, which saves a
    subtraction pass (~0.3 s of CPU per 4M x 65 rows): products of float32 values are exact
    in float64, so a column of mean/std ratio ``r`` loses ~1e-16 * r**2 of its variance to
    the correction, less than its own float32 rounding (~6e-8 * r) for any ``r`` below 1e8.
    """

    def rows_of_x(start: int, stop: int, order: str = "K") -> np.ndarray:
        # Scaled rows come C-ordered for the copy into the block (numpy copies a small
        # F-ordered array into it 3-6x slower); the shift's mean is over the scaled matrix's
        # own layout, as in `fit`, because a mean's sum follows the memory order.
        return X[start:stop] if scale_rows is None else scale_rows(X[start:stop], order)

    n_rows, n_features = X.shape
    n_columns = n_features + y.shape[1]  # before the column of ones
    shift = np.zeros(n_columns)
    if centred:
        shift[n_features:] = y[:BLOCK_ROWS].mean(axis=0)
        if X.dtype == np.float64:
            shift[:n_features] = rows_of_x(0, BLOCK_ROWS).mean(axis=0)
    x_shifted = bool(shift[:n_features].any())
    block = np.ones((min(BLOCK_ROWS, n_rows), n_columns + 1))
    products = np.zeros((n_columns + 1, n_columns + 1))
    for start in range(0, n_rows, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n_rows)
        rows = block[: stop - start]
        if x_shifted:
            np.subtract(rows_of_x(start, stop, "C"), shift[:n_features], out=rows[:, :n_features])
        else:
            rows[:, :n_features] = rows_of_x(start, stop, "C")  # a float32 -> float64 copy, exact
        np.subtract(y[start:stop], shift[n_features:], out=rows[:, n_features:n_columns])
        products += rows.T @ rows
    means = shift
    if centred:
        offset = products[-1, :n_columns] / n_rows  # the column sums, over n
        products[:n_columns, :n_columns] -= n_rows * np.outer(offset, offset)
        means = shift + offset
    return (
        means[:n_features],
        means[n_features:],
        products[:n_features, :n_features],
        products[:n_features, n_features:n_columns],
    )


def solve_penalised(gram: np.ndarray, xy: np.ndarray, alpha: float) -> tuple[np.ndarray, bool]:
    """(the solution of ``(gram + alpha * I) w = xy``, whether Cholesky solved it).

    Cholesky, as sklearn's solver; a matrix that is not positive definite (``alpha=0`` and
    collinear columns) gets the minimum-norm least-squares solution of the same small system,
    which is what sklearn's SVD fallback computes from X itself.
    """
    penalised = gram + alpha * np.eye(len(gram))
    try:
        return linalg.solve(penalised, xy, assume_a="pos"), True
    except linalg.LinAlgError:
        return linalg.lstsq(penalised, xy)[0], False
