"""A tiny Hydra app with the job store callback, standing in for `stockml` in callback tests.

It writes a metrics.json shaped like stockml's into its output directory and returns `value`;
`fail=true` makes it raise instead; `sleep=S` makes it take S seconds first.
"""

import json
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> float:
    time.sleep(cfg.sleep)
    if cfg.fail:
        raise RuntimeError("the model diverged")
    metrics = {
        "optimized_metric": "cv_ic_mean",
        "value": cfg.value,
        "mlflow_run_id": f"mlflow-{cfg.value}",
        "cv": {"ic": {"mean": cfg.value, "std": 0.01}},
        "holdout": {"ic": cfg.value / 2},
        "baseline": {"zero": {"ic": 0.0}, "train_mean": {"ic": 0.0}},
    }
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    (output_dir / "metrics.json").write_text(json.dumps(metrics))
    return float(cfg.value)


if __name__ == "__main__":
    main()
