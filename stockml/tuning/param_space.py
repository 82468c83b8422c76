"""One search-space notation that grid, random and Bayesian search all read.

A model config declares its space once, next to its defaults::

    search_space:
      alpha: {type: float, low: 1.0e-3, high: 1.0e3, log: true}
      max_depth: {type: int, low: 2, high: 8}
      max_features: {type: categorical, choices: [0.2, 0.5, 1.0]}

Grid search needs finite values, so continuous ranges are discretised into `grid_points`
values (log-spaced when `log: true`); random search samples the same ranges with SciPy
distributions; Bayesian search and the Hydra Optuna sweeper (`hparams_search=...`) sample the
same Optuna distributions. The bounds mean the same in all of them. A selection config may
declare `search_space` too (`k`), read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

from stockml.messages import InputError

KINDS = ("float", "int", "categorical")


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter; `name` is the Pipeline parameter, e.g. `model__alpha`."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def grid_values(self, points: int) -> list[Any]:
        if self.kind == "categorical":
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.step is not None:
            values = np.arange(self.low, self.high + self.step / 2, self.step)
        elif self.log:
            values = np.geomspace(self.low, self.high, points)
        else:
            values = np.linspace(self.low, self.high, points)
        if self.kind == "int":
            return sorted({int(np.rint(v)) for v in values})
        return [float(v) for v in values]

    def distribution(self) -> Any:
        """A SciPy distribution (or a list) for sklearn's ParameterSampler."""
        from scipy import stats  # imported here: only random search needs SciPy

        if self.kind == "categorical":
            return list(self.choices)
        if self.step is not None:
            return self.grid_values(0)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            if self.log:
                return stats.loguniform(self.low, self.high + 1)  # sampled then floored below
            return stats.randint(int(self.low), int(self.high) + 1)
        if self.log:
            return stats.loguniform(self.low, self.high)
        return stats.uniform(self.low, self.high - self.low)

    def optuna_distribution(self) -> BaseDistribution:
        """The Optuna distribution of this parameter: what Bayesian search and sweeps sample."""
        # Imported here: grid and random search, and every untuned run, never need Optuna.
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "categorical":
            return CategoricalDistribution(list(self.choices))
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = int(self.step) if self.step is not None else 1
            return IntDistribution(int(self.low), int(self.high), log=self.log, step=step)
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for this parameter."""
        return suggest(trial, self.name, self.optuna_distribution())


def suggest(trial: Any, name: str, distribution: BaseDistribution) -> Any:
    """`trial.suggest_*` for a distribution object, through Optuna's public API."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, list(distribution.choices))
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(
            name, distribution.low, distribution.high, step=distribution.step, log=distribution.log
        )
    if isinstance(distribution, FloatDistribution):
        return trial.suggest_float(
            name, distribution.low, distribution.high, step=distribution.step, log=distribution.log
        )
    raise TypeError(f"no suggest method for {type(distribution).__name__} ({name})")


# Config nodes that may declare a `search_space`, and the Pipeline step each one configures.
SPACE_OWNERS: dict[str, str] = {"selection": "selector", "model": "model"}


def declared_space(cfg: Any) -> dict[str, ParamSpec]:
    """Every parameter the composed config declares, by config key (`model.alpha`), each
    spec named for the Pipeline (`model__alpha`): the one space inner search and sweeps read."""
    from omegaconf import OmegaConf

    space: dict[str, ParamSpec] = {}
    for node, step in SPACE_OWNERS.items():
        declared = OmegaConf.select(cfg, f"{node}.search_space", default=None)
        plain = OmegaConf.to_container(declared, resolve=True) if declared else None
        for spec in parse_space(plain, prefix=f"{step}__"):  # type: ignore[arg-type]
            space[f"{node}.{spec.name.removeprefix(f'{step}__')}"] = spec
    return space


def parse_space(space: Mapping[str, Mapping[str, Any]] | None, prefix: str = "") -> list[ParamSpec]:
    """Validate a declared space; `prefix` maps model keys to Pipeline keys (`model__`)."""
    specs = []
    for key, spec in (space or {}).items():
        name = f"{prefix}{key}"
        kind = spec.get("type")
        if kind not in KINDS:
            raise InputError(f"search space {name}: type must be one of {KINDS}, got {kind!r}")
        if kind == "categorical":
            choices = tuple(spec.get("choices") or ())
            if not choices:
                raise InputError(f"search space {name}: categorical needs a non-empty `choices`")
            specs.append(ParamSpec(name=name, kind=kind, choices=choices))
            continue
        low, high = spec.get("low"), spec.get("high")
        if low is None or high is None or not float(low) < float(high):
            raise InputError(f"search space {name}: needs low < high, got low={low}, high={high}")
        log = bool(spec.get("log", False))
        if log and float(low) <= 0:
            raise InputError(f"search space {name}: a log scale needs low > 0, got {low}")
        step = spec.get("step")
        specs.append(
            ParamSpec(
                name=name,
                kind=kind,
                low=float(low) if kind == "float" else int(low),
                high=float(high) if kind == "float" else int(high),
                log=log,
                step=None if step is None else (float(step) if kind == "float" else int(step)),
            )
        )
    return specs


def coerce(specs: list[ParamSpec], params: Mapping[str, Any]) -> dict[str, Any]:
    """Native Python values of the declared kinds (log-int draws floored, NumPy unwrapped)."""
    kinds = {spec.name: spec.kind for spec in specs}
    out = {}
    for name, value in params.items():
        if kinds.get(name) == "int":
            out[name] = int(np.floor(value))
        elif kinds.get(name) == "float":
            out[name] = float(value)
        else:
            out[name] = value.item() if isinstance(value, np.generic) else value
    return out
