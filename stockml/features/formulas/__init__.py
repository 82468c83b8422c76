"""Formula features: ``{"mom_rank": "cs_rank(close / delay(close, 20) - 1)"}`` -> a column.

`parser` turns text into a node tree through a whitelisted grammar (no Python is ever run),
`operators` holds the vectorised operators, `nodes` the tree that evaluates itself over the
whole panel, and `formula` the compiled formulas a `FeatureBuilder` appends to its preset.
"""

from stockml.features.formulas.formula import Formula, compile_formulas, shared_subexpressions
from stockml.features.formulas.inputs import FormulaInputs
from stockml.features.formulas.operators import OPERATORS

__all__ = ["OPERATORS", "Formula", "FormulaInputs", "compile_formulas", "shared_subexpressions"]
