"""A long 现场笔录 survives an ended session (issue 15): typed in Chromium, saved as a draft by the page's autosave,
the officer logs out and in again, and the task page gives back every field as typed; signing the step deletes
the draft."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from engine.db.draft_tables import DraftRow
from engine.rules.settings import DraftLimits
from engine.usecases.tasks import list_tasks
from tests.browser.conftest import shot
from tests.browser.test_browser_flows import log_in
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser

FINDINGS = "\n".join(f"{n}. 检查发现第{n}项：{'公共用品用具未按规定清洗消毒，' * 6}现场已拍照取证。" for n in range(1, 41))


def _drafts(svc) -> list[tuple[str, str]]:
    with svc.uow.read() as session:
        return [(r.user_id, r.task_id) for r in session.scalars(select(DraftRow))]


def test_a_draft_restored_after_logout(page, svc):
    svc.settings = dataclasses.replace(svc.settings, drafts=DraftLimits(autosave=dt.timedelta(seconds=2)))
    played = play_until(svc, scenario(), "onsite_inspection")
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "onsite_inspection")
    log_in(page, "officer1")
    page.goto(f"/tasks/{task.id}")
    assert page.inner_text(".draft-status") == ""
    page.fill("[name=inspected_at]", "2026-09-19T08:00")
    page.fill("[name=place]", "呈州市和平路8号 某某美容店")
    page.check("input[name=inspectors][value=officer1]")  # picked: their 执法证号 come from their profiles
    page.check("input[name=inspectors][value=officer2]")
    page.check("[name=party_present]")
    page.fill("[name=person_in_charge]", "王某某")
    page.fill("[name=findings]", FINDINGS)
    page.check("input[name=next_action][value=evidence]")
    page.fill("#pin", PIN)  # typed, but never sent with a draft
    # The autosave's status says the draft is kept (within a few of its 2-second ticks).
    page.locator(".draft-status", has_text="草稿已保存").wait_for(timeout=15000)
    assert _drafts(svc) == [("officer1", task.id)]
    with svc.uow.read() as session:
        stored = session.scalar(select(DraftRow.fields))
    assert stored["findings"] == [FINDINGS] and "pin" not in stored and PIN not in str(stored)

    page.click("header form button.link")  # 退出: the session ends
    page.wait_for_load_state()
    page.goto(f"/tasks/{task.id}")
    assert "/login" in page.url
    log_in(page, "officer1")
    page.goto(f"/tasks/{task.id}")
    assert "已恢复您于" in page.inner_text(".draft-notice")
    assert page.input_value("[name=findings]") == FINDINGS
    assert page.input_value("[name=place]") == "呈州市和平路8号 某某美容店"
    assert page.input_value("[name=inspected_at]") == "2026-09-19T08:00"
    assert page.is_checked("input[name=inspectors][value=officer1]")
    assert page.is_checked("input[name=inspectors][value=officer2]")
    assert page.is_checked("[name=party_present]") and page.is_checked("input[name=next_action][value=evidence]")
    assert page.input_value("#pin") == ""
    shot(page, "draft_restored")

    # Finished and signed: the step takes what the form holds, and the draft is gone.
    page.fill("[name=inspection_ended_at]", "2026-09-19T08:45")
    page.check("input[name='party_signature.mode'][value=refused]")
    page.fill("[name='party_signature.refusal_note']", "当事人看过笔录后拒绝签名，执法人员当场注明。")
    page.fill("[name='party_signature.witness_name']", "李某某")
    page.fill("[name='party_signature.witness_identity']", "隔壁店主")
    page.fill("#pin", PIN)
    page.click("button.primary")
    page.wait_for_load_state()
    assert "已办结" in page.inner_text(".flash"), page.inner_text("main")[:1500]
    done = next(t for t in list_tasks(svc, case=played.case.number, include_done=True) if t.id == task.id)
    # (a browser posts a textarea's line breaks as CR LF: HTML's form submission)
    assert done.status == "completed" and done.form_data["findings"].replace("\r\n", "\n") == FINDINGS
    assert _drafts(svc) == []
