"""Reproduce a run: the recorded config again, then every recorded number compared.

Same config, seed, code and data must give the same metrics bit for bit (README's promise),
so any difference is reported, and a changed data fingerprint is named before running because
it is the usual reason a reproduction fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from stockml.console_table import table
from stockml.data import fingerprint
from stockml.lifecycle.errors import LifecycleError
from stockml.lifecycle.rerun import Rerun, rerun
from stockml.lifecycle.snapshot import RunSnapshot, compose_snapshot

# Wall-clock times and the run's own id differ on every run by design.
NOT_COMPARED = frozenset({"timings", "mlflow_run_id"})


@dataclass(frozen=True)
class Difference:
    key: str
    recorded: Any
    now: Any


def flatten_numbers(document: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted key -> leaf value for every leaf of a metrics.json document."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key not in NOT_COMPARED:
                yield from flatten_numbers(value, f"{prefix}{key}.")
    elif isinstance(document, list):
        for position, value in enumerate(document):
            yield from flatten_numbers(value, f"{prefix}{position}.")
    else:
        yield prefix.rstrip("."), document


def metric_differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[Difference]:
    """Every leaf that is not exactly equal (a key on one side only counts as different)."""
    before, after = dict(flatten_numbers(recorded)), dict(flatten_numbers(now))
    missing = object()
    differences = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key, missing), after.get(key, missing)
        if old != new:
            differences.append(
                Difference(key, None if old is missing else old, None if new is missing else new)
            )
    return differences


def differences_table(differences: list[Difference]) -> str:
    rows = []
    for item in differences:
        delta = (
            f"{item.now - item.recorded:+.3e}"
            if _is_number(item.recorded) and _is_number(item.now)
            else ""
        )
        rows.append((item.key, str(item.recorded), str(item.now), delta))
    return table(("key", "recorded", "now", "now - recorded"), rows)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def current_fingerprint(cfg: DictConfig) -> str:
    """The fingerprint of the data the config describes, as it is on disk today."""
    return fingerprint(instantiate(cfg.data, _convert_="all"))


def reproduction_overrides(snapshot: RunSnapshot) -> list[str]:
    """A reproduction is a check, not a candidate: it must not move registry aliases."""
    registering = OmegaConf.select(snapshot.config, "registry.register", default=False)
    return ["registry.register=false"] if registering else []


@dataclass(frozen=True)
class Reproduction:
    rerun: Rerun
    differences: list[Difference]


def reproduce(snapshot: RunSnapshot, say: Any = print) -> Reproduction:
    """Re-run ``snapshot`` and compare; ``say`` receives the fingerprint warning, if any."""
    if snapshot.metrics is None:
        raise LifecycleError(f"{snapshot.ref} recorded no metrics.json to compare against")
    overrides = reproduction_overrides(snapshot)
    cfg = compose_snapshot(snapshot, overrides)
    now = current_fingerprint(cfg)
    if snapshot.fingerprint is not None and now != snapshot.fingerprint:
        say(f"data fingerprint differs: recorded {snapshot.fingerprint}, now {now}")
    result = rerun(snapshot, overrides, cfg)
    return Reproduction(result, metric_differences(snapshot.metrics, result.metrics))
