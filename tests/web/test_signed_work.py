"""Issue 13 item 6: no signed work for a user without a valid signing certificate (revoked, expired, none) or
an inactive account — no claim, no named offer taken up, no assignment, not among the eligible assignees —
and the page says why in the engine's words. A task named only to such people is stranded: the head is told
and may hand it to anyone of its lane."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json

import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.errors import Forbidden
from engine.usecases.access import signing_problems
from engine.usecases.tasks import assign_task, claim_task, list_tasks, show_task
from engine.usecases.users import add_user, deactivate_user, revoke_user_key
from engine.usecases.viewer import case_for_viewer, task_for_viewer
from engine.values import AddUser, AssignTask, ChangeAccount, ClaimTask, RevokeUserKey
from tests.web.webhelpers import PASSWORD, PIN, login, post


def _check(svc, played):
    listed = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "preliminary_check")
    return show_task(svc, listed.id)


def _revoke(svc, clock, *users: str) -> None:
    for user in users:
        revoke_user_key(RevokeUserKey(user_id=user, reason="密钥遗失"), svc=svc, clock=clock)


def test_a_revoked_officer_is_told_why_and_cannot_claim(model, svc, clock, client, at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    _revoke(svc, clock, "officer1")
    login(client, "officer1")
    page = htmllib.unescape(client.get(f"/tasks/{task.id}").get_data(as_text=True))
    view = task_for_viewer(svc, task.id, "officer1", at=clock())
    assert view.refusal is not None and view.refusal.kind == "no_certificate"
    assert view.refusal.message in page and "吊销" in page  # the page says why, in the engine's words
    assert 'name="pin"' not in page and f"/tasks/{task.id}/claim" not in page
    refused = post(client, f"/tasks/{task.id}/claim")
    assert refused.status_code == 403 and "no valid signing certificate" in refused.get_data(as_text=True)
    with pytest.raises(Forbidden) as engine_refusal:
        claim_task(ClaimTask(task.id, "officer1"), svc=svc, clock=clock)
    assert engine_refusal.value.message == view.refusal.message
    shown = json.loads(CliRunner().invoke(main, ["task", "show", task.id, "--user", "officer1", "--json"],
                                          obj={"svc": svc, "clock": clock}).output)
    assert (shown["may_act"], shown["may_claim"], shown["refusal"]) == (False, False, view.refusal.message)
    # Still a member of the case: he reads it, with the complainant, as before.
    assert case_for_viewer(svc, task.case_id, "officer1").identity_shown


def test_a_revoked_officer_is_no_eligible_assignee_and_the_engine_refuses_him(model, svc, clock,
                                                                             at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    _revoke(svc, clock, "officer1")
    view = task_for_viewer(svc, task.id, "head", at=clock())
    assert [u.id for u in view.assignees] == ["officer2"]
    assert view.stranded == ()  # officer2, also named, can still take it
    with pytest.raises(Forbidden) as refused:
        assign_task(AssignTask(task.id, "officer1", by="head", pin=PIN, reason="试"), svc=svc, clock=clock)
    assert "no valid signing certificate" in refused.value.message
    handed = assign_task(AssignTask(task.id, "officer2", by="head", pin=PIN), svc=svc, clock=clock)
    assert handed.assignee == "officer2"


def test_a_deactivated_officer_is_no_eligible_assignee(model, svc, clock, at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    deactivate_user(ChangeAccount(user_id="officer2", by="admin", reason="调离"), svc=svc, clock=clock)
    assert [u.id for u in task_for_viewer(svc, task.id, "head", at=clock()).assignees] == ["officer1"]


def test_a_task_named_only_to_revoked_officers_is_stranded_and_the_head_hands_it_on(model, svc, clock, client,
                                                                                     at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    _revoke(svc, clock, "officer1", "officer2")
    view = task_for_viewer(svc, task.id, "head", at=clock())
    assert [p.id for p in view.stranded] == ["officer1", "officer2"]
    assert [u.id for u in view.assignees] == ["officer3"]  # anyone of the lane who could act on it
    login(client, "head")
    page = htmllib.unescape(client.get(f"/tasks/{task.id}").get_data(as_text=True))
    assert view.stranded_notice in page and 'value="officer3"' in page
    assert client.get(f"/api/tasks/{task.id}").get_json()["stranded"] == view.stranded_notice
    assert post(client, f"/tasks/{task.id}/assign", {"assignee": "officer3", "pin": PIN, "reason": "原承办人证书吊销",
                                                     "back": "task"}).status_code == 302
    assert show_task(svc, task.id).assignee == "officer3"
    # Holding the task, officer3 takes part in the case now: he reads it, and the complainant.
    assert case_for_viewer(svc, task.case_id, "officer3").identity_shown


def test_without_a_stranded_task_the_head_may_not_hand_a_named_task_outside_those_named(model, svc, clock,
                                                                                        at_preliminary_check):
    task = _check(svc, at_preliminary_check)
    with pytest.raises(Forbidden) as refused:
        assign_task(AssignTask(task.id, "officer3", by="head", pin=PIN), svc=svc, clock=clock)
    assert "offered to named people only" in refused.value.message


def test_an_expired_or_missing_certificate_counts_as_none(model, svc, clock):
    add_user(AddUser(user_id="officer9", name="无证", password=PASSWORD, roles=["officer"]), svc=svc,
             clock=clock)  # no PIN: no key
    with svc.uow.read() as session:
        now = clock()
        assert signing_problems(session, ["officer1", "officer9"], now) == {
            "officer9": "尚无签名证书 (no signing certificate)"}
        later = signing_problems(session, ["officer1"], now + dt.timedelta(days=365 * 30))
    assert "过期" in later["officer1"] and "expired" in later["officer1"]
