"""Blocked signing PINs on the web: the officer is told how many tries are left and whom to ask; a head or an
administrator sees the state and unblocks it (CSRF, a reason, journalled); nobody else can."""

from __future__ import annotations

from engine import journal
from engine.errors import SigningError
from engine.usecases.signing_pins import signing_pin
from engine.usecases.users import account_history
from tests.web.webhelpers import PIN, login, post

COMPLAINT = {"channel": "hotline_12345", "received_at": "2026-09-15T10:30", "complainant.anonymous": "",
             "complainant.name": "王五", "complainant.phone": "13700000000", "respondent.name": "某某游泳馆",
             "respondent.kind": "organisation", "respondent.address": "呈州市中山路3号",
             "violation_type": "public_place_unlicensed", "content": "游泳馆无证经营。",
             "attachments.0.name": "", "attachments.0.sha256": ""}


def _block(svc, user_id: str, clock) -> None:
    for _ in range(svc.settings.security.signing_pin_attempts):
        try:
            with svc.uow.read() as session:
                journal.unlock_signer(svc, session, user_id, "000000", clock())
        except SigningError:
            pass
    assert signing_pin(svc, user_id).blocked


def test_the_officer_sees_the_tries_left_and_then_whom_to_ask(model, client, svc):
    login(client, "clerk")
    first = post(client, "/cases/new", {**COMPLAINT, "pin": "000000"}, token_from="/cases/new")
    html = first.get_data(as_text=True)
    assert first.status_code == 403 and "还可再试 4 次" in html and "4 tries left" not in html  # the page's language
    client.get("/cases/new?lang=en")
    second = post(client, "/cases/new", {**COMPLAINT, "pin": "000000"}, token_from="/cases/new")
    assert second.status_code == 403 and "3 tries left" in second.get_data(as_text=True)
    client.get("/cases/new?lang=zh")
    for _ in range(3):
        post(client, "/cases/new", {**COMPLAINT, "pin": "000000"}, token_from="/cases/new")
    blocked = post(client, "/cases/new", {**COMPLAINT, "pin": PIN}, token_from="/cases/new")
    html = blocked.get_data(as_text=True)
    assert blocked.status_code == 403 and "被锁定" in html and "陈局长 (head)" in html and "蒋管理 (admin)" in html
    assert "某某游泳馆" in html  # what was typed is kept for after the unblock


def test_an_administrator_sees_the_state_and_unblocks_with_csrf_and_a_reason(app, client, svc, clock):
    _block(svc, "officer1", clock)
    login(client, "admin")
    page = client.get("/admin/users/officer1").get_data(as_text=True)
    assert "已锁定" in page and 'id="unblock-pin"' in page
    assert client.post("/admin/users/officer1/unblock-pin", data={"reason": "核实", "back": "user"}).status_code == 400
    assert signing_pin(svc, "officer1").blocked  # no token, nothing done
    no_reason = post(client, "/admin/users/officer1/unblock-pin", {"reason": " ", "back": "user"},
                     token_from="/admin/users/officer1")
    assert no_reason.status_code == 422 and "请填写理由" in no_reason.get_data(as_text=True)
    done = post(client, "/admin/users/officer1/unblock-pin", {"reason": "电话核实本人", "back": "user"},
                token_from="/admin/users/officer1")
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/users/officer1")
    assert not signing_pin(svc, "officer1").blocked
    page = client.get("/admin/users/officer1").get_data(as_text=True)
    assert "连续输错 0 次，还可尝试 5 次" in page and 'id="unblock-pin"' not in page
    assert "解锁签名 PIN" in page and "电话核实本人" in page  # the history
    assert [(e.kind, e.actor) for e in account_history(svc, "officer1")][:2] == [
        ("pin_unblocked", "admin"), ("pin_blocked", "officer1")]


def test_a_head_finds_blocked_keys_from_the_dashboard_and_unblocks_them(app, client, svc, clock):
    _block(svc, "officer1", clock)
    login(client, "head")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'id="blocked-pins-notice"' in dashboard and "/admin/signing-pins" in dashboard
    listing = client.get("/admin/signing-pins").get_data(as_text=True)
    assert 'id="pin-officer1"' in listing and "王承办" in listing
    assert client.get("/admin/users/officer1").status_code == 403  # the account page stays the admin's
    done = post(client, "/admin/users/officer1/unblock-pin", {"reason": "本人确认系输错"},
                token_from="/admin/signing-pins")
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/signing-pins")
    assert not signing_pin(svc, "officer1").blocked
    assert "目前没有被锁定的签名密钥" in client.get("/admin/signing-pins").get_data(as_text=True)
    assert account_history(svc, "officer1")[0].actor == "head"


def test_a_head_cannot_unblock_their_own_key_and_officers_cannot_unblock_at_all(app, client, svc, clock):
    _block(svc, "head", clock)
    _block(svc, "officer1", clock)
    login(client, "head")
    listing = client.get("/admin/signing-pins").get_data(as_text=True)
    assert 'id="reason-head"' not in listing and 'id="reason-officer1"' in listing
    own = post(client, "/admin/users/head/unblock-pin", {"reason": "我自己"}, token_from="/admin/signing-pins")
    assert own.status_code == 403 and "不能解锁自己的签名PIN码" in own.get_data(as_text=True)
    assert signing_pin(svc, "head").blocked
    other = app.test_client()
    login(other, "officer2")
    assert other.get("/admin/signing-pins").status_code == 403
    assert post(other, "/admin/users/officer1/unblock-pin", {"reason": "帮同事"}).status_code == 403
    assert signing_pin(svc, "officer1").blocked
