"""The declarative pieces every feature family is made of: a feature, an option, a family.

A family turns validated options into `Feature` objects before any data is seen, so feature
names and warm-up lengths are known up front: `get_feature_names_out` and the caller's "how much
history do I need" question never have to compute a single value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from stockml.messages import InputError

if TYPE_CHECKING:
    import numpy as np

    from stockml.features.panel import PanelArrays


@dataclass(frozen=True)
class Feature:
    """One output column.

    ``warmup`` is the number of leading rows of every ticker whose value is NaN because the
    windows behind it are not yet full; the builder masks exactly those rows, which is also what
    stops a rolling window computed on the long frame from reaching into the previous ticker.
    """

    name: str
    warmup: int
    compute: Callable[[PanelArrays], np.ndarray]


OptionValue = tuple[int, ...] | bool | int | float


@dataclass(frozen=True)
class Option:
    """A family option; its default's type says what a valid value looks like.

    A tuple default means "list of window lengths", each an integer >= ``minimum`` (some
    statistics need several observations, e.g. kurtosis needs four).
    """

    default: OptionValue
    minimum: float = 1

    def validate(self, family: str, key: str, value: Any) -> OptionValue:
        where = f"feature family {family!r}, option {key!r}"
        if isinstance(self.default, tuple):
            return _window_list(where, value, int(self.minimum))
        if isinstance(self.default, bool):
            if not isinstance(value, bool):
                raise InputError(f"{where}: expected true or false, got {value!r}")
            return value
        if isinstance(self.default, int):
            if not _is_int(value) or value < self.minimum:
                raise InputError(f"{where}: expected an integer >= {self.minimum}, got {value!r}")
            return int(value)
        if isinstance(value, bool) or not isinstance(value, Real) or not value > self.minimum:
            raise InputError(f"{where}: expected a number > {self.minimum}, got {value!r}")
        return float(value)


@dataclass(frozen=True)
class Family:
    """A named group of related features and the options that shape them."""

    name: str
    options: Mapping[str, Option]
    build: Callable[[Mapping[str, Any]], list[Feature]]

    def features(self, overrides: Mapping[str, Any]) -> list[Feature]:
        """Features for the defaults updated with ``overrides``; bad options raise InputError."""
        unknown = sorted(set(overrides) - set(self.options))
        if unknown:
            valid = ", ".join(sorted(self.options)) or "(none)"
            raise InputError(
                f"feature family {self.name!r}: unknown option(s) {unknown}; valid options: {valid}"
            )
        resolved = {
            key: option.validate(self.name, key, overrides.get(key, option.default))
            for key, option in self.options.items()
        }
        return self.build(resolved)


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _window_list(where: str, value: Any, minimum: int) -> tuple[int, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InputError(f"{where}: expected a list of integers >= {minimum}, got {value!r}")
    bad = [item for item in value if not _is_int(item) or item < minimum]
    if bad:
        raise InputError(
            f"{where}: windows must be integers >= {minimum}, got invalid {bad} in {list(value)}"
        )
    windows = tuple(int(item) for item in value)
    if len(set(windows)) != len(windows):
        raise InputError(f"{where}: duplicate windows in {list(windows)}")
    return windows
