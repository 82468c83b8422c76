"""Python features: a user's own function of the panel, named in config by its import path.

A custom feature is recorded as a *path* (``myfeatures.overnight_gap``) plus a warm-up, never as
a function object: the path is what a Hydra override can carry, what MLflow's model metadata
(JSON) can store so `stockml-predict` rebuilds the feature without the run, and what pickles
by reference. So every form a user may write is normalised to `CustomFeature`:

- ``myfeatures.overnight_gap``: a bare path; the warm-up is the function's ``warmup``
  attribute, else 0 (leading NaNs are dropped with the rows anyway);
- ``{function: myfeatures.overnight_gap, warmup: 1}``: path and warm-up, the form a config
  file or a command line (`features.custom=[{function: ..., warmup: 1}]`) writes;
- ``{_target_: stockml.features.CustomFeature, function: ..., warmup: 1}``: the same, built
  by Hydra;
- a module-level function, from Python. A lambda or a nested function has no importable
  path, so it is refused when the builder is used, not when the model is saved.

Modules are imported from the directory the command was started in (Hydra's launch
directory), also when `hydra.job.chdir=true` moved the run elsewhere.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from stockml.messages import InputError

RECIPE_KEYS = frozenset({"function", "warmup"})
FeatureFunction = Callable[[pd.DataFrame], pd.DataFrame | pd.Series]


@dataclass(frozen=True)
class CustomFeature:
    """One user function of the panel and the leading rows per ticker it leaves undefined.

    ``function`` is an import path (``package.module.function``) or a module-level function;
    ``warmup`` None means the function's own ``warmup`` attribute, else 0.
    """

    function: str | FeatureFunction
    warmup: int | None = None

    @property
    def path(self) -> str:
        """The import path the feature is recorded under."""
        if isinstance(self.function, str):
            return self.function
        return f"{self.function.__module__}.{self.function.__qualname__}"

    def resolve(self) -> FeatureFunction:
        """The function, imported by path; a path that does not lead back to it is refused."""
        given = None if isinstance(self.function, str) else self.function
        if given is not None and "<" in self.path:  # <lambda>, outer.<locals>.inner
            raise InputError(
                f"custom feature {self.path}: a lambda or nested function has no import path; "
                "define it at the top level of a module"
            )
        function = import_function(self.path)
        if given is not None and function is not given:
            raise InputError(
                f"custom feature {self.path}: that name imports another object; "
                "define the function at the top level of its module"
            )
        return function

    def declared_warmup(self, function: FeatureFunction) -> int:
        warmup = self.warmup if self.warmup is not None else getattr(function, "warmup", 0)
        if not isinstance(warmup, Integral) or isinstance(warmup, bool) or warmup < 0:
            raise InputError(
                f"custom feature {self.path}: warmup must be an integer >= 0, got {warmup!r}"
            )
        return int(warmup)

    def recipe(self) -> dict[str, Any]:
        """Plain data that rebuilds this feature: `CustomFeature(**recipe)`."""
        return {"function": self.path, "warmup": self.warmup}


@dataclass(frozen=True)
class ResolvedFeature:
    """A custom feature ready to compute: its function and its warm-up."""

    path: str
    function: FeatureFunction
    warmup: int

    def compute(self, panel: pd.DataFrame) -> dict[str, np.ndarray]:
        """Column name -> float64 values on ``panel``'s rows, validated; infinities are NaN."""
        try:
            result = self.function(panel)
        except Exception as exc:
            raise InputError(
                f"custom feature {self.path} failed: {type(exc).__name__}: {exc}"
            ) from exc
        frame = self._frame(result)
        if not frame.index.equals(panel.index):
            raise InputError(
                f"custom feature {self.path}: returned {len(frame)} rows on another index than "
                f"the panel's {len(panel)}; return columns on panel.index"
            )
        columns = {}
        for name, column in frame.items():
            if not isinstance(name, str) or not name:
                raise InputError(
                    f"custom feature {self.path}: column names must be text, got {name!r}"
                )
            if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_complex_dtype(column):
                raise InputError(
                    f"custom feature {self.path}: column {name!r} is {column.dtype}, not numeric"
                )
            values = column.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            values[np.isinf(values)] = np.nan
            columns[name] = values
        if len(columns) != len(frame.columns):
            raise InputError(
                f"custom feature {self.path}: duplicate column names {list(frame.columns)}"
            )
        return columns

    def _frame(self, result: Any) -> pd.DataFrame:
        if isinstance(result, pd.Series):
            name = result.name if result.name is not None else self.path.rpartition(".")[2]
            return result.to_frame(name)
        if isinstance(result, pd.DataFrame) and len(result.columns):
            return result
        raise InputError(
            f"custom feature {self.path}: returned {type(result).__name__}"
            f"{' without columns' if isinstance(result, pd.DataFrame) else ''}; expected a "
            "DataFrame or Series on the panel's index"
        )


def custom_features(items: Any) -> list[CustomFeature]:
    """``features.custom`` in any of its forms (see the module docstring) as CustomFeatures."""
    if items is None:
        return []
    if isinstance(items, str | Mapping | CustomFeature) or callable(items):
        items = [items]
    features = []
    for item in items:
        if isinstance(item, CustomFeature):
            features.append(item)
        elif isinstance(item, str) or callable(item):
            features.append(CustomFeature(item))
        elif isinstance(item, Mapping) and "function" in item and set(item) <= RECIPE_KEYS:
            features.append(CustomFeature(item["function"], item.get("warmup")))
        else:
            raise InputError(
                "features.custom: each item is an import path (mymodule.myfeature) or "
                f"{{function: mymodule.myfeature, warmup: 20}}, got {item!r}"
            )
    return features


def resolve_all(features: list[CustomFeature]) -> list[ResolvedFeature]:
    resolved = []
    for feature in features:
        function = feature.resolve()
        resolved.append(ResolvedFeature(feature.path, function, feature.declared_warmup(function)))
    return resolved


def import_function(path: str) -> FeatureFunction:
    """The callable at ``package.module.name``, importing from the launch directory too."""
    module_name, _, name = path.rpartition(".")
    if not module_name or not name:
        raise InputError(f"custom feature {path!r}: expected an import path module.function")
    _add_launch_directory()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(
            f"custom feature {path}: cannot import {module_name!r} ({exc}); the module must be "
            f"importable from the launch directory {_launch_directory()}"
        ) from exc
    function = getattr(module, name, None)
    if not callable(function):
        raise InputError(f"custom feature {path}: module {module_name!r} has no function {name!r}")
    return function  # type: ignore[no-any-return]


def _launch_directory() -> str:
    """Where the command was started: Hydra's runtime.cwd inside a run, else the cwd."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return str(HydraConfig.get().runtime.cwd)
    return os.getcwd()


def _add_launch_directory() -> None:
    """Put the launch directory on the import path, as `python script.py` would.

    Appended, not prepended: a user's file named like an installed package must not shadow it.
    The `stockml` console script (unlike `python -m`) does not put the directory there, and
    `hydra.job.chdir=true` moves the working directory away from it.
    """
    directory = _launch_directory()
    if directory not in sys.path:
        sys.path.append(directory)
