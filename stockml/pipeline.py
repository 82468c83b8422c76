"""Composed config -> scikit-learn Pipeline (scaler -> selector -> model).

Scaler and selector are Pipeline steps, not preprocessing, so every cross-validation fold fits
them on its own training rows only: the test fold never leaks into their statistics.
"""

from __future__ import annotations

from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from sklearn.pipeline import Pipeline

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
