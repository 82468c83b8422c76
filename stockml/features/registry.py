"""Every feature family by name: the single list that configs and error messages refer to."""

from __future__ import annotations

from types import MappingProxyType

from stockml.features import candles, oscillators, returns, statistics, trend, volatility, volume
from stockml.features.spec import Family
from stockml.messages import InputError

FAMILIES: MappingProxyType[str, Family] = MappingProxyType(
    {
        module.FAMILY.name: module.FAMILY
        for module in (returns, volatility, trend, oscillators, volume, candles, statistics)
    }
)


def get_family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise InputError(
            f"unknown feature family {name!r}; valid families: {', '.join(FAMILIES)}"
        ) from None
