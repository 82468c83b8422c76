"""Composed config -> scikit-learn Pipeline (scaler -> selector -> model).

Scaler and selector are Pipeline steps, not preprocessing, so every cross-validation fold fits
them on its own training rows only: the test fold never leaks into their statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from stockml.models.ridge import Ridge
from stockml.scaling import StandardScaler
from stockml.threads import job_threads

# Keys a model config may carry for stockml itself; they are not estimator arguments.
RESERVED_MODEL_KEYS: frozenset[str] = frozenset({"search_space"})


def estimator_config(node: DictConfig | None) -> dict[str, Any] | None:
    """The resolved part of a step's config that is passed to its `_target_`."""
    if node is None:
        return None
    resolved = OmegaConf.to_container(node, resolve=True)
    assert isinstance(resolved, dict)
    return {key: value for key, value in resolved.items() if key not in RESERVED_MODEL_KEYS}


def build_step(node: DictConfig | None) -> Any:
    """Instantiate one step; a null config group becomes sklearn's "passthrough".

    ``n_jobs: null`` in a step's config means the job's thread budget (`stockml.threads`):
    the launcher's share of the cores in a parallel sweep, the library's default otherwise.
    """
    if node is None:
        return "passthrough"
    params = estimator_config(node)
    assert params is not None
    if "n_jobs" in params and params["n_jobs"] is None:
        params["n_jobs"] = job_threads()
    return instantiate(params, _convert_="all")


def build_pipeline(cfg: DictConfig) -> Pipeline:
    """The unfitted pipeline a run evaluates, tunes and fits."""
    return Pipeline(
        steps=[
            ("scaler", build_step(cfg.scaler)),
            ("selector", build_step(cfg.selection)),
            ("model", build_step(cfg.model)),
        ]
    )


def made_by_the_steps(Xt: Any, X: Any) -> bool:
    """Whether ``Xt`` is an array the pipeline's steps made from ``X``, which no one else reads.

    It must own its memory (so it is not a view of ``X``, nor of a frame's values), be
    writeable, and not be ``X`` itself (passthrough steps hand ``X`` on). A step that kept a
    reference to the array it returned would break this; no step stockml builds does.
    """
    return isinstance(Xt, np.ndarray) and Xt is not X and Xt.flags.owndata and Xt.flags.writeable


def fit_clone(pipeline: Pipeline, X: Any, y: Any) -> Pipeline:
    """``clone(pipeline).fit(X, y)`` with one BLAS thread, and without the final step's copy
    of its training matrix when that matrix is the steps' own.

    One BLAS thread: two OpenBLAS threads sum some products in another order than one, and
    an ill-conditioned least-squares problem turns that into other coefficients (on a 1M-row
    float32 matrix of collinear columns: sklearn's float32 `Ridge` 2e-3 of the largest,
    `LinearRegression` 3e-4; stockml's `Ridge`, which sums in float64, not at all there), so
    a fit's numbers would depend on the machine's cores and on how many folds run at once.
    It costs nothing measurable: on these tall, 65-column products a second thread saves
    little on an idle machine and, busy-waiting, costs several times the CPU on a loaded one.
    (threadpoolctl's limit is process-wide; folds fitted in parallel threads are already
    under a limit of one, `stockml.fold_workers.fold_threads`.)

    No copy: a linear model with ``copy_X=True`` (sklearn's default) copies X before centring
    it in place, as it must when X is the caller's data. Behind a scaler or selector its X is
    a fresh array that only this fit reads: the copy only adds a whole matrix to the fit's
    peak. So when `made_by_the_steps` says so, the final step is fitted with
    ``copy_X=False`` and gets ``copy_X=True`` back afterwards: same operations, in place,
    hence the same coefficients; same params. The caller's X is never written. (stockml's
    `Ridge` neither copies nor writes X on its own path, so there this changes nothing; its
    other solvers are sklearn's, which do.)

    Behind stockml's `StandardScaler` alone, stockml's `Ridge` is fitted without any scaled
    copy: see `_fit_scaled_in_blocks`.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_without_copy(clone(pipeline), X, y)


def _fit_without_copy(model: Pipeline, X: Any, y: Any) -> Pipeline:
    if _fit_scaled_in_blocks(model, X, y):
        return model
    final = model.steps[-1][1]
    overwritable = len(model.steps) > 1 and getattr(final, "copy_X", None) is True
    if not overwritable:
        return model.fit(X, y)
    Xt = model[:-1].fit_transform(X, y)  # the slice shares model's step objects: fits them
    if not made_by_the_steps(Xt, X):
        final.fit(Xt, y)
        return model
    final.set_params(copy_X=False)
    try:
        final.fit(Xt, y)
    finally:
        final.set_params(copy_X=True)
    return model


def _fit_scaled_in_blocks(model: Pipeline, X: Any, y: Any) -> bool:
    """Fit a pipeline of stockml's `StandardScaler`, passthrough steps and stockml's `Ridge`
    without its scaled matrix, a copy of X's size (1 GiB at 5M rows): the scaler is fitted,
    then the model scales X a block of rows at a time as it reads it (`Ridge.fit_scaled`).
    The same steps and numbers as ``model.fit(X, y)``, bit for bit.

    False for any other pipeline, and for a fit `Ridge.fit_scaled` leaves to ``fit`` (then
    the caller fits the whole pipeline, the scaler again).
    """
    if len(model.steps) < 2:
        return False
    scaler, *middle, final = (step for _, step in model.steps)
    if not (
        type(scaler) is StandardScaler
        and all(step is None or step == "passthrough" for step in middle)
        and type(final) is Ridge
    ):
        return False
    values = scaler.fit(X, y).rows_to_scale(X)
    return values is not None and final.fit_scaled(values, y, scaler.scale_rows)
