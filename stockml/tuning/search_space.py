"""Hydra's sweep override grammar turned into Optuna distributions, and trial params back.

Configs written for the upstream Hydra Optuna sweeper must keep working, so the grammar is
Hydra's own (parsed by Hydra's OverridesParser) and only its meaning for Optuna is decided
here: `range` keeps Python's end exclusion in every sampler, `interval` is continuous,
`int(interval)` is integer with both ends included, and `tag(log, ...)` samples on a log scale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    Quote,
    QuotedString,
    RangeSweep,
)
from hydra.errors import HydraException
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

LOG_TAG = "log"
_PLAIN_STRING = re.compile(r"[A-Za-z_][\w\-./]*")
_KEYWORDS = frozenset({"true", "false", "null", "nan", "inf"})
GridSpace = dict[str, list[Any]]


class SearchSpaceError(ValueError):
    """A sweep parameter that cannot become an Optuna distribution; names the override."""


@dataclass(frozen=True)
class SearchSpace:
    """What Optuna samples, what stays fixed, and how sampled values go back on the command line.

    `choice_strings` keeps each choice's override text, so a sampled choice such as a quoted
    string or a list is passed to the job exactly as the user wrote it.
    """

    distributions: dict[str, BaseDistribution]
    fixed: tuple[str, ...]
    choice_strings: dict[str, tuple[str, ...]]
    ranges: tuple[str, ...] = ()  # overrides written as range(...), whose end is excluded
    declared: tuple[str, ...] = ()  # names taken from the config's declared search_space

    def overrides(self, params: Mapping[str, Any]) -> list[str]:
        """The job's override list for a trial's params (those of a custom search space too)."""
        lines = [f"{name}={self._render(name, value)}" for name, value in params.items()]
        return lines + list(self.fixed)

    def grid(self) -> GridSpace:
        """The grid sampler's search space: every value of every discrete parameter."""
        return {name: _grid_values(name, dist) for name, dist in self.distributions.items()}

    def with_choices(self, grid: GridSpace) -> SearchSpace:
        """This space plus a choice for each grid parameter it lacks (a configured grid)."""
        extra = {
            name: CategoricalDistribution(values)
            for name, values in grid.items()
            if name not in self.distributions
        }
        return replace(self, distributions={**self.distributions, **extra})

    def _render(self, name: str, value: Any) -> str:
        strings = self.choice_strings.get(name)
        if strings is None:
            return render_value(value)
        distribution = self.distributions[name]
        assert isinstance(distribution, CategoricalDistribution)
        return strings[int(distribution.to_internal_repr(value))]


def render_value(value: Any) -> str:
    """A value as Hydra override text that parses back to the same value and type.

    Strings that Hydra would read as something else (numbers, `true`, `null`, text with
    commas or spaces) are single-quoted, so choice('1', 2) keeps '1' a string.
    """
    if isinstance(value, str):
        if _PLAIN_STRING.fullmatch(value) and value.lower() not in _KEYWORDS:
            return value
        return QuotedString(text=value, quote=Quote.single).with_quotes()
    if isinstance(value, QuotedString):
        return value.with_quotes()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ",".join(render_value(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{render_value(k)}:{render_value(v)}" for k, v in value.items())
        return "{" + ",".join(items) + "}"
    return str(value)


def build_search_space(
    params: Mapping[str, str] | None,
    arguments: Sequence[str],
    parser: OverridesParser | None = None,
    declared: Mapping[str, BaseDistribution] | None = None,
) -> SearchSpace:
    """Combine the `params` config with command-line overrides (the command line wins).

    `declared` (the config's own `search_space`, by config key) fills in every key that
    neither sets, unless the config group holding it is swept (its space would differ per
    option) or the key is fixed on the command line.
    """
    lines = [f"{key}={value}" for key, value in (params or {}).items()]
    lines.extend(arguments)
    parser = parser or OverridesParser.create()
    try:
        parsed = parser.parse_overrides(lines)
    except HydraException as exc:
        raise SearchSpaceError(f"bad sweep override: {exc}") from exc

    by_key: dict[str, Override] = {}
    for override in parsed:
        key = override.key_or_group if override.package is None else override.get_key_element()
        by_key.pop(key, None)
        by_key[key] = override

    distributions: dict[str, BaseDistribution] = {}
    choice_strings: dict[str, tuple[str, ...]] = {}
    fixed: list[str] = []
    ranges: list[str] = []
    for override in by_key.values():
        if not override.is_sweep_override():
            assert override.input_line is not None
            fixed.append(override.input_line)
            continue
        name = override.get_key_element()
        distributions[name] = to_distribution(override)
        if override.is_choice_sweep():
            choice_strings[name] = _choices(override)[1]
        if isinstance(override.value(), RangeSweep):
            ranges.append(override.input_line or name)
    swept_groups = {key for key, o in by_key.items() if o.is_sweep_override()}
    added = [
        key
        for key in declared or {}
        if key not in by_key and not any(key.startswith(f"{group}.") for group in swept_groups)
    ]
    distributions.update({key: (declared or {})[key] for key in added})
    return SearchSpace(distributions, tuple(fixed), choice_strings, tuple(ranges), tuple(added))


def to_distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override (choices included, fixed values not)."""
    sweep = override.value()
    try:
        if override.is_choice_sweep():
            if isinstance(sweep, ChoiceSweep) and LOG_TAG in sweep.tags:
                raise ValueError("tag(log) needs a range or an interval, not a choice")
            return CategoricalDistribution(_choices(override)[0])
        if isinstance(sweep, RangeSweep):
            return _range_distribution(sweep)
        if isinstance(sweep, IntervalSweep):
            return _interval_distribution(sweep)
    except (ValueError, HydraException) as exc:
        raise SearchSpaceError(f"{override.input_line}: {exc}") from exc
    raise SearchSpaceError(f"{override.input_line}: not a sweep (choice, range or interval)")


def _choices(override: Override) -> tuple[list[Any], tuple[str, ...]]:
    """Optuna-storable choices and their override text; lists and dicts are stored as text."""
    sweep = override.value()
    if not isinstance(sweep, ChoiceSweep):  # a glob over a config group: option names
        names = list(override.sweep_string_iterator())
        return names, tuple(names)
    choices: list[Any] = []
    strings: list[str] = []
    for element in sweep.list:
        if isinstance(element, QuotedString):
            element = element.text
        text = render_value(element)
        if isinstance(element, list | dict):
            choices.append(text)
        else:
            choices.append(element)
        strings.append(text)
    return choices, tuple(strings)


def _range_distribution(sweep: RangeSweep) -> BaseDistribution:
    """range(a, b, step) holds a, a+step, ... strictly before b, as in Python and Hydra."""
    log = LOG_TAG in sweep.tags
    values = sweep.range()
    if isinstance(values, range):
        if len(values) == 0:
            raise ValueError("empty range")
        low, high = sorted((values[0], values[-1]))
        return IntDistribution(low, high, log=log, step=abs(values.step))
    start, stop, step = (Decimal(v) for v in (sweep.start, sweep.stop, sweep.step))
    if step == 0:
        raise ValueError("range step must not be 0")
    count = math.ceil((stop - start) / step)
    if count <= 0:
        raise ValueError("empty range")
    low, high = sorted((float(start), float(start + (count - 1) * step)))
    if log:
        raise ValueError("tag(log) on a float range: Optuna cannot step on a log scale")
    return FloatDistribution(low, high, step=float(abs(step)))


def _interval_distribution(sweep: IntervalSweep) -> BaseDistribution:
    log = LOG_TAG in sweep.tags
    assert sweep.start is not None and sweep.end is not None
    if sweep.start > sweep.end:
        raise ValueError("interval start is after its end")
    if isinstance(sweep.start, int) and isinstance(sweep.end, int):
        return IntDistribution(sweep.start, sweep.end, log=log)
    return FloatDistribution(float(sweep.start), float(sweep.end), log=log)


def _grid_values(name: str, distribution: BaseDistribution) -> list[Any]:
    if isinstance(distribution, CategoricalDistribution):
        return list(distribution.choices)
    if isinstance(distribution, IntDistribution):
        return list(range(distribution.low, distribution.high + 1, distribution.step))
    if isinstance(distribution, FloatDistribution) and distribution.step is not None:
        return _float_steps(distribution.low, distribution.high, distribution.step)
    raise SearchSpaceError(
        f"the grid sampler needs a finite set of values for '{name}', not a continuous "
        f"interval; use choice(...) or range(start, stop, step)"
    )


def _float_steps(low: float, high: float, step: float) -> list[float]:
    """Stepped floats computed in decimal, so 0.1 steps give 0.3, not 0.30000000000000004."""
    start, stride = Decimal(str(low)), Decimal(str(step))
    count = int((Decimal(str(high)) - start) / stride + Decimal("0.5")) + 1
    return [float(start + i * stride) for i in range(count)]


def grid_size(grid: GridSpace) -> int:
    """How many points the grid has: the product of its value counts."""
    size = 1
    for values in grid.values():
        size *= len(values)
    return size


def grid_points(params: Iterable[Mapping[str, Any]], grid: GridSpace) -> set[tuple[Any, ...]]:
    """The distinct grid points among these trials' params (others are ignored)."""
    names = list(grid)
    points = set()
    for trial_params in params:
        if all(name in trial_params and trial_params[name] in grid[name] for name in names):
            points.add(tuple(trial_params[name] for name in names))
    return points
