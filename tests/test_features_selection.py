"""Seeded mutual-information selection: reproducible, picklable, tolerant of a large k."""

from __future__ import annotations

import pickle
from functools import partial

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from stockml.features import KBestMutualInfo, mutual_info_scores


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    y = np.sin(2 * X[:, 4]) + 0.5 * X[:, 1] ** 2 + 0.1 * rng.normal(size=400)
    return X, y


def test_scores_are_reproducible_and_find_the_nonlinear_signal(data) -> None:
    X, y = data
    scores = mutual_info_scores(X, y, random_state=0)
    np.testing.assert_array_equal(scores, mutual_info_scores(X, y, random_state=0))
    assert set(np.argsort(scores)[-2:]) == {1, 4}


def test_selector_keeps_the_top_k_and_clips_a_large_k(data) -> None:
    X, y = data
    selector = KBestMutualInfo(k=2, random_state=0).fit(X, y)
    assert sorted(selector.get_support(indices=True)) == [1, 4]
    assert selector.transform(X).shape == (400, 2)
    assert KBestMutualInfo(k=50).fit(X, y).transform(X).shape == (400, 6)
    assert KBestMutualInfo(k="all").fit(X, y).transform(X).shape == (400, 6)
    with pytest.raises(ValueError, match="k must be"):
        KBestMutualInfo(k=-1).fit(X, y)


def test_selector_in_a_pipeline_clones_and_pickles(data) -> None:
    X, y = data
    pipeline = make_pipeline(KBestMutualInfo(k=3, random_state=7), Ridge())
    fitted = clone(pipeline).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert clone(pipeline).get_params()["kbestmutualinfo__random_state"] == 7


def test_score_function_works_with_select_k_best(data) -> None:
    X, y = data
    selector = SelectKBest(partial(mutual_info_scores, random_state=0), k=2).fit(X, y)
    pickle.dumps(selector)
    assert sorted(selector.get_support(indices=True)) == [1, 4]
