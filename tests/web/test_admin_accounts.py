"""Administration of accounts and keys, definition versions and working days: admins only, CSRF on every form."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.usecases.calendar import working_day_changes
from engine.usecases.definitions import list_definitions
from engine.usecases.tasks import list_tasks, show_task
from engine.usecases.users import account_history, get_user, signing_certificates
from tests.web.webhelpers import PASSWORD, PIN, csrf_token, login, post

ADMIN_PAGES = ["/admin/users", "/admin/users/officer2", "/admin/definitions", "/admin/calendar"]
ADMIN_POSTS = [
    ("/admin/users/officer2/active", {"active": "0", "reason": "调离"}),
    ("/admin/users/officer2/revoke", {"reason": "密钥遗失"}),
    ("/admin/users/officer2/rekey", {"pin": "654321", "pin_again": "654321", "reason": "更换设备"}),
    ("/admin/users/officer2/end-sessions", {"reason": "电脑遗失"}),
    ("/admin/calendar", {"day": "2026-11-16", "kind": "off", "reason": "调休"}),
    ("/admin/users", {"user_id": "sneaky", "name": "某人", "password": "a-long-password", "roles": ["admin"]}),
]


def _deactivate(client, user_id: str, reason: str = "调离本单位"):
    return post(client, f"/admin/users/{user_id}/active", {"active": "0", "reason": reason},
                token_from=f"/admin/users/{user_id}")


@pytest.mark.parametrize("who", ["officer1", "head", "auditor"])
def test_non_admins_get_403_on_every_admin_page_and_action(app, client, svc, who):
    login(client, who)
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    fingerprint = signing_certificates(svc)["officer2"].fingerprint
    for path, data in ADMIN_POSTS:
        assert post(client, path, data, token_from="/tasks").status_code == 403, path
    assert get_user(svc, "officer2").active
    assert signing_certificates(svc)["officer2"].fingerprint == fingerprint
    assert signing_certificates(svc)["officer2"].revoked_at is None
    assert working_day_changes(svc) == []


def test_admin_forms_without_the_csrf_token_are_refused(app, client, svc):
    login(client, "admin")
    for path, data in ADMIN_POSTS:
        assert client.post(path, data=data).status_code == 400, path
    assert get_user(svc, "officer2").active
    assert signing_certificates(svc)["officer2"].revoked_at is None
    assert working_day_changes(svc) == []


def test_a_deactivated_user_cannot_log_in_and_loses_their_session_until_reactivated(app, client, svc):
    officer = app.test_client()
    login(officer, "officer2")
    login(client, "admin")
    response = _deactivate(client, "officer2")
    assert response.status_code == 302
    assert not get_user(svc, "officer2").active
    assert officer.get("/tasks").status_code == 302  # the session ended: back to the login page
    token = csrf_token(officer)
    refused = officer.post("/login", data={"user_id": "officer2", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 401
    assert "已停用" in client.get("/admin/users").get_data(as_text=True)
    again = post(client, "/admin/users/officer2/active", {"active": "1", "reason": "返岗"},
                 token_from="/admin/users/officer2")
    assert again.status_code == 302
    login(officer, "officer2")


def test_an_administrator_ends_every_login_of_a_user_with_a_reason(app, client, svc):
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        login(browser, "officer2")
    login(client, "admin")
    page = client.get("/admin/users/officer2").get_data(as_text=True)
    assert "2 个有效登录" in page and 'id="end-sessions"' in page
    refused = post(client, "/admin/users/officer2/end-sessions", {"reason": " "}, token_from="/admin/users/officer2")
    assert refused.status_code == 422 and "请填写理由" in refused.get_data(as_text=True)
    assert all(b.get("/tasks").status_code == 200 for b in browsers)
    done = post(client, "/admin/users/officer2/end-sessions", {"reason": "电脑遗失"}, token_from="/admin/users/officer2")
    assert done.status_code == 302
    assert all(b.get("/tasks").status_code == 302 for b in browsers)  # back to the login page, every one
    page = client.get("/admin/users/officer2").get_data(as_text=True)
    assert "已结束 officer2 的 2 个登录" in page and "当前没有有效登录" in page and "结束全部登录" in page
    assert [(e.kind, e.actor, e.reason) for e in account_history(svc, "officer2")][0] == (
        "sessions_ended", "admin", "电脑遗失")
    login(browsers[0], "officer2")  # not a lock: a new login works


def test_revoking_the_certificate_on_the_admin_page_ends_the_users_logins(app, client, svc):
    officer = app.test_client()
    login(officer, "officer2")
    login(client, "admin")
    assert post(client, "/admin/users/officer2/revoke", {"reason": "密钥遗失"},
                token_from="/admin/users/officer2").status_code == 302
    assert officer.get("/tasks").status_code == 302


def test_deactivation_needs_a_reason_and_never_locks_out_the_administrator(app, client, svc):
    login(client, "admin")
    response = _deactivate(client, "officer2", reason=" ")
    assert response.status_code == 422
    assert "请填写理由" in response.get_data(as_text=True)
    assert get_user(svc, "officer2").active
    own = _deactivate(client, "admin")
    assert own.status_code == 409
    assert "不能停用自己的账户" in own.get_data(as_text=True)
    assert get_user(svc, "admin").active
    assert post(client, "/admin/users/nobody/active", {"active": "0", "reason": "x"},
                token_from="/admin/users").status_code == 404


def test_a_deactivated_officer_cannot_be_assigned(model, client, svc, at_preliminary_check):
    played = at_preliminary_check
    task = show_task(svc, next(t.id for t in list_tasks(svc, case=played.case.id) if t.spec_id == "preliminary_check"))
    assert "officer2" in task.candidates  # offered to officer2 by name: only the deactivation stands in the way
    login(client, "admin")
    assert _deactivate(client, "officer2").status_code == 302
    head = client.application.test_client()
    login(head, "head")
    refused = post(head, f"/tasks/{task.id}/assign", {"assignee": "officer2", "pin": PIN, "reason": "人手调整"},
                   token_from=f"/tasks/{task.id}")
    assert refused.status_code == 403
    assert next(t for t in list_tasks(svc, case=played.case.id) if t.id == task.id).assignee is None
    assert 'value="officer2"' not in head.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_revoking_a_certificate_and_issuing_a_new_key(app, client, svc):
    login(client, "admin")
    old = signing_certificates(svc)["officer2"]
    unexplained = post(client, "/admin/users/officer2/revoke", {"reason": "  "}, token_from="/admin/users/officer2")
    assert unexplained.status_code == 422  # an administrator says why
    assert 'id="r-reason"' in unexplained.get_data(as_text=True)
    assert signing_certificates(svc)["officer2"].revoked_at is None and account_history(svc, "officer2") == []
    response = post(client, "/admin/users/officer2/revoke", {"reason": "密钥遗失 <script>x</script>"},
                    token_from="/admin/users/officer2")
    assert response.status_code == 302
    revoked = signing_certificates(svc)["officer2"]
    assert revoked.fingerprint == old.fingerprint and revoked.revoked_at is not None
    assert "已于" in client.get("/admin/users/officer2").get_data(as_text=True)
    again = post(client, "/admin/users/officer2/revoke", {"reason": "再次吊销"}, token_from="/admin/users/officer2")
    assert again.status_code == 409  # nothing left to revoke

    differ = post(client, "/admin/users/officer2/rekey", {"pin": "654321", "pin_again": "654320"},
                  token_from="/admin/users/officer2")
    assert differ.status_code == 422
    assert "两次输入的 PIN 不一致" in differ.get_data(as_text=True)
    short = post(client, "/admin/users/officer2/rekey", {"pin": "1", "pin_again": "1"},
                 token_from="/admin/users/officer2")
    assert short.status_code == 422
    assert signing_certificates(svc)["officer2"].fingerprint == old.fingerprint  # nothing issued

    issued = post(client, "/admin/users/officer2/rekey", {"pin": "654321", "pin_again": "654321", "reason": "更换设备"},
                  token_from="/admin/users/officer2")
    assert issued.status_code == 302
    new = signing_certificates(svc)["officer2"]
    assert new.fingerprint != old.fingerprint and new.revoked_at is None
    # Who did it and why, newest first — on the page too, with what was typed escaped.
    reissued, revoked_event = account_history(svc, "officer2")
    assert (reissued.kind, reissued.actor, reissued.reason) == ("key_reissued", "admin", "更换设备")
    assert reissued.detail["issued"] == new.fingerprint and reissued.detail["revoked"] == []
    assert (revoked_event.kind, revoked_event.actor) == ("key_revoked", "admin")
    assert revoked_event.detail["revoked"] == [old.fingerprint]
    page = client.get("/admin/users/officer2").get_data(as_text=True)
    assert "重新签发密钥与证书" in page and "吊销签名证书" in page and "更换设备" in page
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


def test_the_definitions_page_lists_versions_with_their_cases(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    assert played.case.id
    login(client, "admin")
    html = client.get("/admin/definitions").get_data(as_text=True)
    (version,) = list_definitions(svc)
    assert version.current and version.cases == 1
    assert version.sha256 in html
    assert "当前版本" in html


def test_a_working_day_override_is_stored_with_its_reason_and_journalled(app, client, svc):
    login(client, "admin")
    day = dt.date(2027, 2, 8)
    response = post(client, "/admin/calendar", {"day": day.isoformat(), "kind": "off",
                                                "reason": "<script>alert(1)</script>春节调休"},
                    token_from="/admin/calendar")
    assert response.status_code == 302
    assert svc.calendar.is_workday(day) is False
    html = client.get("/admin/calendar").get_data(as_text=True)
    assert "2027-02-08" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;春节调休" in html
    (change,) = working_day_changes(svc)
    assert (change.day, change.is_workday, change.actor) == (day, False, "admin")


def test_a_working_day_override_without_reason_or_date_is_refused(app, client, svc):
    login(client, "admin")
    no_reason = post(client, "/admin/calendar", {"day": "2027-02-08", "kind": "off", "reason": ""},
                     token_from="/admin/calendar")
    assert no_reason.status_code == 422
    assert "请填写调整理由" in no_reason.get_data(as_text=True)
    bad_day = post(client, "/admin/calendar", {"day": "not-a-date", "kind": "off", "reason": "x"},
                   token_from="/admin/calendar")
    assert bad_day.status_code == 422
    nothing = post(client, "/admin/calendar", {"day": "2027-02-09", "kind": "remove", "reason": "x"},
                   token_from="/admin/calendar")
    assert nothing.status_code == 409
    assert working_day_changes(svc) == []
    assert svc.calendar.is_workday(dt.date(2027, 2, 8)) is True


def test_user_names_are_escaped_on_the_admin_pages(app, client):
    login(client, "admin")
    post(client, "/admin/users", {"user_id": "xss", "name": "<script>alert(1)</script>", "password": "a-long-password",
                                  "roles": ["officer"]}, token_from="/admin/users")
    for path in ("/admin/users", "/admin/users/xss"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
