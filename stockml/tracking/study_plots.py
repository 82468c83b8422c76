"""Optuna's own plots of a study, as PNG files a researcher opens from the sweep directory.

Drawn with `optuna.visualization.matplotlib` (the HTML report draws the same plan with
`optuna.visualization`'s plotly figures): the optimisation history, the
parameter importances, a parallel-coordinate plot and, for several objectives, the Pareto
front. A plot the study cannot support yet (importances need two completed trials and a
parameter that varied; fANOVA fails on objectives that never varied) is skipped with one
warning line, never an error: the sweep is done.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import optuna
from omegaconf import OmegaConf
from optuna.trial import FrozenTrial, TrialState

from stockml.messages import first_line
from stockml.sweep_files import PLOT_STEMS

log = logging.getLogger(__name__)

HISTORY, PARALLEL, IMPORTANCES, PARETO = PLOT_STEMS


@dataclass(frozen=True)
class StudyPlot:
    """One plot a study supports: the Optuna function that draws it and its arguments.

    `optuna.visualization` (plotly) and `optuna.visualization.matplotlib` name their
    functions alike, so the same plan draws the sweep's PNG files and the HTML report's
    interactive figures.
    """

    stem: str  # the file stem: `<kind>` or `<kind>_<objective>`
    function: str  # e.g. "plot_optimization_history"
    kwargs: dict[str, Any]

    def draw(self, study: optuna.Study, plots: ModuleType) -> Any:
        with warnings.catch_warnings():
            # Optuna marks some plots experimental; matplotlib warns about a constant axis.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)
            return getattr(plots, self.function)(study, **self.kwargs)


def objective_names(config: Any, study: optuna.Study) -> list[str]:
    """The study's objectives named after the run config's `optimized_metric` (one name, or a
    list for a multi-objective sweep), or `objective_<i>` when the counts differ (a config
    without the key, or a study made by another sweep)."""
    metric = OmegaConf.select(config, "optimized_metric", default="objective")
    names = [str(m) for m in metric] if OmegaConf.is_list(metric) else [str(metric)]
    if len(names) != len(study.directions):
        return [f"objective_{i}" for i in range(len(study.directions))]
    return names


def study_plot_plan(study: optuna.Study, names: list[str]) -> list[StudyPlot]:
    """The plots `study` supports, per objective (`names` label them); empty, with one warning
    line, when no trial has completed."""
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not completed:
        log.warning("study %s: no completed trial, so no study plots", study.study_name)
        return []
    importance = _importance_possible(completed)
    if not importance:
        log.warning(
            "study %s: no parameter-importance plot: it needs at least 2 completed trials and "
            "a parameter that varied (%d completed)",
            study.study_name,
            len(completed),
        )
    plan: list[StudyPlot] = []
    for index, name in enumerate(names):
        objective = {"target": None if len(names) == 1 else _objective(index), "target_name": name}
        suffix = "" if len(names) == 1 else f"_{name}"
        plan.append(StudyPlot(f"{HISTORY}{suffix}", "plot_optimization_history", objective))
        plan.append(StudyPlot(f"{PARALLEL}{suffix}", "plot_parallel_coordinate", objective))
        if importance:
            kwargs = {**objective, "evaluator": _evaluator()}
            plan.append(StudyPlot(f"{IMPORTANCES}{suffix}", "plot_param_importances", kwargs))
    if len(names) in (2, 3):
        plan.append(StudyPlot(PARETO, "plot_pareto_front", {"target_names": names}))
    return plan


def write_study_plots(study: optuna.Study, folder: Path, names: list[str]) -> list[Path]:
    """Write the study's plots into `folder`; `names` label the objectives. Return the files."""
    plan = study_plot_plan(study, names)
    if not plan:
        return []
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window, whatever the environment says
    from optuna.visualization import matplotlib as plots

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for plot in plan:
        path = folder / f"{plot.stem}.png"
        try:
            written.append(_save(plot.draw(study, plots), path))
        except Exception as exc:  # e.g. fANOVA on objectives that never varied
            log.warning("study %s: no %s plot: %s", study.study_name, plot.stem, first_line(exc))
    return written


def _objective(index: int) -> Callable[[FrozenTrial], float]:
    return lambda trial: trial.values[index]


def _evaluator() -> Any:
    """fANOVA: seeded, so the plot is reproducible, and blind to the objective's direction
    (Optuna's default ranks parameters for low values, wrong for a maximised IC)."""
    return optuna.importance.FanovaImportanceEvaluator(seed=0)


def _importance_possible(completed: list[FrozenTrial]) -> bool:
    if len(completed) < 2:
        return False
    params = {name for trial in completed for name in trial.params}
    return any(len({repr(t.params.get(name)) for t in completed}) > 1 for name in params)


def _save(axes: Any, path: Path) -> Path:
    """Save a drawn matplotlib plot as a PNG and release its figure."""
    from matplotlib import pyplot

    figure = (axes.flat[0] if hasattr(axes, "flat") else axes).get_figure()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    pyplot.close(figure)
    return path
