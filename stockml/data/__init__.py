"""Market data: one panel form, loaders for the bundled sample, files and synthetic data."""

from stockml.data.fingerprint import fingerprint
from stockml.data.loaders import load_dataset, load_files, load_sample
from stockml.data.schema import PRICE_COLUMNS, DataValidationError
from stockml.data.synthetic import synthetic_panel
from stockml.data.validate import MISSING_POLICIES, require_history

__all__ = [
    "MISSING_POLICIES",
    "PRICE_COLUMNS",
    "DataValidationError",
    "fingerprint",
    "load_dataset",
    "load_files",
    "load_sample",
    "require_history",
    "synthetic_panel",
]
