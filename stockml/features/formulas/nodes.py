"""The parsed form of a formula: a tree of nodes that knows its warm-up and evaluates itself.

Nodes are built only by `stockml.features.formulas.parser`, which has already checked every
name and window, so evaluation cannot meet anything it does not know. Every node has a
``key`` (its canonical text), by which subexpressions shared between formulas are computed
once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stockml.features import kernels
from stockml.features.formulas.inputs import FormulaInputs
from stockml.features.formulas.operators import Operand, Operator

Value = np.ndarray | float


@dataclass(frozen=True)
class Constant:
    value: float
    warmup: int = 0

    @property
    def key(self) -> str:
        return repr(self.value)

    def children(self) -> tuple[Node, ...]:
        return ()

    def evaluate(self, data: FormulaInputs) -> Value:
        return self.value


@dataclass(frozen=True)
class Input:
    """A price column or a preset feature, which brings its own warm-up."""

    name: str
    warmup: int

    @property
    def key(self) -> str:
        return self.name

    def children(self) -> tuple[Node, ...]:
        return ()

    def evaluate(self, data: FormulaInputs) -> Value:
        return data.column(self.name)


@dataclass(frozen=True)
class Negate:
    operand: Node

    @property
    def warmup(self) -> int:
        return self.operand.warmup

    @property
    def key(self) -> str:
        return f"(-{self.operand.key})"

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)

    def evaluate(self, data: FormulaInputs) -> Value:
        return -self.operand.evaluate(data)


@dataclass(frozen=True)
class Arithmetic:
    """``left symbol right`` for one of + - * /; division by zero gives NaN, never inf."""

    symbol: str
    left: Node
    right: Node

    @property
    def warmup(self) -> int:
        return max(self.left.warmup, self.right.warmup)

    @property
    def key(self) -> str:
        return f"({self.left.key} {self.symbol} {self.right.key})"

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)

    def evaluate(self, data: FormulaInputs) -> Value:
        return data.remember(self.key, lambda: self._compute(data))

    def _compute(self, data: FormulaInputs) -> Value:
        left, right = self.left.evaluate(data), self.right.evaluate(data)
        if self.symbol == "+":
            return left + right
        if self.symbol == "-":
            return left - right
        if self.symbol == "*":
            return left * right
        if not isinstance(right, np.ndarray):
            return left / right if right != 0 else np.nan
        return kernels.ratio(left, right)


@dataclass(frozen=True)
class Call:
    """An operator applied to its series arguments and, for time-series operators, a window."""

    operator: Operator
    arguments: tuple[Node, ...]
    window: int | None = None

    @property
    def warmup(self) -> int:
        return self.operator.warmup([node.warmup for node in self.arguments], self.window)

    @property
    def key(self) -> str:
        parts = [node.key for node in self.arguments]
        parts += [] if self.window is None else [str(self.window)]
        return f"{self.operator.name}({', '.join(parts)})"

    def children(self) -> tuple[Node, ...]:
        return self.arguments

    def evaluate(self, data: FormulaInputs) -> Value:
        return data.remember(self.key, lambda: self._compute(data))

    def _compute(self, data: FormulaInputs) -> np.ndarray:
        operands = [
            Operand(data.series(node.evaluate(data)), node.warmup) for node in self.arguments
        ]
        extra = () if self.window is None else (self.window,)
        return self.operator.compute(data, *operands, *extra)


Node = Constant | Input | Negate | Arithmetic | Call
