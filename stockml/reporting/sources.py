"""Where a report's inputs come from: a run's `evaluation.json` in MLflow, a sweep's study.

Reports draw what each run recorded and never recompute; an input that is missing (a run
from before the evaluation existed, a sweep without an Optuna study) gives a note on the
page, not an error.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import optuna
import yaml
from omegaconf import OmegaConf
from sqlalchemy.engine import make_url

from stockml.reporting.schema import EvaluationDocument
from stockml.run_files import EVALUATION_FILE
from stockml.sweep_files import MULTIRUN_FILE, RESULTS_FILE
from stockml.tracking.study_plots import objective_names


def run_evaluation(client: Any, run_id: str) -> EvaluationDocument | None:
    """The run's logged evaluation document, or None when the run has none."""
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory(prefix="stockml-report-") as folder:
        try:
            if EVALUATION_FILE not in {a.path for a in client.list_artifacts(run_id)}:
                return None
            path = client.download_artifacts(run_id, EVALUATION_FILE, folder)
        except (MlflowException, OSError):  # the run's artifact folder was deleted or moved
            return None
        document: EvaluationDocument = json.loads(Path(path).read_text())
    return document


def sweep_study(sweep_dir: Path) -> tuple[optuna.Study, list[str]] | str:
    """The sweep's Optuna study and its objective names, or why there is none (a note).

    The study's name is in `optimization_results.yaml`; its storage is the sweeper's setting
    in `multirun.yaml`, where a relative SQLite path is relative to the directory the sweep
    was started from (Hydra records it as `hydra.runtime.cwd`).
    """
    results, snapshot = sweep_dir / RESULTS_FILE, sweep_dir / MULTIRUN_FILE
    if not results.is_file() or not snapshot.is_file():
        return f"{sweep_dir} is not an Optuna sweep ({RESULTS_FILE} missing): no study plots."
    name = yaml.safe_load(results.read_text())["name"]
    config = OmegaConf.load(snapshot)
    storage = OmegaConf.select(config, "hydra.sweeper.storage")
    if not storage:
        return f"study {name!r} was kept in memory by its sweep: no study plots."
    url = make_url(str(storage))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        cwd = Path(str(OmegaConf.select(config, "hydra.runtime.cwd", default=".")))
        database = cwd / Path(url.database).expanduser()
        if not database.is_file():
            return f"study {name!r}: its storage {database} does not exist: no study plots."
        url = url.set(database=str(database))
    study = optuna.load_study(study_name=name, storage=url.render_as_string(hide_password=False))
    return study, objective_names(config, study)
