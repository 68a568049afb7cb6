"""挂牌督办 (issue 16): a province supervisor flags a city's case; reports on a cycle; an overdue report raises a 催报
for the supervisor (timer); the case cannot close before the 销号; every step signed and the path replayable."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.db.document_tables import DocumentRow
from engine.db.notice_tables import NotificationRow
from engine.db.tables import CaseRow, StepRecordRow
from engine.demo import SCENARIOS, play, play_step
from engine.demo_users import DEMO_PIN
from engine.errors import Forbidden, LegalGateRefused, ValidationError
from engine.rules.deadlines import due_at
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.supervision import case_supervisions, flag_case, supervised_cases
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.usecases.timers import run_timers
from engine.values import CompleteTask, FlagCase, fixed_clock
from signatures.pki import certificate_pem
from tests.agencies import PROVINCE, add_province, add_supervisor, place_user
from tests.conftest import at

START = at("2026-09-14 09:00")
WAIVER = SCENARIOS["penalty_waiver"]
AFTER_FILING = [s.spec_id for s in WAIVER.steps].index("onsite_inspection")
CLOSING_APPROVAL = [s.spec_id for s in WAIVER.steps].index("closing_approval")
SUPERVISOR = "sup_prov"
FLAG = {"supervision_instructions": "请依法从严查处，按期报告查办进展。", "supervision_due_date": "2026-12-31",
        "supervision_reason": "群众反映强烈"}
REPO = Path(__file__).resolve().parents[2]


def place_agencies(svc: Services, *, supervisor_agency: str = PROVINCE) -> None:
    """A province above the home city (the demo's agency), and a supervisor at `supervisor_agency`."""
    add_province(svc, at=START)
    add_supervisor(svc, SUPERVISOR, agency_code=supervisor_agency, password="supervisor-pass-2026", pin=DEMO_PIN,
                   at=START)


def filed_case(svc: Services) -> tuple[str, MutableClock]:
    case = play(svc, WAIVER, start=START, stop_before=AFTER_FILING).case
    return case.number, MutableClock(START + dt.timedelta(hours=AFTER_FILING + 1))


def records(svc: Services, number: str) -> list[StepRecordRow]:
    with svc.uow.read() as session:
        case_id = session.scalar(select(CaseRow.id).where(CaseRow.number == number))
        return list(session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case_id)
                                    .order_by(StepRecordRow.seq)))


def open_task(svc: Services, number: str, spec_id: str):
    return next(t for t in list_tasks(svc, case=number) if t.spec_id == spec_id and t.status == "ready")


def test_a_supervised_case_reports_is_chased_when_late_and_closes_only_after_the_supervision(ready_svc) -> None:
    svc = ready_svc
    place_agencies(svc)
    number, clock = filed_case(svc)
    flagged_at = clock()
    view = flag_case(FlagCase(number, SUPERVISOR, dict(FLAG), pin=DEMO_PIN), svc=svc, clock=clock)

    # The step is signed by the supervisor, in the case's own chain, with the 督办通知书.
    last = records(svc, number)[-1]
    assert (last.task_spec_id, last.actor) == ("supervision_flagged", SUPERVISOR)
    with svc.uow.read() as session:
        notice = session.scalars(select(DocumentRow).where(DocumentRow.spec_id == "supervision_flagged")).one()
        assert (notice.kind, notice.signed_by) == ("supervision_notice", SUPERVISOR)
        assert notice.pdf.startswith(b"%PDF")
    # The handling agency's officers get the report, due one reporting cycle (working days) after the flag.
    report = show_task(svc, open_task(svc, number, "report_supervision").id)
    assert set(report.candidates) == {"officer1", "officer2"} and report.supervision
    cycle_end = due_at("supervision_report", flagged_at, svc.settings, svc.calendar)
    assert report.due_at == cycle_end == view.next_report_due
    assert (view.supervising_agency, view.handling_agency, view.open, view.overdue) == (
        "示例省卫生健康委员会", svc.settings.agency.name, True, False)
    # Both agencies list it: the supervisor's, and the handling agency's people.
    assert [c.case_number for c in supervised_cases(svc, viewer_id=SUPERVISOR, now=clock())] == [number]
    assert [c.case_number for c in supervised_cases(svc, viewer_id="officer1", now=clock())] == [number]

    # Nobody reports: the timer raises the 催报 for the supervisor, who is notified; the report shows overdue.
    late = cycle_end + dt.timedelta(minutes=1)
    run_timers(svc, clock=fixed_clock(late))
    reminder = open_task(svc, number, "remind_supervision_report")
    assert reminder.assignee == SUPERVISOR
    with svc.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(NotificationRow).where(
            NotificationRow.recipient == SUPERVISOR, NotificationRow.task_id == reminder.id)) == 1
    [late_view] = case_supervisions(svc, view.case_id, now=late)
    assert late_view.overdue and late_view.open
    clock.advance_to(late + dt.timedelta(hours=1))
    complete_task(CompleteTask(reminder.id, SUPERVISOR, {"supervision_reminder": "请于两日内报送进展。"}, pin=DEMO_PIN),
                  svc=svc, clock=clock)
    clock.advance_to(clock() + dt.timedelta(hours=1))
    complete_task(CompleteTask(report.id, "officer1", {"supervision_progress": "已完成现场检查。",
                                                       "supervision_final_report": False}, pin=DEMO_PIN),
                  svc=svc, clock=clock)
    second = open_task(svc, number, "report_supervision")
    assert second.due_at == due_at("supervision_report", clock(), svc.settings, svc.calendar)

    # The procedure goes on to the closing: the 结案审批 is refused while the supervision runs.
    for step in WAIVER.steps[AFTER_FILING:CLOSING_APPROVAL]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, number, step, clock)
    before = len(records(svc, number))
    clock.advance_to(clock() + dt.timedelta(hours=1))
    with pytest.raises(LegalGateRefused, match="销号"):
        play_step(svc, number, WAIVER.steps[CLOSING_APPROVAL], clock)
    assert len(records(svc, number)) == before

    # The final report, the 销号, then the closing passes and the case ends.
    report = open_task(svc, number, "report_supervision")
    complete_task(CompleteTask(report.id, "officer2", {"supervision_progress": "已作出处罚决定并执行完毕。",
                                                       "supervision_final_report": True}, pin=DEMO_PIN),
                  svc=svc, clock=clock)
    closing = open_task(svc, number, "close_supervision")
    assert closing.assignee == SUPERVISOR
    complete_task(CompleteTask(closing.id, SUPERVISOR, {"supervision_closed": True, "supervision_opinion": "同意销号。"},
                               pin=DEMO_PIN), svc=svc, clock=clock)
    [closed] = case_supervisions(svc, view.case_id, now=clock())
    assert not closed.open and closed.reports == 2 and closed.next_report_due is None
    for step in WAIVER.steps[CLOSING_APPROVAL:]:
        clock.advance_to(clock() + dt.timedelta(hours=1))
        play_step(svc, number, step, clock)
    with svc.uow.read() as session:
        assert session.scalar(select(CaseRow.status).where(CaseRow.number == number)) == "closed"
    # The auditor re-runs the signed path, the flag among it: a path the model allows.
    later = fixed_clock(clock() + dt.timedelta(hours=1))
    [audited] = verify_cases(svc, [number], clock=later)
    assert audited.ok, audited.first_failure
    # And offline, from the case's evidence bundle alone (its own model files, the agency's root certificate).
    bundle = export_case(svc, number, clock=later)
    offline = verify_bundle_file(bundle, certificate_pem(svc.agency_keys.certificates()["root"]))
    assert offline.ok, offline.to_text()


def test_a_flag_is_refused_with_nothing_written(ready_svc) -> None:
    svc = ready_svc
    place_agencies(svc, supervisor_agency=svc.settings.agency.code)  # the supervisor sits in the case's own agency
    number, clock = filed_case(svc)
    before = len(records(svc, number))
    with pytest.raises(Forbidden, match="下级"):
        flag_case(FlagCase(number, SUPERVISOR, dict(FLAG), pin=DEMO_PIN), svc=svc, clock=clock)
    with pytest.raises(Forbidden):
        flag_case(FlagCase(number, "officer1", dict(FLAG), pin=DEMO_PIN), svc=svc, clock=clock)
    place_user(svc, SUPERVISOR, PROVINCE)
    with pytest.raises(ValidationError):
        flag_case(FlagCase(number, SUPERVISOR, {**FLAG, "supervision_due_date": "2026-09-01"}, pin=DEMO_PIN),
                  svc=svc, clock=clock)
    assert len(records(svc, number)) == before
    flag_case(FlagCase(number, SUPERVISOR, dict(FLAG), pin=DEMO_PIN), svc=svc, clock=clock)
    with pytest.raises(LegalGateRefused, match="已在挂牌督办中"):
        flag_case(FlagCase(number, SUPERVISOR, dict(FLAG), pin=DEMO_PIN), svc=svc, clock=clock)
    assert len(records(svc, number)) == before + 1
    unfiled = play(svc, WAIVER, start=START, stop_before=1).case.number
    with pytest.raises(LegalGateRefused, match="尚未立案"):
        flag_case(FlagCase(unfiled, SUPERVISOR, dict(FLAG), pin=DEMO_PIN), svc=svc, clock=clock)


def test_flag_report_and_closing_each_in_its_own_process(ready_svc, tmp_path) -> None:
    """The CLI, one process per step: the flag, the timers, the 催报, the final report and the 销号."""
    svc = ready_svc
    place_agencies(svc)
    number, clock = filed_case(svc)
    data_dir = tmp_path / "process-data"
    data_dir.mkdir()
    (data_dir / "keys").symlink_to(svc.agency_keys.directory)
    env = {**os.environ, "CASETRAIL_DATABASE_URL": svc.engine.url.render_as_string(hide_password=False),
           "CASETRAIL_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(REPO)}

    def run(moment: dt.datetime, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tests.integration.cli_process", moment.isoformat(), "--", *args],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    def form(name: str, data: dict[str, object]) -> str:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return str(path)

    flagged = run(clock(), "supervise", "flag", number, "--user", SUPERVISOR, "--instructions", FLAG[
        "supervision_instructions"], "--due", "2026-12-31", "--pin", DEMO_PIN, "--json")
    assert flagged.returncode == 0, flagged.stderr
    due = dt.datetime.fromisoformat(json.loads(flagged.stdout)["next_report_due"])
    refused = run(clock(), "supervise", "flag", number, "--user", SUPERVISOR, "--instructions", "x", "--due",
                  "2026-12-31", "--pin", DEMO_PIN)
    assert refused.returncode == 2 and "已在挂牌督办中" in refused.stderr
    fired = run(due + dt.timedelta(minutes=1), "timers", "run", "--json")
    assert fired.returncode == 0, fired.stderr
    listed = run(due + dt.timedelta(minutes=2), "supervise", "list", "--user", SUPERVISOR, "--json")
    [item] = json.loads(listed.stdout)
    assert item["overdue"] and item["open"]
    reminder = open_task(svc, number, "remind_supervision_report")
    done = run(due + dt.timedelta(hours=1), "task", "complete", reminder.id, "--user", SUPERVISOR, "--data",
               form("reminder", {"supervision_reminder": "请速报。"}), "--pin", DEMO_PIN)
    assert done.returncode == 0, done.stderr
    report = open_task(svc, number, "report_supervision")
    done = run(due + dt.timedelta(hours=2), "task", "complete", report.id, "--user", "officer1", "--data",
               form("report", {"supervision_progress": "已办结。", "supervision_final_report": True}), "--pin", DEMO_PIN)
    assert done.returncode == 0, done.stderr
    closing = open_task(svc, number, "close_supervision")
    done = run(due + dt.timedelta(hours=3), "task", "complete", closing.id, "--user", SUPERVISOR, "--data",
               form("close", {"supervision_closed": True, "supervision_opinion": "同意销号。"}), "--pin", DEMO_PIN)
    assert done.returncode == 0, done.stderr
    listed = run(due + dt.timedelta(hours=4), "supervise", "list", "--user", "officer1", "--json")
    [item] = json.loads(listed.stdout)
    assert not item["open"] and item["reports"] == 1
    assert [r.task_spec_id for r in records(svc, number)][-4:] == [
        "supervision_flagged", "remind_supervision_report", "report_supervision", "close_supervision"]


def flag_at_once(svc: Services, flags: list[FlagCase], clock) -> tuple[list[object], list[BaseException]]:
    """Each flag from its own thread, all let go together: (the flags made, what the others raised)."""
    barrier = threading.Barrier(len(flags))
    made: list[object] = []
    refused: list[BaseException] = []

    def flag(cmd: FlagCase) -> None:
        barrier.wait()
        try:
            made.append(flag_case(cmd, svc=svc, clock=clock))
        except Exception as exc:  # noqa: BLE001 — reported by the caller, with what it said
            refused.append(exc)

    threads = [threading.Thread(target=flag, args=(cmd,)) for cmd in flags]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return made, refused


def test_supervisors_flagging_numbered_notices_at_once_get_consecutive_numbers_none_refused(ready_svc) -> None:
    """A platform that numbers the 督办通知书 (settings.json `document_numbers`): six cases flagged at once race for
    the next 文号. A try whose number was taken is prepared again, and the last try holds the case and the number
    while it prepares, so no supervisor is told "try again" however often the others overtake them."""
    svc = ready_svc
    place_agencies(svc)
    svc.settings = dataclasses.replace(svc.settings, document_numbers={**svc.settings.document_numbers,
                                                                       "supervision_notice": "呈卫督"})
    supervisors = [SUPERVISOR, *(f"{SUPERVISOR}{n}" for n in range(2, 7))]
    for user_id in supervisors[1:]:
        add_supervisor(svc, user_id, agency_code=PROVINCE, password="supervisor-pass-2026", pin=DEMO_PIN, at=START)
    cases = [filed_case(svc) for _ in supervisors]
    made, refused = flag_at_once(svc, [FlagCase(number, user_id, dict(FLAG), pin=DEMO_PIN)
                                       for user_id, (number, _) in zip(supervisors, cases, strict=True)],
                                 fixed_clock(cases[0][1]()))
    assert not refused, refused
    assert len(made) == len(supervisors)
    with svc.uow.read() as session:
        numbers = sorted(session.scalars(select(DocumentRow.doc_number).where(DocumentRow.kind == "supervision_notice")))
    assert numbers == [f"呈卫督〔2026〕{n:03d}号" for n in range(1, len(supervisors) + 1)]


def test_supervisors_flagging_one_case_at_once_one_flags_the_others_are_told_it_is_supervised(ready_svc) -> None:
    """Three supervisors flag the same case at once: one flag is written; the others, prepared again from the case
    as it now is, are refused by the gate that names why (已在挂牌督办中) — not with a "try again" — and write
    nothing."""
    svc = ready_svc
    place_agencies(svc)
    supervisors = [SUPERVISOR, f"{SUPERVISOR}2", f"{SUPERVISOR}3"]
    for user_id in supervisors[1:]:
        add_supervisor(svc, user_id, agency_code=PROVINCE, password="supervisor-pass-2026", pin=DEMO_PIN, at=START)
    number, clock = filed_case(svc)
    before = len(records(svc, number))
    made, refused = flag_at_once(svc, [FlagCase(number, user_id, dict(FLAG), pin=DEMO_PIN) for user_id in supervisors],
                                 fixed_clock(clock()))
    assert len(made) == 1
    assert len(refused) == 2 and all(isinstance(exc, LegalGateRefused) and "已在挂牌督办中" in str(exc)
                                     for exc in refused), refused
    assert [r.task_spec_id for r in records(svc, number)][before:] == ["supervision_flagged"]
