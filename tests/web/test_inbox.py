"""The inbox page: a person's notices with the unread count in the header, marking read (CSRF), their own only,
and the mail settings page with a clear error for a bad address."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.db.notice_tables import NotificationRow
from engine.db.tables import UserRow
from engine.enums import NoticeKind
from engine.usecases.notifications import notify
from tests.web.webhelpers import login, post, tags_out

UNREAD = re.compile(r'id="nav-inbox"[^>]*>[^<]*<span class="badge warn unread-count"[^>]*>(\d+)</span>')


def _unread_badge(html: str) -> int:
    found = UNREAD.search(html)
    return int(found.group(1)) if found else 0


def _notices(svc, user_id: str) -> list[NotificationRow]:
    with svc.uow.read() as s:
        return list(s.scalars(select(NotificationRow).where(NotificationRow.recipient == user_id)))


def test_the_head_sees_the_new_complaint_in_the_inbox_and_marks_it_read(model, client, svc, at_acceptance_review):
    number = at_acceptance_review.case.number
    login(client, "head")
    html = client.get("/tasks").get_data(as_text=True)
    assert _unread_badge(html) == 1
    page = client.get("/inbox").get_data(as_text=True)
    assert "有新的待办任务" in page and number in page and "受理审查" in page and "由 李受理" in tags_out(page)
    assert 'action="/inbox/read"' in page  # marking read from the whole list comes back to the whole list
    english = client.get("/inbox?lang=en").get_data(as_text=True)
    assert "A new task is offered to you" in english and "by 李受理" in tags_out(english)
    [notice] = _notices(svc, "head")
    assert client.post("/inbox/read", data={"id": str(notice.id)}).status_code == 400  # no CSRF token
    assert _notices(svc, "head")[0].read_at is None
    response = post(client, "/inbox/read", {"id": str(notice.id)}, token_from="/inbox")
    assert response.status_code == 302
    assert _notices(svc, "head")[0].read_at is not None
    assert _unread_badge(client.get("/inbox").get_data(as_text=True)) == 0
    assert number not in client.get("/inbox?unread=1").get_data(as_text=True)


def test_opening_a_notice_goes_to_its_task_and_nobody_reaches_anothers(model, client, svc, at_acceptance_review):
    [notice] = _notices(svc, "head")
    login(client, "officer1")
    assert post(client, f"/inbox/{notice.id}/open", token_from="/inbox").status_code == 404
    post(client, "/inbox/read", {"id": str(notice.id)}, token_from="/inbox")
    assert _notices(svc, "head")[0].read_at is None  # another's notice: nothing changed
    assert post(client, "/inbox/read", {"id": "x"}, token_from="/inbox").status_code == 400
    login(client, "head")
    opened = post(client, f"/inbox/{notice.id}/open", token_from="/inbox")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/tasks/{notice.task_id}")
    assert _notices(svc, "head")[0].read_at is not None


def test_a_notes_markup_is_shown_as_text(model, client, svc, clock, at_acceptance_review):
    with svc.uow() as work:
        notify(work.session, recipients=["officer1"], kind=NoticeKind.URGED, case_id=at_acceptance_review.case.id,
               task_id=None, by="head", note="<script>alert(1)</script>", clock=clock)
        work.commit()
    login(client, "officer1")
    page = client.get("/inbox").get_data(as_text=True)
    assert "任务被督办" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_mail_settings_refuse_a_bad_address_and_keep_a_good_one(app, client, svc):
    login(client, "officer1")
    page = client.get("/inbox/settings").get_data(as_text=True)
    # The defaults: what needs the person now is mailed, offers and early warnings are not.
    assert 'value="assigned" checked' in page and 'value="offered" checked' not in page
    bad = post(client, "/inbox/settings", {"email": "not an address", "mailed": ["offered"]},
               token_from="/inbox/settings")
    assert bad.status_code == 422 and "电子邮件地址无效" in bad.get_data(as_text=True)
    with svc.uow.read() as s:
        assert s.get(UserRow, "officer1").email is None
    good = post(client, "/inbox/settings", {"email": "wang@agency.example", "mailed": ["offered", "overdue"]},
                token_from="/inbox/settings")
    assert good.status_code == 302
    page = client.get("/inbox/settings").get_data(as_text=True)
    assert 'value="wang@agency.example"' in page
    assert 'value="offered" checked' in page and 'value="assigned" checked' not in page
