"""What a case shows is what was signed: copies edited in the database are not shown, and `verify` names them.

A step's record is signed; the tables the pages, lists and /public read (case_events, tasks, cases,
publications) hold copies of what it says. Each copy is edited here with plain SQL, as anyone with database
access could.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, bindparam, text

from engine.cli import main
from engine.demo import SCENARIOS, play
from engine.spiff.driving import TIMER
from engine.usecases.audit import verify_cases
from engine.usecases.casefile import case_file
from engine.usecases.cases import show_case
from engine.values import CaseView, fixed_clock
from signatures.report import CaseReport, Check
from tests.conftest import at

AUDIT_TIME = at("2026-12-01 09:00")  # after every step played here
FORGED_FINE = 987654321.5  # values that cannot occur by chance in a page or a report
FORGED_TEXT = "篡改后的内容"
SIGNED_FINE = 3000
SIGNED_PARTY = "呈州市丽人美容店"


@pytest.fixture
def published(ready_svc) -> CaseView:
    """A penalty decided (fine 3000), published and closed."""
    return play(ready_svc, SCENARIOS["penalty_waiver"], start=at("2026-09-14 09:00")).case


def _sql(svc, statement: str, **params: Any) -> int:
    query = text(statement)
    if "detail" in params or "form" in params:
        query = query.bindparams(*(bindparam(k, type_=JSON) for k in ("detail", "form") if k in params))
    with svc.engine.begin() as conn:
        return conn.execute(query, params).rowcount


def _cli(svc, *args: str):
    return CliRunner().invoke(main, list(args), obj={"svc": svc, "clock": fixed_clock(AUDIT_TIME)},
                              catch_exceptions=False)


def _verify(svc, case: CaseView) -> CaseReport:
    (report,) = verify_cases(svc, [case.number], clock=fixed_clock(AUDIT_TIME))
    return report


def _seq_of(svc, case: CaseView, spec_id: str) -> int:
    with svc.engine.connect() as conn:
        return conn.execute(text("SELECT seq FROM step_records WHERE case_id = :c AND task_spec_id = :s"),
                            {"c": case.id, "s": spec_id}).scalar_one()


def _projection_failures(report: CaseReport) -> list[tuple[int | None, str]]:
    return [(f.seq, f.reason) for f in report.failures() if f.check is Check.PROJECTION]


def _named(failures: list[tuple[int | None, str]], seq: int | None, what: str) -> bool:
    return any(s == seq and r.startswith(what + " ") for s, r in failures)


def _decision(svc, case: CaseView) -> tuple[int, str, dict[str, Any]]:
    """(seq, task id, detail) of the decision step's record and its event."""
    with svc.engine.connect() as conn:
        task_id = conn.execute(text("SELECT task_id FROM step_records WHERE case_id = :c AND task_spec_id = "
                                    "'make_decision'"), {"c": case.id}).scalar_one()
        detail = conn.execute(text("SELECT detail FROM case_events WHERE case_id = :c AND kind = 'completed' AND "
                                   "task_id = :t").columns(detail=JSON), {"c": case.id, "t": task_id}).scalar_one()
    return _seq_of(svc, case, "make_decision"), task_id, detail


def test_an_untouched_case_verifies_and_every_edited_copy_is_named_by_step_table_and_field(ready_svc, published):
    before = _verify(ready_svc, published)
    assert before.ok, before.first_failure
    assert before.case_check(Check.PROJECTION).passed
    assert _cli(ready_svc, "verify", published.number).exit_code == 0

    seq, task_id, detail = _decision(ready_svc, published)
    assert detail["form_data"]["final_fine"] == SIGNED_FINE
    _sql(ready_svc, "UPDATE case_events SET detail = :detail WHERE task_id = :t AND kind = 'completed'",
         detail={"form_data": {**detail["form_data"], "final_fine": FORGED_FINE}}, t=task_id)
    _sql(ready_svc, "UPDATE tasks SET form_data = :form, completed_by = 'officer2', completed_at = :when WHERE id = :t",
         form={**detail["form_data"], "final_fine": FORGED_FINE}, when=at("2030-01-01 09:00"), t=task_id)
    assert _sql(ready_svc, "UPDATE publications SET summary = :s WHERE case_id = :c", s=FORGED_TEXT,
                c=published.id) == 1
    _sql(ready_svc, "UPDATE cases SET respondent = :s WHERE id = :c", s=FORGED_TEXT, c=published.id)

    failures = _projection_failures(_verify(ready_svc, published))
    release = _seq_of(ready_svc, published, "release_publication")
    assert _named(failures, seq, "case_events.detail.form_data.final_fine")
    assert _named(failures, seq, "tasks.form_data.final_fine")
    assert _named(failures, seq, "tasks.completed_by")
    assert _named(failures, seq, "tasks.completed_at")
    assert _named(failures, release, "publications.summary")
    assert _named(failures, 1, "cases.respondent")
    assert len(failures) == 6, failures

    result = _cli(ready_svc, "verify", published.number)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"case {published.number}: INVALID"
    step = lines.index(f"  step {seq} make_decision by head: FAILED")
    block = []  # the step's failed checks: the indented lines under it
    for line in lines[step + 1:]:
        if not line.startswith("    "):
            break
        block.append(line)
    assert any(line.startswith("    [failed] projection: case_events.detail.form_data.final_fine (event ")
               and line.endswith(f"is {FORGED_FINE} but the signed record says {SIGNED_FINE}") for line in block), block
    everything = _cli(ready_svc, "verify", "--all", "--json")
    assert everything.exit_code == 1
    (shown,) = json.loads(everything.output)
    assert shown["first_failure"]["check"] == "projection"


def test_the_case_views_show_what_was_signed_not_the_edited_copies(ready_svc, published):
    seq, task_id, detail = _decision(ready_svc, published)
    _sql(ready_svc, "UPDATE case_events SET detail = :detail WHERE task_id = :t AND kind = 'completed'",
         detail={"form_data": {**detail["form_data"], "final_fine": FORGED_FINE}}, t=task_id)
    _sql(ready_svc, "UPDATE tasks SET form_data = :form, completed_by = 'officer2', completed_at = :when WHERE id = :t",
         form={**detail["form_data"], "final_fine": FORGED_FINE}, when=at("2030-01-01 09:00"), t=task_id)
    _sql(ready_svc, "UPDATE cases SET respondent = :s WHERE id = :c", s=FORGED_TEXT, c=published.id)

    file = case_file(ready_svc, published.id, now=AUDIT_TIME)
    (step,) = [t for t in file.history if t.id == task_id]
    assert (step.form_data["final_fine"], step.completed_by, step.record_seq) == (SIGNED_FINE, "head", seq)
    assert step.completed_at is not None and step.completed_at.year == 2026
    (event,) = [e for e in file.case.events if e.seq == seq]
    assert (event.kind, event.detail["form_data"]["final_fine"], event.actor) == ("completed", SIGNED_FINE, "head")
    assert file.case.respondent == SIGNED_PARTY
    assert show_case(ready_svc, published.number).respondent == SIGNED_PARTY

    shown = json.loads(_cli(ready_svc, "case", "show", published.number, "--json").output)
    assert shown["respondent"] == SIGNED_PARTY
    (cli_event,) = [e for e in shown["events"] if e["seq"] == seq]
    assert cli_event["detail"]["form_data"]["final_fine"] == SIGNED_FINE and cli_event["signed"] is True
    as_text = _cli(ready_svc, "case", "show", published.number).output
    assert f"respondent: {SIGNED_PARTY}\n" in as_text
    assert FORGED_TEXT not in as_text


def test_a_copy_with_no_record_behind_it_is_not_shown_and_fails_verify(ready_svc):
    case = play(ready_svc, SCENARIOS["not_filed"], start=at("2026-09-14 09:00")).case
    with ready_svc.engine.connect() as conn:
        task_id, spec_id = conn.execute(text("SELECT id, spec_id FROM tasks WHERE case_id = :c AND status = "
                                             "'completed' ORDER BY completed_at LIMIT 1"), {"c": case.id}).one()
    # A completion nobody signed: the event is forged, and the task's own record is unlinked from it.
    _sql(ready_svc, "INSERT INTO case_events (case_id, kind, task_id, spec_id, actor, at, detail) "
         "VALUES (:c, 'completed', 'no-such-task', :s, 'officer2', :at, :detail)",
         c=case.id, s=spec_id, at=at("2026-09-20 09:00"), detail={"form_data": {"forged": FORGED_TEXT}})
    _sql(ready_svc, "UPDATE step_records SET task_id = NULL WHERE task_id = :t", t=task_id)

    file = case_file(ready_svc, case.id)
    assert all(e.task_id != "no-such-task" for e in file.case.events)
    assert task_id not in {t.id for t in file.history if t.status == "completed"}
    failures = _projection_failures(_verify(ready_svc, case))
    assert _named(failures, None, "case_events.kind"), failures  # the forged event: no record of it
    assert _named(failures, None, "tasks.status"), failures  # the task row completed with no record of it
    assert any("tasks.id" in r for _, r in failures), failures  # the record whose task is gone


def test_a_timer_that_moved_the_case_after_its_last_step_is_no_difference_but_an_edited_stage_is(ready_svc):
    scenario = SCENARIOS["penalty_window_elapsed"]
    after_timer = [i for i, s in enumerate(scenario.steps) if s.spec_id == TIMER][0] + 1
    case = play(ready_svc, scenario, start=at("2026-09-14 09:00"), stop_before=after_timer).case
    report = _verify(ready_svc, case)
    assert report.ok, report.first_failure

    _sql(ready_svc, "UPDATE cases SET stage = 'closing', status = 'closed' WHERE id = :c", c=case.id)
    failures = _projection_failures(_verify(ready_svc, case))
    assert _named(failures, None, "cases.stage"), failures
    assert _named(failures, None, "cases.status"), failures
