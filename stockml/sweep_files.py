"""Names of what stockml writes into a sweep directory, beside the trials' run directories.

One place for them because three parties need the same names: the writers (the Optuna
sweeper, the MLflow parent run, the study plots), the parent run that uploads them, and
`stockml-jobs cleanup`, which deletes a sweep directory only when it holds nothing else.
Kept free of imports so the job-store callback and cleanup can read it cheaply.
"""

from __future__ import annotations

MULTIRUN_FILE = "multirun.yaml"  # Hydra's (and the Optuna sweeper's) snapshot of the sweep
RESULTS_FILE = "optimization_results.yaml"  # the Optuna sweeper's summary of the study
LINK_FILE = "mlflow_sweep.json"  # the parent MLflow run the trials nest under
PLOTS_DIR = "plots"  # Optuna's plots of the study, one PNG each
# A plot is `<stem>.png`, or `<stem>_<objective>.png` for each objective of several.
PLOT_STEMS = ("optimization_history", "parallel_coordinate", "param_importances", "pareto_front")


def is_study_plot(name: str) -> bool:
    """Whether a file in PLOTS_DIR has a name the study plots are written under."""
    stem = name.removesuffix(".png")
    return name.endswith(".png") and any(
        stem == known or stem.startswith(f"{known}_") for known in PLOT_STEMS
    )
