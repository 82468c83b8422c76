"""Overrides applied to a recorded (fully composed) config."""

from __future__ import annotations

import pytest

from stockml.config import ConfigError
from stockml.lifecycle.snapshot import refuse_group_choices


@pytest.mark.parametrize("override", ["features=minimal", "model=lasso", "+cv=expanding"])
def test_choosing_a_group_option_on_a_recorded_config_is_refused(override: str) -> None:
    key = override.lstrip("+").split("=")[0]
    with pytest.raises(ConfigError, match=rf"change its values instead \(e\.g\. {key}\.<key>"):
        refuse_group_choices([override])


def test_value_overrides_are_accepted() -> None:
    refuse_group_choices(["data.end=2012-12-31", "features.preset=full", "model.alpha=3", "seed=2"])


def test_lifecycle_commands_report_data_errors_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    from stockml.lifecycle.cli import predict_main

    monkeypatch.chdir(tmp_path)
    code = predict_main(["model=runs:/0/model", "data=csv", "data.path=nodir"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("stockml-predict: error: ")
    assert "nodir: no such file or directory" in err and "Traceback" not in err


def test_retrain_refuses_rolling_options_without_rolling(capsys) -> None:
    from stockml.lifecycle.cli import retrain_main

    with pytest.raises(SystemExit) as stopped:
        retrain_main(["RUN", "model.alpha=3", "--step", "21"])
    assert stopped.value.code == 2
    assert "--step only apply with --rolling" in capsys.readouterr().err


def test_a_recorded_config_is_recomposed_with_the_hydra_settings_group(tmp_path) -> None:
    from omegaconf import OmegaConf

    from stockml.config import CONFIG_NAME, compose_config, hydra_settings
    from stockml.lifecycle.snapshot import RunSnapshot, compose_snapshot, config_dir_for

    # What a run saved as .hydra/config.yaml: the composed task config, no `hydra:` node.
    composed = compose_config([f"paths.output_root={tmp_path}", "model.alpha=3"])
    recorded = OmegaConf.create(OmegaConf.to_yaml(composed))
    snapshot = RunSnapshot("run", recorded, metrics=None, run_id=None, fingerprint=None)
    cfg = compose_snapshot(snapshot, ["tracking.enabled=false"])
    assert cfg.model.alpha == 3 and cfg.tracking.enabled is False
    keys = [key for key in recorded if key != "tracking"]
    assert OmegaConf.masked_copy(cfg, keys) == OmegaConf.masked_copy(recorded, keys)
    with config_dir_for(snapshot) as folder:
        primary = OmegaConf.load(folder / f"{CONFIG_NAME}.yaml")
    assert primary.hydra == hydra_settings()  # run/sweep dirs and the recording callbacks
