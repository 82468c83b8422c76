"""MLflow tracking: one run's record (`run_logging`), and the links that tie a sweep's runs
together (a parent run per sweep, nested trial runs, the study's results at the end).

Nothing here imports MLflow at import time (about two seconds of start-up): Hydra loads the
sweep callback for every command, and `tracking.enabled=false` runs never pay for MLflow.
"""
