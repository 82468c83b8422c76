"""stockml's Hydra sweeper on current Optuna: `hydra/sweeper=optuna`, upstream keys and grammar."""
