"""The web benchmark's own arithmetic: which requests count, and how their percentiles and rate come out."""

from __future__ import annotations

import pytest

from bench.web import Sample, percentile, summarise, virtual_logins


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]  # 1 … 100
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 51.0  # round(49.5) = 50 → the 51st value
    assert percentile([7.0], 0.95) == 7.0
    with pytest.raises(ValueError):
        percentile([], 0.95)


def test_summary_counts_the_window_only_and_times_successes_only():
    samples = [
        Sample("task_list", 0.5, 9_999.0, 200),  # warm-up: not counted
        *(Sample("task_list", 10.0 + i / 2, float(i), 200) for i in range(1, 21)),  # 1 … 20 ms
        Sample("task_list", 12.0, 5.0, 500),  # an error: counted in the rate, not in the latencies
        Sample("case_page", 15.0, 40.0, 200),
        Sample("case_page", 16.0, 300.0, 0),  # no answer at all
        Sample("case_page", 30.0, 1.0, 200),  # after the window
    ]
    result = summarise(samples, window_start=10.0, window_end=30.0)
    assert result["task_list_p95_ms"] == 19.0
    assert result["task_list_p50_ms"] == 11.0
    assert result["task_list_requests"] == 21
    assert result["case_page_p95_ms"] == 40.0
    assert result["case_page_requests"] == 2
    assert result["requests_per_s"] == round(23 / 20, 2)
    assert result["errors"] == 2
    assert result["error_statuses"] == {"0": 1, "500": 1}


def test_summary_without_successes_has_no_latency():
    result = summarise([Sample("case_page", 1.0, 3.0, 302)], 0.0, 10.0)
    assert result["case_page_p95_ms"] is None
    assert result["task_list_p95_ms"] is None
    assert result["errors"] == 1


def test_one_virtual_user_in_ten_is_a_head():
    officers = [f"o{i}" for i in range(50)]
    heads = [f"h{i}" for i in range(5)]
    logins = virtual_logins(50, officers, heads)
    assert len(logins) == len(set(logins)) == 50
    assert [u for u in logins if u.startswith("h")] == heads
    assert virtual_logins(3, officers, heads) == ["h0", "o0", "o1"]
