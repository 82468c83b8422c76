"""stockml: declarative, config-driven experiments for machine learning on stock market data.

The package root stays import-light on purpose: the CLI's start-up time is part of every
sweep trial, so heavy libraries (MLflow, Optuna) are imported only where they are used.
"""

__version__ = "0.1.0"
