"""stockml's own estimators, drop-in replacements for scikit-learn's that scale further."""

from stockml.models.ridge import Ridge

__all__ = ["Ridge"]
