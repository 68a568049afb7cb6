"""engine.usecases.people: who is eligible for a role on a day and in a case — the list the pickers show and the
check every step's person fields pass (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN, demo_certificate
from engine.errors import ValidationError
from engine.spiff.driving import sample_form_data
from engine.usecases.people import eligible, person_choices, set_user_certificate
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.usecases.users import add_user, deactivate_user
from engine.values import AddUser, ChangeAccount, CompleteTask, SetUserCertificate, fixed_clock
from tests.conftest import at

START = at("2026-09-14 09:00")
DAY = dt.date(2026, 11, 2)


def _ids(svc, role: str, on: dt.date = DAY, **kw) -> list[str]:
    with svc.uow.read() as session:
        return [p.id for p in eligible(session, role=role, on=on, policy=svc.settings.people, **kw)]


def test_officers_are_eligible_while_their_certificate_is_valid_and_their_account_active(ready_svc):
    assert sorted(_ids(ready_svc, "officer")) == ["officer1", "officer2", "officer3"]
    set_user_certificate(SetUserCertificate(user_id="officer2", cert_no="呈卫执 2020-0102",
                                            valid_until=dt.date(2026, 11, 1), by=None), svc=ready_svc,
                         clock=fixed_clock(START))
    assert "officer2" in _ids(ready_svc, "officer", on=dt.date(2026, 11, 1))  # its last day
    assert "officer2" not in _ids(ready_svc, "officer")  # the day after
    deactivate_user(ChangeAccount(user_id="officer3", by="admin", reason="调离"), svc=ready_svc,
                    clock=fixed_clock(START))
    assert _ids(ready_svc, "officer") == ["officer1"]


def test_roles_that_do_not_enforce_need_no_certificate_and_other_roles_are_not_offered(ready_svc):
    add_user(AddUser(user_id="panel4", name="冯合议", password=DEMO_PASSWORD, roles=["panel"], pin=DEMO_PIN),
             svc=ready_svc, clock=fixed_clock(START))
    assert "panel4" in _ids(ready_svc, "panel")
    assert not {"officer1", "head", "clerk"} & set(_ids(ready_svc, "panel"))


def _with_dual(svc) -> None:
    add_user(AddUser(user_id="dual", name="钱双岗", password=DEMO_PASSWORD, roles=["officer", "legal"], pin=DEMO_PIN,
                     cert_no="呈卫执 2024-0301", cert_valid_until=dt.date(2031, 6, 30)), svc=svc, clock=fixed_clock(START))


def _played_with_dual(svc, scenario_name: str, until: str):
    scenario = SCENARIOS[scenario_name]
    steps = list(scenario.steps)
    steps[0] = replace(steps[0], overrides={**steps[0].overrides, "case_officers": ["dual", "officer2"]})
    index = [s.spec_id for s in steps].index(until)
    return play(svc, replace(scenario, steps=tuple(steps)), start=START, stop_before=index).case


def test_with_a_case_eligible_leaves_out_whom_the_model_barred_from_the_roles_steps(ready_svc):
    _with_dual(ready_svc)
    case = _played_with_dual(ready_svc, "penalty_waiver", "legal_review")
    with ready_svc.uow.read() as session:  # the legal review of this case barred dual when it was offered
        assert "dual" not in [p.id for p in eligible(session, role="legal", on=DAY, case_id=case.id)]
        assert "dual" in [p.id for p in eligible(session, role="legal", on=DAY)]


@pytest.fixture
def dual_case(ready_svc):
    """A hearing case whose case officers are `dual` (an officer who is also a legal reviewer) and officer2, up to
    the scheduling of the hearing."""
    _with_dual(ready_svc)
    case = _played_with_dual(ready_svc, "penalty_hearing", "schedule_hearing")
    task = next(t for t in list_tasks(ready_svc, case=case.number) if t.spec_id == "schedule_hearing")
    return case, show_task(ready_svc, task.id)


def test_a_case_officer_is_not_offered_as_hearing_chair_of_their_own_case(ready_svc, dual_case):
    case, task = dual_case
    choices = person_choices(ready_svc, schema=task.form_schema, case_id=case.id, at=at("2026-12-20 10:00"))
    assert [p.id for p in choices["hearing_chair"]] == ["legal"]  # dual investigated the case: 回避
    assert "dual" not in [p.id for p in choices["hearing_clerk"]]
    elsewhere = person_choices(ready_svc, schema=task.form_schema, case_id=None, at=at("2026-12-20 10:00"))
    assert {"dual", "legal"} <= {p.id for p in elsewhere["hearing_chair"]}


def test_a_barred_clerk_is_refused_at_the_field_and_nothing_is_written(ready_svc, dual_case):
    case, task = dual_case
    when = at("2026-12-20 10:00")
    data = sample_form_data(task.form_schema, {"hearing_chair": "legal", "hearing_clerk": "dual",
                                               "public_hearing": True, "hearing_at": "2027-01-05T09:00:00+08:00"},
                            now=when)
    with pytest.raises(ValidationError) as err:
        complete_task(CompleteTask(task_id=task.id, user_id="head", data=data, pin=DEMO_PIN), svc=ready_svc,
                      clock=fixed_clock(when))
    assert set(err.value.errors) == {"hearing_clerk"} and "回避" in err.value.errors["hearing_clerk"]
    assert show_task(ready_svc, task.id).status == "ready"


def test_the_on_site_record_prints_each_officers_certificate_from_their_profile(ready_svc, tmp_path):
    """执法证号 are not typed at 现场检查 any more (the form has no such field): the 现场笔录 and the reports print
    each picked officer's number from their profile, as the administrator keeps it."""
    import subprocess

    from sqlalchemy import select

    from engine.db.document_tables import DocumentRow

    scenario = SCENARIOS["penalty_waiver"]
    after = [s.spec_id for s in scenario.steps].index("onsite_inspection") + 1
    case = play(ready_svc, scenario, start=START, stop_before=after).case
    with ready_svc.uow.read() as session:
        pdf = session.scalar(select(DocumentRow.pdf).where(DocumentRow.case_id == case.id,
                                                           DocumentRow.kind == "on_site_record"))
    (tmp_path / "record.pdf").write_bytes(pdf)
    text = "".join(subprocess.run(["pdftotext", str(tmp_path / "record.pdf"), "-"], capture_output=True, text=True,
                                  check=True).stdout.split())
    assert "王承办" in text and "呈卫执2023-0101" in text  # officer1's, from DEMO_CERTIFICATES
    assert "赵承办" in text and "".join(demo_certificate("officer2")["cert_no"].split()) in text
