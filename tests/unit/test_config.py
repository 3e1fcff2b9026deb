"""Settings are checked on construction: type and range, unknown names, with one clear message."""
from __future__ import annotations

import pytest

from insight.config import DriverConfig, InsightConfig, MAX_SEED
from insight.errors import ConfigError


def test_every_setting_round_trips_through_a_dict():
    config = InsightConfig(seed=MAX_SEED).replace(drivers__covariates=("plan",), segments__columns=("region",))
    assert InsightConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda: InsightConfig().replace(seed=-1), "seed must be a whole number between 0 and 4,294,967,295"),
    (lambda: InsightConfig().replace(seed=MAX_SEED + 1), "seed"),
    (lambda: InsightConfig().replace(ingest__max_bytes=-5), "ingest.max_bytes must be a whole number >= 1, got -5"),
    (lambda: DriverConfig(alpha=1.0), "drivers.alpha must be a number > 0 and < 1"),
    (lambda: DriverConfig(min_support=True), "drivers.min_support must be a whole number, got True"),
    (lambda: InsightConfig().replace(themes__mode="cluster"), "one of 'auto', 'codeframe', 'discover'"),
    (lambda: InsightConfig.from_dict({"drivers": {"covariates": ["plan", 3]}}), "drivers.covariates must be a list of texts"),
    (lambda: InsightConfig.from_dict({"ingst": {}}), "Unknown section or setting 'ingst'"),
    (lambda: InsightConfig.from_dict({"text": {"split": True}}), "Unknown setting 'split' in [text]"),
    (lambda: InsightConfig.from_dict({"text": True}), "[text] must be a table of settings"),
    (lambda: InsightConfig.from_dict({"ingst": {}}), "Did you mean 'ingest'?"),
    (lambda: InsightConfig.from_dict({"drivers": {"alpah": 0.1}}), "Did you mean 'alpha'?"),
    (lambda: InsightConfig().replace(sede=1), "Unknown section or setting 'sede'. Did you mean 'seed'?"),
    (lambda: InsightConfig().replace(drivers__alpah=0.1), "Unknown setting 'alpah' in [drivers]. Did you mean 'alpha'?"),
])
def test_a_bad_setting_is_one_config_error_naming_it(make, fragment):
    with pytest.raises(ConfigError) as info:
        make()
    assert fragment in info.value.one_line() and info.value.one_line().startswith("[I111]")
