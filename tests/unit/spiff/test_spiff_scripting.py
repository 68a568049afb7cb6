"""The restricted environment refuses hostile model text, at load time and at run time."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.spiff.scripting import (
    RestrictedEnvironment,
    ScriptRejected,
    check_expression,
    check_script,
    majority,
)

HOSTILE = [
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('/etc/passwd').read()",
    "(lambda: 1)()",
    "[x for x in range(10)]",
    "{k: v for k, v in settings.items()}",
    "9**9**9",
    "getattr(settings, 'x')",
    "eval('1')",
    "settings.__class__",
    "case_officers.__len__()",
]


@pytest.fixture
def env(settings, calendar):
    return RestrictedEnvironment(lambda: dt.datetime(2026, 9, 14, 1, 0, tzinfo=dt.UTC), settings, calendar)


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expression_refused_at_load(expression):
    with pytest.raises(ScriptRejected):
        check_expression(expression)


@pytest.mark.parametrize("expression", HOSTILE)
def test_hostile_expression_refused_at_run_time(env, expression):
    with pytest.raises(ScriptRejected):
        env.evaluate(expression, {"settings": {"a": 1}, "case_officers": ["a"]})


def test_huge_values_refused_at_run_time(env):
    with pytest.raises(ScriptRejected):
        env.evaluate("n ** 2 ** 64 if False else 'a' * n", {"n": 10**9})


@pytest.mark.parametrize("script", [
    "import os", "def f():\n    pass", "x.y = 1", "for i in x:\n    pass", "while True:\n    pass",
    "class A:\n    pass", "try:\n    x = 1\nexcept Exception:\n    pass", "del x", "x = __import__('os')",
    "with x:\n    pass", "global x", "x = (y := 1)",
])
def test_hostile_script_refused_at_load(script):
    with pytest.raises(ScriptRejected):
        check_script(script)


def test_scripts_assign_names_subscripts_and_branch(env):
    data = {"fine": 100, "ballots": [{"vote": "penalty"}], "flags": {}}
    env.execute("total = fine * 2\ntotal += 1\nflags['late'] = total > 100\nif flags['late']:\n    note = 'x'\n"
                "else:\n    note = 'y'", data)
    assert data["total"] == 201 and data["flags"] == {"late": True} and data["note"] == "x"


def test_model_functions_use_the_engine_clock_and_calendar(env):
    assert env.evaluate("now()", {}) == "2026-09-14T01:00:00+00:00"
    # 5 working days from Mon 2026-09-28 skip the National Day holiday: 9/29, 9/30, 10/8, 10/9, 10/10 (调休)
    assert env.evaluate("due('statement_window', '2026-09-28T10:00:00+08:00')", {}) == "2026-10-10T15:59:59+00:00"
    assert env.evaluate("var('missing', 3) + len(xs)", {"xs": [1, 2]}) == 5
    # A date a person set (the supervisor's 办结期限) runs out with the agency's day, like a statutory deadline.
    assert env.evaluate("end_of_day(d)", {"d": "2026-12-31"}) == "2026-12-31T15:59:59+00:00"
    with pytest.raises(ValueError):
        env.evaluate("end_of_day(d)", {"d": "31/12/2026"})


def test_majority_needs_more_than_half_and_keeps_dissent():
    ballots = [{"member": "a", "vote": "penalty"}, {"member": "b", "vote": "penalty"},
               {"member": "c", "vote": "no_penalty_minor"}]
    result = majority(ballots)
    assert result["decision"] == "penalty" and [d["member"] for d in result["dissent"]] == ["c"]
    split = majority([{"vote": "a"}, {"vote": "b"}, {"vote": "c"}])
    assert split["decision"] == "none"
