"""Toy sweep target: a quadratic bowl in x and y that can be told to crash or return NaN."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> float | list[float]:
    x, y = float(cfg.x), float(cfg.y)
    # Not a config key, so a sweep slowed down this way resumes the same study problem.
    time.sleep(float(os.environ.get("QUADRATIC_SLEEP", "0")))
    if cfg.crash_above is not None and x > cfg.crash_above:
        raise RuntimeError(f"crash for x={x}")
    value = (x - 1.0) ** 2 + (y + 2.0) ** 2 + (0.0 if cfg.choice == "a" else 0.5)
    if cfg.nan_above is not None and x > cfg.nan_above:
        value = math.nan
    # The tests compare the sweep's results with what each job saw.
    Path(HydraConfig.get().runtime.output_dir, "value.txt").write_text(repr(value))
    if cfg.two_objectives:
        return [value, x + y]
    return value


if __name__ == "__main__":
    main()
