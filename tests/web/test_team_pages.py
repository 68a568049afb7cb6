"""The team view's pages: heads only, names not ids, the batch hand-over's confirmation, 督办 from the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from engine.db.notice_tables import NotificationRow
from engine.usecases.tasks import claim_task, list_tasks, show_task
from engine.values import ClaimTask
from tests.web.webhelpers import PIN, login, post, tags_out


def _held(svc, played, holder: str = "officer1"):
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "preliminary_check")
    claim_task(ClaimTask(task.id, holder), svc=svc, clock=lambda: task.created_at + dt.timedelta(minutes=5))
    return show_task(svc, task.id)


@pytest.mark.parametrize("user", ["officer1", "auditor", "legal", "admin"])
def test_only_heads_open_the_team_view_or_post_to_it(model, client, svc, at_preliminary_check, user):
    task = _held(svc, at_preliminary_check)
    login(client, user)
    assert client.get("/team").status_code == 403
    assert post(client, "/team/reassign", {"task": task.id, "assignee": "officer2", "reason": "x", "pin": PIN},
                token_from="/account/password").status_code == 403
    assert client.get(f"/team/tasks/{task.id}/urge").status_code == 403
    assert show_task(svc, task.id).assignee == "officer1"


def test_a_head_sees_the_teams_tasks_by_name_and_filters_them(model, client, svc, at_preliminary_check):
    task = _held(svc, at_preliminary_check)
    login(client, "head")
    page = client.get("/team").get_data(as_text=True)
    assert task.case_number in page and "王承办" in page and 'value="officer2"' in page and "赵承办" in page
    assert client.get("/team?lang=en").status_code == 200
    english = client.get("/team").get_data(as_text=True)
    assert "Reassign chosen tasks" in english and "Due soon" in english
    client.get("/team?lang=zh")
    assert task.id in client.get("/team?holder=officer1").get_data(as_text=True)
    assert task.id not in client.get("/team?holder=-").get_data(as_text=True)
    assert task.id not in client.get("/team?due=overdue").get_data(as_text=True)
    assert client.get("/team?sort=bogus&due=bogus&page=x").status_code == 200  # unknown words: the defaults


def test_a_batch_hand_over_from_the_page_confirms_with_names_and_needs_a_reason(model, client, svc,
                                                                                 at_preliminary_check):
    task = _held(svc, at_preliminary_check)
    login(client, "head")
    refused = post(client, "/team/reassign", {"task": task.id, "assignee": "officer2", "reason": " ", "pin": PIN},
                   token_from="/team")
    assert refused.status_code == 422 and "改派理由必填" in refused.get_data(as_text=True)
    assert show_task(svc, task.id).assignee == "officer1"
    assert client.post("/team/reassign", data={"task": task.id, "assignee": "officer2", "reason": "病假",
                                               "pin": PIN}).status_code == 400  # no CSRF token
    done = post(client, "/team/reassign", {"task": task.id, "assignee": "officer2", "reason": "<b>病假</b>",
                                           "pin": PIN}, token_from="/team")
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "王承办 → 赵承办" in html and task.case_number in html
    assert "officer1 →" not in html and "→ officer2" not in html  # names, never login ids
    assert "<b>病假</b>" not in html and "&lt;b&gt;病假" in html
    assert show_task(svc, task.id).assignee == "officer2"


def test_a_head_urges_a_soon_due_task_from_the_case_page_and_the_holder_is_told(model, client, clock, svc,
                                                                                at_preliminary_check):
    task = _held(svc, at_preliminary_check)
    clock.moment = task.due_at - dt.timedelta(days=20)  # on time: the page says why not, and offers no form
    login(client, "head")
    early = client.get(f"/team/tasks/{task.id}/urge").get_data(as_text=True)
    assert "无需督办" in early and 'name="note"' not in early
    clock.moment = task.due_at - dt.timedelta(days=1)
    login(client, "head")  # a new day, a new login (sessions end after a working day)
    case_page = client.get(f"/cases/{task.case_id}").get_data(as_text=True)
    assert f"/team/tasks/{task.id}/urge?back=case" in case_page
    form = client.get(f"/team/tasks/{task.id}/urge?back=case").get_data(as_text=True)
    assert "王承办" in form and 'name="note"' in form
    missing = post(client, f"/team/tasks/{task.id}/urge", {"note": "", "pin": PIN, "back": "case"},
                   token_from=f"/team/tasks/{task.id}/urge")
    assert missing.status_code == 422 and "督办意见必填" in missing.get_data(as_text=True)
    sent = post(client, f"/team/tasks/{task.id}/urge", {"note": "<i>明日前完成</i>", "pin": PIN, "back": "case"},
                token_from=f"/team/tasks/{task.id}/urge")
    assert sent.status_code == 302 and sent.headers["Location"].endswith(f"/cases/{task.case_id}")
    after = client.get(f"/cases/{task.case_id}").get_data(as_text=True)
    assert "已督办" in after and "已通知 王承办" in tags_out(after)
    assert "&lt;i&gt;明日前完成" in after and "<i>明日前完成" not in after  # the timeline shows the note, escaped
    with svc.uow.read() as session:
        assert session.execute(select(NotificationRow.recipient, NotificationRow.kind)
                               .where(NotificationRow.kind == "urged")).all() == [("officer1", "urged")]
