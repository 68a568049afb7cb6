"""`casetrail` and provisional deadlines: the lines are marked, `--json` carries the flag and stays JSON, a warning
goes to stderr whenever a command shows or computes a deadline in a year without a known holiday schedule, and
`casetrail calendar schedule` enters the year's schedule in one go.

Today is Sunday 2026-12-06; 2027's notice is in no package (docs/calendar.md).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.demo import SCENARIOS, pick_actor, play
from engine.demo_users import DEMO_PIN
from engine.spiff.driving import Context, resolve, sample_form_data
from engine.usecases.cases import case_data
from engine.usecases.tasks import list_tasks, show_task
from engine.values import fixed_clock
from tests.conftest import at

TODAY = at("2026-12-06 09:00")
SCENARIO = SCENARIOS["penalty_waiver"]
STEPS = [s.spec_id for s in SCENARIO.steps]
# TEST DATA — not the State Council's 2027 notice, which no source carries yet: Monday 2027-03-08 off.
TEST_SCHEDULE = ("2027", "--reference", "测试数据 TEST-2027（非真实通知 not a real notice）",
                 "--off", "2027-01-01,2027-03-08", "--work", "2027-03-13", "--user", "admin")
WARNING = "2027 年放假安排尚未录入"


@pytest.fixture
def cli(ready_svc):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False,
                               obj={"svc": ready_svc, "clock": fixed_clock(TODAY)})
        assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def filed(ready_svc):
    return play(ready_svc, SCENARIO, start=TODAY, stop_before=STEPS.index("investigation_report")).case


def test_task_list_and_case_show_mark_the_2027_deadline_and_warn_on_stderr(cli, filed):
    listed = cli("task", "list", "--case", filed.number, "--json")
    [task] = json.loads(listed.stdout)  # stdout is JSON only
    assert (task["spec_id"], task["due_at"][:10], task["provisional"]) == ("investigation_report", "2027-03-08", True)
    assert WARNING in listed.stderr and "provisional" in listed.stderr
    text = cli("task", "list", "--case", filed.number)
    assert "(暂定 provisional: 2027)" in text.stdout and WARNING in text.stderr
    shown = cli("case", "show", filed.number, "--json")
    case = json.loads(shown.stdout)
    [decision] = [d for d in case["deadlines"] if d["task_id"] is None]
    assert (decision["due_at"][:10], decision["provisional"], decision["uncovered_years"]) == ("2027-03-08", True, [2027])
    assert [t["provisional"] for t in case["open_tasks"]] == [True]
    assert shown.stderr.count(WARNING) == 1  # once per command, however many deadlines
    assert "deadline 作出行政处罚决定: 2027-03-08 (暂定 provisional: 2027)" in cli("case", "show", filed.number).stdout


def test_a_command_that_computes_a_2027_deadline_warns(cli, ready_svc):
    last = STEPS.index("investigation_report") - 1  # its completion offers the report, under the 90-day clock
    played = play(ready_svc, SCENARIO, start=TODAY, stop_before=last)
    assert ready_svc.calendar_store.warnings == []  # nothing was counted into 2027 yet
    step = SCENARIO.steps[last]
    [ready] = [t for t in list_tasks(ready_svc, case=played.case.number) if t.spec_id == step.spec_id]
    task = show_task(ready_svc, ready.id)
    ctx = Context(TODAY, case_data(ready_svc, played.case.number), ready_svc.settings, ready_svc.calendar)
    data = sample_form_data(task.form_schema, resolve(step.overrides, ctx), now=TODAY)
    result = cli("task", "complete", task.id, "--user", pick_actor(task, step), "--data", "-", "--pin", DEMO_PIN,
                 "--json", input=json.dumps(data, ensure_ascii=False))
    assert json.loads(result.stdout)["status"] == "completed"
    assert WARNING in result.stderr  # the decision clock (立案 today + 90 days) was counted into 2027


def test_calendar_schedule_enters_the_year_and_the_marks_and_warnings_go(cli, filed):
    entered = json.loads(cli("calendar", "schedule", *TEST_SCHEDULE, "--json").stdout)
    assert (entered["complete"], entered["days_off"], entered["workdays"]) == (
        True, ["2027-01-01", "2027-03-08"], ["2027-03-13"])
    assert [(m["case"], m["before"][:10], m["after"][:10]) for m in entered["moved"]] == [
        (filed.number, "2027-03-08", "2027-03-09")]
    listed = cli("task", "list", "--case", filed.number, "--json")
    [task] = json.loads(listed.stdout)
    assert (task["due_at"][:10], task["provisional"]) == ("2027-03-09", False)
    assert listed.stderr == ""
    assert cli("case", "show", filed.number).stderr == ""
    coverage = {c["year"]: c for c in json.loads(cli("calendar", "coverage", "--json").stdout)}
    assert (coverage[2026]["coverage"], coverage[2027]["coverage"]) == ("official", "schedule")
    assert coverage[2027]["reference"].startswith("测试数据")


def test_calendar_coverage_names_the_year_that_is_needed(cli):
    result = cli("calendar", "coverage")
    assert "2027  none" in result.stdout and "(needed)" in result.stdout
