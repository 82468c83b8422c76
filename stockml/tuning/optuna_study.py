"""Creating or re-opening the Optuna study a sweep adds its trials to, and keeping its
running trials alive in the storage.

With a database storage, every running trial has a heartbeat: the sweep records it every
`heartbeat_interval` seconds while the trial's job runs. A trial whose heartbeat is older
than the grace period belongs to a sweep that was killed; it is marked FAIL the next time any
sweep opens the study, so a study never keeps RUNNING trials for ever.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.samplers import BaseSampler
from optuna.storages import RDBStorage, fail_stale_trials
from optuna.trial import TrialState
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

DIRECTIONS = ("minimize", "maximize")


def normalize_directions(direction: str | Sequence[str]) -> list[str]:
    """One direction per objective; a list of several makes the study multi-objective."""
    directions = [direction] if isinstance(direction, str) else [str(d) for d in direction]
    if not directions or any(d not in DIRECTIONS for d in directions):
        raise ValueError(f"direction must be minimize, maximize or a list of them, got {direction}")
    return directions


def resolve_storage(storage: str | None) -> str | None:
    """The storage URL with an SQLite file made absolute and its directory created.

    A relative `sqlite:///runs/optuna.db` means relative to the directory the sweep was
    started from; making it absolute keeps that true for anything that changes directory later.
    """
    if not storage:
        return None
    url = make_url(storage)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return storage
    if database.startswith("file:"):  # SQLite URI filenames are left as written
        return storage
    path = Path(database).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return url.set(database=str(path)).render_as_string(hide_password=False)


def database_storage(
    storage: str | None, heartbeat_interval: int, grace_period: int | None
) -> RDBStorage | None:
    """The study's database with heartbeats on, or None for an in-memory study."""
    url = resolve_storage(storage)
    if url is None:
        return None
    with warnings.catch_warnings():  # heartbeats are "experimental" in Optuna since 2.9
        warnings.simplefilter("ignore", ExperimentalWarning)
        return RDBStorage(url, heartbeat_interval=heartbeat_interval, grace_period=grace_period)


def open_study(
    study_name: str | None,
    storage: RDBStorage | None,
    directions: Sequence[str],
    sampler: BaseSampler,
) -> optuna.Study:
    """Create the study, or load it when the storage already holds one of that name; trials
    a killed sweep left RUNNING (heartbeat older than the grace period) are marked FAIL."""
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        sampler=sampler,
        directions=list(directions),
        load_if_exists=True,
    )
    if storage is not None:
        running = _running(study)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)
            fail_stale_trials(study)
        if stale := running - _running(study):
            log.warning(
                "study %s: marked %d trial(s) FAIL that a stopped sweep left running (#%s)",
                study.study_name,
                len(stale),
                ", #".join(str(number) for number in sorted(stale)),
            )
    return study


def _running(study: optuna.Study) -> set[int]:
    return {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}


@contextmanager
def heartbeats(
    storage: RDBStorage | None, study: optuna.Study, trials: Sequence[optuna.Trial]
) -> Iterator[None]:
    """Record the trials' heartbeats now and every interval until the block ends."""
    interval = storage.get_heartbeat_interval() if storage is not None else None
    if storage is None or interval is None or not trials:
        yield
        return
    study_id = storage.get_study_id_from_name(study.study_name)
    ids = [storage.get_trial_id_from_study_id_trial_number(study_id, t.number) for t in trials]
    stop = threading.Event()

    def beat() -> None:
        for trial_id in ids:
            storage.record_heartbeat(trial_id)

    def keep_beating() -> None:
        while not stop.wait(interval):
            beat()

    beat()  # before the jobs start, so a sweep killed at once still leaves stale trials
    thread = threading.Thread(target=keep_beating, name="optuna-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
