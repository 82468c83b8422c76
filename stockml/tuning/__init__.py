"""Hyperparameter search for stockml, including the Optuna sweep behind its Hydra sweeper."""
