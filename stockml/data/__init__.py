"""Market data: one panel form, loaders for the bundled sample, files and synthetic data."""

from stockml.data.schema import PRICE_COLUMNS, DataValidationError
from stockml.data.synthetic import synthetic_panel

__all__ = ["PRICE_COLUMNS", "DataValidationError", "synthetic_panel"]
