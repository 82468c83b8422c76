"""A StandardScaler whose fit reads the training matrix in row blocks.

scikit-learn's `StandardScaler.fit` accumulates the mean and variance in float64, so on a
float32 matrix it builds float64 temporaries of the whole matrix: more than twice the
matrix's own size on top of it, the peak of a 5M-row run. Fitting the same statistics with
`partial_fit` over row blocks keeps those temporaries to one block. The statistics are the
same to float rounding (Chan, Golub and LeVeque's pairwise update, which `partial_fit`
already uses to combine batches), and transform is sklearn's own.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from scipy import sparse
from sklearn import preprocessing
from sklearn.utils import _safe_indexing

# 2**18 rows: a float64 block of 65 features is ~130 MiB, small beside a 5M-row matrix, and
# large enough that the per-block Python overhead is negligible.
DEFAULT_BATCH_SIZE = 262_144


class StandardScaler(preprocessing.StandardScaler):
    """scikit-learn's `StandardScaler` fitted in blocks of ``batch_size`` rows (same
    parameters otherwise). It keeps the name: pipelines and their MLflow models are named by
    their steps' classes (`standardscaler-ridge`), and a drop-in should not rename them.

    Only a dense 2-D matrix (array or frame) of more than ``batch_size`` rows without sample
    weights is fitted in blocks; anything else goes to sklearn's `fit` unchanged, so weighted
    fits (a block of zero weights would be refused), sparse matrices (whose statistics need
    no dense copy) and odd inputs behave exactly as there.
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
        shape = getattr(X, "shape", ())
        blocks = sample_weight is None and not sparse.issparse(X) and len(shape) == 2
        if not blocks or shape[0] <= self.batch_size:
            return super().fit(X, y, sample_weight)
        self._reset()  # what sklearn's fit does first: partial_fit then starts afresh
        # A block where a column is all NaN turns partial_fit's variance update into NaN (it
        # divides by the block's count, warning); the whole matrix at once gets it right, and
        # warns itself if it must.
        with np.errstate(divide="ignore", invalid="ignore"):
            for start in range(0, shape[0], self.batch_size):
                self.partial_fit(_safe_indexing(X, slice(start, start + self.batch_size)), y)
        if self.var_ is not None and np.isnan(self.var_).any():
            return super().fit(X, y)
        return self
