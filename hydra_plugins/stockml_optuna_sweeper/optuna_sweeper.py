"""The Hydra Sweeper class: hands Hydra's launcher and config to stockml's Optuna sweep."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

# Registers `hydra/sweeper=optuna` even when Hydra imports this module first.
from hydra_plugins.stockml_optuna_sweeper import config as _config  # noqa: F401


class OptunaSweeper(Sweeper):
    """Sweeps with Optuna: each trial is one Hydra job run by the configured launcher."""

    def __init__(self, sampler: DictConfig, **settings: Any) -> None:
        self.sampler = sampler
        self.settings = settings
        self.hydra_context: HydraContext | None = None
        self.config: DictConfig | None = None
        self.launcher: Launcher | None = None
        self.task_function: TaskFunction | None = None

    def setup(
        self,
        *,
        hydra_context: HydraContext,
        task_function: TaskFunction,
        config: DictConfig,
    ) -> None:
        self.hydra_context = hydra_context
        self.config = config
        self.task_function = task_function
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        # Imported here, once per sweep: Hydra imports plugins for every command.
        from hydra.core.override_parser.overrides_parser import OverridesParser

        from stockml.tuning.optuna_sweep import SweepInterrupted, SweepRefused, run_sweep
        from stockml.tuning.sweep_observer import build_observers
        from stockml.tuning.sweep_plan import SweepSettings

        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        plain = OmegaConf.to_container(OmegaConf.create(self.settings), resolve=True)
        assert isinstance(plain, dict)
        observers = build_observers(plain.pop("observers", None) or [], self.config)
        try:
            settings = SweepSettings(sampler=self.sampler, **plain)
        except (TypeError, ValueError) as exc:
            raise SweepRefused(f"hydra.sweeper: {exc}") from None
        self._check_stockml_config()
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        launcher = self.launcher
        try:
            return run_sweep(
                settings,
                arguments,
                self.config,
                lambda batch, first_job: launcher.launch(batch, initial_job_idx=first_job),
                sweep_dir,
                OverridesParser.create(config_loader=self.hydra_context.config_loader),
                observers,
            )
        except KeyboardInterrupt as stop:
            # One line instead of Python's traceback; 130 is the shell's code for Ctrl-C.
            if not isinstance(stop, SweepInterrupted):  # before the first trial was asked
                stop = SweepInterrupted("stockml: sweep interrupted before any trial ran")
            sys.stderr.write(f"{stop}\n")
            raise SystemExit(130) from None

    def _check_stockml_config(self) -> None:
        """For stockml's own entry point, refuse a wrong config once, before any trial.

        Each trial would refuse it too, but only after launch, once per trial, until the
        failure budget stops the sweep. Other Hydra apps have their own config and no check.
        """
        if getattr(self.task_function, "__module__", None) != "stockml.cli":
            return
        from stockml.config_checks import check_config
        from stockml.errors import user_error_message
        from stockml.tuning.optuna_sweep import SweepRefused

        assert self.config is not None
        try:
            check_config(self.config, in_sweep=True)
        except Exception as exc:
            message = user_error_message(exc)
            if message is None:
                raise
            raise SweepRefused(message) from None
