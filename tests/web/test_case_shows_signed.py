"""The case page, the case API and the auditor's page when the copies of a step were edited in the database.

The fine, the actor and the party shown come from the signed step records; the auditor's verification names
each edited copy. Tampered values are chosen so that they cannot appear by chance (a hash on the page could
hold any run of digits): assertions read the element that shows the value.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import html as lxml_html
from sqlalchemy import JSON, bindparam, text

from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import USERS, login, post

FORGED_FINE = 987654321.5
FORGED_TEXT = "篡改后的内容"
SIGNED_PARTY = "呈州市丽人美容店"


@pytest.fixture
def edited(model, svc) -> dict[str, Any]:
    """A case decided by the head (fine 3000) whose copies were then edited: the decision's event and task row
    (fine 987654321.5, done by officer2) and the case row's party."""
    case = play_until(svc, scenario(), "serve_decision").case
    with svc.engine.begin() as conn:
        task_id, seq = conn.execute(text("SELECT task_id, seq FROM step_records WHERE case_id = :c AND "
                                         "task_spec_id = 'make_decision'"), {"c": case.id}).one()
        form = conn.execute(text("SELECT form_data FROM tasks WHERE id = :t").columns(form_data=JSON),
                            {"t": task_id}).scalar_one()
        assert form["final_fine"] == 3000
        forged = {**form, "final_fine": FORGED_FINE}
        conn.execute(text("UPDATE case_events SET detail = :d WHERE task_id = :t AND kind = 'completed'")
                     .bindparams(bindparam("d", type_=JSON)), {"d": {"form_data": forged}, "t": task_id})
        conn.execute(text("UPDATE tasks SET form_data = :f, completed_by = 'officer2' WHERE id = :t")
                     .bindparams(bindparam("f", type_=JSON)), {"f": forged, "t": task_id})
        conn.execute(text("UPDATE cases SET respondent = :r WHERE id = :c"), {"r": FORGED_TEXT, "c": case.id})
    return {"case": case, "task_id": task_id, "seq": seq}


def _text(element: Any) -> str:
    return " ".join(element.text_content().split())


def _dd_after(dl: Any, title: str) -> str:
    """The text of the <dd> that follows the <dt> titled `title` in a <dl>."""
    (dt_,) = [d for d in dl.findall("dt") if _text(d) == title]
    return _text(dt_.getnext())


def test_the_case_page_shows_the_signed_fine_actor_and_party(edited, client):
    login(client, "head")
    page = lxml_html.fromstring(client.get(f"/cases/{edited['case'].id}").get_data(as_text=True))
    steps = [d for d in page.xpath("//details[contains(@class, 'step')]")
             if f"第 {edited['seq']} 条" in _text(d.find("summary"))]
    assert len(steps) == 1, "the decision is shown once, as its signed record"
    summary = _text(steps[0].find("summary"))
    assert USERS["head"][0] in summary and USERS["officer2"][0] not in summary
    fine = _dd_after(steps[0].find(".//dl"), "罚款（元）")
    assert fine == "3000"
    summary_card = page.xpath("//dl[contains(@class, 'two')]")[0]
    assert _dd_after(summary_card, "当事人") == SIGNED_PARTY
    assert FORGED_TEXT not in _text(page.find(".//h1/..")), "the page head names the signed party"
    timeline = page.xpath("//ol[@class='timeline']/li")
    assert any(f"签名记录第 {edited['seq']} 条" in _text(li) and USERS["head"][0] in _text(li) for li in timeline)


def test_the_case_api_shows_the_signed_values(edited, client):
    login(client, "head")
    shown = client.get(f"/api/cases/{edited['case'].id}").get_json()
    assert shown["respondent"] == SIGNED_PARTY
    (step,) = [s for s in shown["steps"] if s["id"] == edited["task_id"]]
    assert (step["form_data"]["final_fine"], step["completed_by"], step["record_seq"]) == (3000, "head", edited["seq"])
    (event,) = [e for e in shown["events"] if e["seq"] == edited["seq"]]
    assert (event["kind"], event["actor"], event["detail"]["form_data"]["final_fine"]) == ("completed", "head", 3000)
    assert event["signed"] is True
    assert all(e["seq"] is None for e in shown["events"] if e["kind"] not in ("opened", "completed", "assigned"))


def test_the_auditors_verification_names_every_edited_copy(edited, client):
    login(client, "auditor")
    response = post(client, "/audit/verify", {"case": edited["case"].number}, token_from="/audit")
    page = lxml_html.fromstring(response.get_data(as_text=True))
    failed: dict[str, list[str]] = {}  # a report row's step ("18 · 处罚决定 make_decision") -> its failed projections
    shown = "✖ 系统副本与记录一致: "  # the projection check as the page names it (web/messages.py check.projection)
    for row in page.xpath("//table[contains(@class, 'report-steps')]/tbody/tr"):
        step = _text(row.find("td"))
        failed[step] = [_text(d)[len(shown):] for d in row.xpath("./td[3]/div") if _text(d).startswith(shown)]
    (decision,) = [lines for step, lines in failed.items()
                   if step.startswith(f"{edited['seq']} · ") and step.endswith(" make_decision")]
    for copy in ("case_events.detail.form_data.final_fine", "tasks.form_data.final_fine", "tasks.completed_by"):
        assert any(line.startswith(f"{copy} ") for line in decision), (copy, decision)
    (intake,) = [lines for step, lines in failed.items() if step.startswith("1 · ")]
    assert any(line.startswith("cases.respondent ") for line in intake), intake
