"""settings.json `uploads`: how long a resumable upload's bytes wait on disk, within bounds, or the settings are
refused at load."""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest

from engine.errors import ConfigurationError
from engine.rules.settings import DEFAULT_SETTINGS_PATH, load_settings, parse_settings


def test_the_shipped_lifetime_is_a_day_with_its_basis():
    raw = json.loads(DEFAULT_SETTINGS_PATH.read_text(encoding="utf-8"))
    assert raw["uploads"]["max_age_hours"]["basis"]
    assert load_settings().upload_max_age == dt.timedelta(hours=24)


@pytest.mark.parametrize("hours", [0, 0.1, 24 * 31])
def test_a_lifetime_out_of_bounds_is_refused(hours):
    raw = copy.deepcopy(json.loads(DEFAULT_SETTINGS_PATH.read_text(encoding="utf-8")))
    raw["uploads"]["max_age_hours"]["value"] = hours
    with pytest.raises(ConfigurationError, match="uploads.max_age_hours"):
        parse_settings(raw)
