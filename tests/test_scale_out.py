"""Beyond one process: a sweep on Hydra's submitit launcher, and one Optuna study shared by two
concurrent sweeps through a PostgreSQL database (the setup of a cluster, on one machine)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import optuna
import pytest
from stockml_runs import FAST

pytestmark = pytest.mark.slow

SMALL = [
    "data.tickers=[AAPL,MSFT,IBM]",
    "data.start=2008-01-01",
    *FAST,
    "tracking.enabled=false",
    "store.enabled=false",
]


def test_multirun_on_the_submitit_launcher(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "stockml", "-m", "model=linear,ridge",
         "hydra/launcher=submitit_local", *SMALL],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    runs = sorted(tmp_path.glob("outputs/multiruns/*/*/[0-9]/metrics.json"))
    assert [p.parent.name for p in runs] == ["0", "1"]


def test_two_concurrent_sweeps_share_one_study_in_postgresql(
    tmp_path: Path, postgres_url: str
) -> None:
    study_name = f"shared_{uuid.uuid4().hex[:8]}"
    command = [
        sys.executable, "-m", "stockml", "hparams_search=ridge_optuna",
        f"hydra.sweeper.storage={postgres_url}", f"hydra.sweeper.study_name={study_name}",
        "hydra.sweeper.n_trials=3", "hydra.sweeper.n_jobs=1", *SMALL,
    ]  # fmt: skip
    optuna.create_study(study_name=study_name, storage=postgres_url, direction="maximize")
    try:
        workers = []
        for index in range(2):
            (tmp_path / str(index)).mkdir()
            workers.append(
                subprocess.Popen(
                    command,
                    cwd=tmp_path / str(index),
                    text=True,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
        for worker in workers:
            _, stderr = worker.communicate(timeout=600)
            assert worker.returncode == 0, stderr
        study = optuna.load_study(study_name=study_name, storage=postgres_url)
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        assert len(complete) == 6
        assert len({t.number for t in complete}) == 6
        # Each process seeds its sampler from its own first trial number: no shared points.
        assert len({t.params["model.alpha"] for t in complete}) == 6
        assert len({t.user_attrs["sampler_seed"] for t in complete}) == 2
    finally:
        optuna.delete_study(study_name=study_name, storage=postgres_url)
