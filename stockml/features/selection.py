"""Reproducible mutual-information feature selection for Pipelines.

sklearn's `mutual_info_regression` draws random noise unless given a seed, so
``SelectKBest(mutual_info_regression)`` picks different features run to run. The selector here
fixes the seed as a constructor parameter, which also makes it show in the run's config.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_selection import SelectorMixin, mutual_info_regression
from sklearn.utils.validation import check_is_fitted, validate_data

from stockml.messages import InputError


def mutual_info_scores(
    X: Any, y: Any, random_state: int | None = 0, n_neighbors: int = 3
) -> np.ndarray:
    """Seeded k-NN mutual information between each column of ``X`` and ``y`` (in nats).

    A module-level function so it pickles and can serve as ``SelectKBest(score_func=...)``
    through ``functools.partial``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,)
        Label.
    random_state : int or None, default=0
        Seed of the noise added to break ties; the same seed gives the same scores.
    n_neighbors : int, default=3
        Neighbours of the k-NN estimate.

    Returns
    -------
    ndarray of shape (n_features,)
        One score per column, 0 for an independent one (up to estimation noise).

    Examples
    --------
    >>> from functools import partial
    >>> import numpy as np
    >>> from sklearn.feature_selection import SelectKBest
    >>> from stockml.features import mutual_info_scores
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = X[:, 2] ** 2 + 0.1 * rng.normal(size=200)
    >>> mutual_info_scores(X, y).round(2)
    array([0.06, 0.  , 1.76, 0.  ])
    >>> SelectKBest(partial(mutual_info_scores, random_state=0), k=1).fit(X, y).get_support()
    array([False, False,  True, False])
    """
    return mutual_info_regression(X, y, n_neighbors=n_neighbors, random_state=random_state)


class KBestMutualInfo(SelectorMixin, BaseEstimator):
    """Keep the ``k`` features with the highest seeded mutual information with the label.

    A ``k`` above the number of features keeps them all (no error and no warning: presets of
    different sizes share one selection config); ``k="all"`` does the same explicitly. Ties are
    broken by column order, so the selection is deterministic.

    Parameters
    ----------
    k : int or "all", default=10
        Number of features kept.
    random_state : int or None, default=0
        Seed of the noise `mutual_info_regression` adds; None draws a new one each fit.
    n_neighbors : int, default=3
        Neighbours of the k-NN mutual information estimate.

    Attributes
    ----------
    scores_ : ndarray of shape (n_features,)
        Mutual information of each feature with the label, in nats.
    n_features_in_ : int
        Number of features seen by `fit`.

    Examples
    --------
    A label that depends on the third feature non-linearly (no correlation to find):

    >>> import numpy as np
    >>> from stockml.features import KBestMutualInfo
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 4))
    >>> y = X[:, 2] ** 2 + 0.1 * rng.normal(size=200)
    >>> selector = KBestMutualInfo(k=1).fit(X, y)
    >>> selector.get_support()
    array([False, False,  True, False])
    >>> selector.transform(X).shape
    (200, 1)
    """

    def __init__(
        self, k: int | str = 10, *, random_state: int | None = 0, n_neighbors: int = 3
    ) -> None:
        self.k = k
        self.random_state = random_state
        self.n_neighbors = n_neighbors

    def fit(self, X: Any, y: Any) -> KBestMutualInfo:
        if self.k != "all" and (
            isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 0
        ):
            raise InputError(
                f"KBestMutualInfo: k must be a non-negative integer or 'all', got {self.k!r}"
            )
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self.scores_ = mutual_info_scores(
            X, y, random_state=self.random_state, n_neighbors=self.n_neighbors
        )
        return self

    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "scores_")
        n_features = len(self.scores_)
        keep = n_features if self.k == "all" else min(int(self.k), n_features)
        mask = np.zeros(n_features, dtype=bool)
        mask[np.argsort(-self.scores_, kind="stable")[:keep]] = True
        return mask
