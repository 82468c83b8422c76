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
