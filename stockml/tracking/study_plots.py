"""Optuna's own plots of a study, as PNG files a researcher opens from the sweep directory.

Drawn with `optuna.visualization.matplotlib` (no plotly): the optimisation history, the
parameter importances, a parallel-coordinate plot and, for several objectives, the Pareto
front. A plot the study cannot support yet (importances need two completed trials and a
parameter that varied; fANOVA fails on objectives that never varied) is skipped with one
warning line, never an error: the sweep is done.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from stockml.messages import first_line
from stockml.sweep_files import PLOT_STEMS

log = logging.getLogger(__name__)

HISTORY, PARALLEL, IMPORTANCES, PARETO = PLOT_STEMS


def write_study_plots(study: optuna.Study, folder: Path, names: list[str]) -> list[Path]:
    """Write the study's plots into `folder`; `names` label the objectives. Return the files."""
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not completed:
        log.warning("study %s: no completed trial, so no study plots", study.study_name)
        return []
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window, whatever the environment says
    from optuna.visualization import matplotlib as plots

    folder.mkdir(parents=True, exist_ok=True)
    importance = _importance_possible(completed)
    if not importance:
        log.warning(
            "study %s: no parameter-importance plot: it needs at least 2 completed trials and "
            "a parameter that varied (%d completed)",
            study.study_name,
            len(completed),
        )
    written: list[Path] = []
    for index, name in enumerate(names):
        objective = {"target": None if len(names) == 1 else _objective(index), "target_name": name}
        suffix = "" if len(names) == 1 else f"_{name}"
        drawings = [(HISTORY, plots.plot_optimization_history)]
        drawings.append((PARALLEL, plots.plot_parallel_coordinate))
        if importance:
            drawings.append((IMPORTANCES, plots.plot_param_importances))
        for stem, draw in drawings:
            extra = {"evaluator": _evaluator()} if stem == IMPORTANCES else {}
            path = folder / f"{stem}{suffix}.png"
            try:
                written.append(_save(draw, path, study, **objective, **extra))
            except Exception as exc:  # e.g. fANOVA on objectives that never varied
                log.warning("study %s: no %s plot: %s", study.study_name, path.stem,
                            first_line(exc))  # fmt: skip
    if len(names) in (2, 3):
        front = folder / f"{PARETO}.png"
        try:
            written.append(_save(plots.plot_pareto_front, front, study, target_names=names))
        except Exception as exc:
            log.warning("study %s: no Pareto-front plot: %s", study.study_name, first_line(exc))
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


def _save(draw: Callable[..., Any], path: Path, *args: Any, **kwargs: Any) -> Path:
    """Draw one plot (Optuna marks its matplotlib plots experimental) and save it as a PNG."""
    from matplotlib import pyplot

    with warnings.catch_warnings():
        # Optuna marks these plots experimental; matplotlib warns about a constant axis.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", UserWarning)
        axes = draw(*args, **kwargs)
    figure = (axes.flat[0] if hasattr(axes, "flat") else axes).get_figure()
    figure.savefig(path, dpi=100, bbox_inches="tight")
    pyplot.close(figure)
    return path
