"""Compiled formulas: the named columns a `FeatureBuilder` adds from ``expressions``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from stockml.data.schema import PRICE_COLUMNS
from stockml.features.formulas.inputs import FormulaInputs
from stockml.features.formulas.nodes import Arithmetic, Call, Node
from stockml.features.formulas.parser import parse_formula
from stockml.features.spec import Feature
from stockml.messages import InputError


@dataclass(frozen=True)
class Formula:
    """One formula column: its name, text, parsed tree and the warm-up its operators imply."""

    name: str
    text: str
    root: Node

    @property
    def warmup(self) -> int:
        return self.root.warmup

    def evaluate(self, data: FormulaInputs) -> np.ndarray:
        """The formula's float64 values on every row of the panel (warm-up rows unmasked)."""
        with np.errstate(all="ignore"):  # NaN and inf are expected and masked by the caller
            return data.series(self.root.evaluate(data))


def compile_formulas(
    expressions: Mapping[str, str] | None, features: Sequence[Feature]
) -> list[Formula]:
    """Parse ``expressions`` (name -> formula) against the price columns and ``features``.

    A formula named like a preset feature would make two columns of one name, so it is refused.
    """
    if expressions is None:
        return []
    if not isinstance(expressions, Mapping):
        raise InputError(f"expressions must map column name -> formula, got {expressions!r}")
    warmups = {name: 0 for name in PRICE_COLUMNS} | {f.name: f.warmup for f in features}
    formulas = []
    for name, text in expressions.items():
        if not isinstance(name, str) or not name:
            raise InputError(
                f"expressions: a formula name must be a non-empty string, got {name!r}"
            )
        if name in warmups:
            raise InputError(
                f"formula {name!r}: the name is already a "
                f"{'price column' if name in PRICE_COLUMNS else 'preset feature'}; rename it"
            )
        formulas.append(Formula(name, text, parse_formula(name, text, warmups)))
    return formulas


def shared_subexpressions(formulas: Sequence[Formula]) -> frozenset[str]:
    """Keys of the computed subexpressions that occur more than once across ``formulas``:
    the ones worth keeping once computed."""
    counts = Counter(
        node.key
        for formula in formulas
        for node in _walk(formula.root)
        if isinstance(node, Arithmetic | Call)
    )
    return frozenset(key for key, count in counts.items() if count > 1)


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children():
        yield from _walk(child)
