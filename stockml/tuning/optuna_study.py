"""Creating or re-opening the Optuna study a sweep adds its trials to."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import optuna
from optuna.samplers import BaseSampler
from sqlalchemy.engine import make_url

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


def open_study(
    study_name: str | None,
    storage: str | None,
    directions: Sequence[str],
    sampler: BaseSampler,
) -> optuna.Study:
    """Create the study, or load it when the storage already holds one of that name."""
    return optuna.create_study(
        study_name=study_name,
        storage=resolve_storage(storage),
        sampler=sampler,
        directions=list(directions),
        load_if_exists=True,
    )
