"""bench/province.py on a tiny province: the set-based population holds together and the timings come out, on
SQLite and, when CASETRAIL_TEST_POSTGRES_URL is set, on PostgreSQL (the benchmark's own backend: it makes and
drops a schema of its own there)."""

from __future__ import annotations

import os

import pytest

from bench.province import run
from tests.dbtemplates import TEST_KDF_COST, TEST_PASSWORD_COST

BACKENDS = [None, *([os.environ["CASETRAIL_TEST_POSTGRES_URL"]] if os.environ.get("CASETRAIL_TEST_POSTGRES_URL")
                    else [])]


@pytest.mark.parametrize("url", BACKENDS, ids=lambda u: "postgresql" if u else "sqlite")
def test_a_tiny_province_is_built_and_timed(url: str | None) -> None:
    result = run(url, 300, 30, 2, stops=("preliminary_check",), kdf_cost=TEST_KDF_COST,
                 password_cost=TEST_PASSWORD_COST)
    # Registered over three years: some of the 300 cases in the eleven months timed, not all.
    assert 0 < result["indicators_province"]["received"] < 300
    assert result["indicators_province"]["rows"] == 17  # the province's own row and its 16 cities
    assert result["indicators_district"]["rows"] == 1
    assert result["officer_task_list"]["tasks"] > 0
    for part in ("indicators_province", "indicators_city", "indicators_district", "officer_task_list"):
        assert result[part]["p95_ms"] >= result[part]["p50_ms"] > 0
