"""Formula text -> node tree, through a whitelist of Python expression syntax.

The text is parsed by Python's `ast` (never evaluated) and only these nodes are accepted:
numbers, names of inputs, ``+ - * /``, unary ``-``/``+`` and calls of the operators in
`OPERATORS` with positional arguments. Everything else (attributes, subscripts, comparisons,
keywords, strings, lambdas...) is refused with a one-line error that names the formula and the
column where the problem starts, so no formula can run Python code.

A time-series window must be an integer literal of at least the operator's minimum: a window
computed from data, or a negative one (``delay(x, -1)`` would read the next bar), could reach
future bars, so it is refused here, before any data is seen.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

from stockml.features.formulas.nodes import Arithmetic, Call, Constant, Input, Negate, Node
from stockml.features.formulas.operators import OPERATORS, Operator
from stockml.messages import InputError

_SYMBOLS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_SYNTAX_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Compare: "comparison",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if' expression",
    ast.Lambda: "lambda",
    ast.Pow: "'**'",
    ast.Mod: "'%'",
    ast.FloorDiv: "'//'",
    ast.MatMult: "'@'",
    ast.Not: "'not'",
    ast.Invert: "'~'",
    ast.Starred: "'*' unpacking",
}


def parse_formula(name: str, text: str, inputs: Mapping[str, int]) -> Node:
    """The node tree of ``text``; ``inputs`` maps every name it may read to that input's
    warm-up (0 for price columns, the feature's own for a preset feature)."""
    return _Parser(name, text, inputs).parse()


class _Parser:
    def __init__(self, name: str, text: str, inputs: Mapping[str, int]) -> None:
        self.name = name
        self.text = text
        # One line, so ast's column offsets are positions in what the error message shows.
        self.source = " ".join(text.split("\n")).strip() if isinstance(text, str) else ""
        self.inputs = inputs

    def parse(self) -> Node:
        if not self.source:
            raise InputError(f"formula {self.name!r}: expected a formula string, got {self.text!r}")
        try:
            tree = ast.parse(self.source, mode="eval")
        except SyntaxError as exc:
            column = exc.offset or 1
            raise InputError(self._where(column) + f"invalid syntax ({exc.msg})") from None
        return self._node(tree.body)

    def _where(self, column: int) -> str:
        return f"formula {self.name!r} = {self.source!r}, column {column}: "

    def _error(self, node: ast.AST, message: str) -> InputError:
        return InputError(self._where(getattr(node, "col_offset", 0) + 1) + message)

    def _node(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            return Constant(self._number(node))
        if isinstance(node, ast.Name):
            return self._input(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self._node(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(operand, Constant):
                return Constant(-operand.value)
            return Negate(operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _SYMBOLS:
            return Arithmetic(
                _SYMBOLS[type(node.op)], self._node(node.left), self._node(node.right)
            )
        if isinstance(node, ast.Call):
            return self._call(node)
        culprit = node.op if isinstance(node, ast.BinOp | ast.UnaryOp) else node
        what = _SYNTAX_NAMES.get(type(culprit), type(culprit).__name__)
        raise self._error(
            node,
            f"{what} is not supported; formulas use numbers, input names, + - * /, unary - "
            "and operator calls",
        )

    def _number(self, node: ast.Constant) -> float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, Real):
            raise self._error(node, f"{value!r} is not a number; only numbers may be literals")
        return float(value)

    def _input(self, node: ast.Name) -> Input:
        if node.id in self.inputs:
            return Input(node.id, self.inputs[node.id])
        if node.id in OPERATORS:
            raise self._error(
                node, f"{node.id!r} is an operator; call it as {OPERATORS[node.id].signature}"
            )
        raise self._error(
            node,
            f"unknown name {node.id!r}{_suggestion(node.id, self.inputs)}; valid names: "
            + ", ".join(self.inputs),
        )

    def _call(self, node: ast.Call) -> Call:
        if not isinstance(node.func, ast.Name):
            raise self._error(node, "only operators can be called, e.g. ts_mean(close, 20)")
        name = node.func.id
        operator = OPERATORS.get(name)
        if operator is None:
            raise self._error(
                node.func,
                f"unknown operator {name!r}{_suggestion(name, OPERATORS)}; valid "
                "operators: " + ", ".join(OPERATORS),
            )
        if node.keywords:
            raise self._error(node.keywords[0], f"{name}: arguments are positional only")
        expected = operator.arguments + operator.window
        if len(node.args) != expected:
            raise self._error(
                node, f"{operator.signature} takes {expected} arguments, got {len(node.args)}"
            )
        arguments = tuple(self._node(argument) for argument in node.args[: operator.arguments])
        if not operator.window:
            return Call(operator, arguments)
        return Call(operator, arguments, self._window(operator, node.args[-1]))

    def _window(self, operator: Operator, node: ast.expr) -> int:
        minimum = operator.min_window
        literal = _integer_literal(node)
        rule = f"{operator.signature}: n must be an integer literal >= {minimum}"
        if literal is None and isinstance(node, ast.Constant):
            raise self._error(node, f"{rule}, got {node.value!r}")
        if literal is None:
            raise self._error(node, f"{rule} (a window computed from data could read ahead)")
        if literal < minimum:
            why = " (a negative lag reads future bars)" if literal < 0 else ""
            raise self._error(node, f"{rule}, got {literal}{why}")
        return literal


def _integer_literal(node: ast.expr) -> int | None:
    """The value of an integer literal, optionally negated; None for anything else."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, Integral) and not isinstance(value, bool):
        return sign * int(value)
    return None


def _suggestion(name: str, valid: Sequence[str] | Mapping[str, object]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
