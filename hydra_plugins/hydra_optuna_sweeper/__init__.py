"""The upstream plugin's class path, answered by stockml's sweeper (see optuna_sweeper.py)."""
