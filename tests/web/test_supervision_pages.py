"""挂牌督办 pages: a supervisor flags a case of the city below (CSRF, PIN), both agencies' lists show it with the next
report due, the handling agency's case page shows the instructions (escaped), its officers get the report task."""

from __future__ import annotations

import datetime as dt

from engine.usecases.tasks import list_tasks
from engine.usecases.timers import run_timers
from tests.agencies import PROVINCE, add_province, add_supervisor
from tests.web.conftest import START
from tests.web.webhelpers import PASSWORD, PIN, login, post, tags_out

SUPERVISOR = "sup_prov"
INSTRUCTIONS = "请依法从严查处 <b>不得拖延</b>"


def _flag(client, case_id: int, **fields: str):
    data = {"supervision_instructions": INSTRUCTIONS, "supervision_due_date": "2026-12-31", "pin": PIN, **fields}
    return post(client, f"/supervision/flag/{case_id}", data, token_from="/supervision")


def test_a_supervisor_flags_a_case_and_both_agencies_see_it(model, client, at_investigation_report) -> None:
    svc = model.extensions["casetrail.services"]
    add_province(svc, at=START)
    add_supervisor(svc, SUPERVISOR, agency_code=PROVINCE, password=PASSWORD, pin=PIN, at=START)
    case = at_investigation_report.case

    login(client, "officer1")  # not a supervisor: the flag is refused whatever the form says
    assert _flag(client, case.id).status_code == 403
    client.post("/logout", data={})

    client2 = model.test_client()
    login(client2, SUPERVISOR)
    refused = _flag(client2, case.id, supervision_due_date="2026-01-01")
    assert refused.status_code == 303
    assert not any(t.spec_id == "report_supervision" for t in list_tasks(svc, case=case.number))
    done = _flag(client2, case.id)
    assert done.status_code == 303 and done.headers["Location"].endswith("/supervision")
    page = client2.get("/supervision").get_data(as_text=True)
    assert case.number in page and "督办中" in page and "&lt;b&gt;" in page and "<b>不得拖延" not in page

    client3 = model.test_client()
    login(client3, "officer1")
    listed = tags_out(client3.get("/supervision").get_data(as_text=True))
    assert case.number in listed and "示例省卫生健康委员会" in listed
    case_page = client3.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="supervision"' in case_page and "&lt;b&gt;不得拖延&lt;/b&gt;" in case_page
    assert 'id="flag-form"' not in case_page  # the form is for supervisors only
    tasks = tags_out(client3.get("/tasks").get_data(as_text=True))
    assert "督办情况报告" in tasks


def test_a_supervision_past_its_deadline_shows_on_both_agencies_pages_in_both_languages(model, client, clock,
                                                                                        at_investigation_report) -> None:
    svc = model.extensions["casetrail.services"]
    add_province(svc, at=START)
    add_supervisor(svc, SUPERVISOR, agency_code=PROVINCE, password=PASSWORD, pin=PIN, at=START)
    case = at_investigation_report.case
    due_date = svc.calendar.local_date(clock()) + dt.timedelta(days=2)
    login(client, SUPERVISOR)
    assert _flag(client, case.id, supervision_due_date=due_date.isoformat()).status_code == 303
    page = tags_out(client.get("/supervision").get_data(as_text=True))
    assert "已超办结期限" not in page
    clock.moment = svc.calendar.end_of_day(due_date) + dt.timedelta(minutes=1)
    run_timers(svc, clock=clock)

    supervisor = model.test_client()  # days later: a new session
    login(supervisor, SUPERVISOR)
    assert "督办逾期" in tags_out(supervisor.get("/tasks").get_data(as_text=True))
    assert "已超办结期限" in tags_out(supervisor.get("/supervision").get_data(as_text=True))
    supervisor.get("/?lang=en")
    assert "Supervised case: deadline passed" in tags_out(supervisor.get("/tasks").get_data(as_text=True))
    assert "Past the deadline" in tags_out(supervisor.get("/supervision").get_data(as_text=True))

    officer = model.test_client()
    login(officer, "officer1")
    assert "已超办结期限" in tags_out(officer.get("/supervision").get_data(as_text=True))
    case_page = tags_out(officer.get(f"/cases/{case.id}").get_data(as_text=True))
    assert "已超办结期限" in case_page and "督办逾期" in case_page
