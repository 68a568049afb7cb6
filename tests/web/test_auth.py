"""Login, logout, CSRF, secure cookies, sessions ended on the server, growing delays after failures, and the\nuser's own password."""

from __future__ import annotations

import pytest

from tests.web.webhelpers import PASSWORD, TOKEN, csrf_token, login, post


def test_login_page_is_chinese_first_with_an_english_switch(client):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html
    assert "English" in html
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in english


def test_login_with_the_right_password_leads_to_the_task_list(client):
    login(client, "officer1")
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/tasks")
    assert "王承办" in client.get("/tasks").get_data(as_text=True)


def test_login_with_a_wrong_password_is_refused(client):
    token = csrf_token(client)
    response = client.post("/login", data={"user_id": "officer1", "password": "wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302  # still not logged in


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"user_id": "officer1", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/tasks").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(client):
    token = csrf_token(client)
    response = client.post("/login", data={"user_id": "officer1", "password": PASSWORD, "csrf_token": token})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("casetrail_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_secure_cookie_when_configured(svc, clock):
    from web.app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SESSION_COOKIE_SECURE": True, "CASETRAIL_CLOCK": clock},
                     services=svc)
    from tests.web.webhelpers import add_users

    add_users(svc, clock)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"user_id": "officer1", "password": PASSWORD, "csrf_token": token})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("casetrail_session="))
    assert "Secure" in cookie


def _guess(client, user_id="officer1", password="guess", **environ):
    token = csrf_token(client)
    return client.post("/login", data={"user_id": user_id, "password": password, "csrf_token": token},
                       environ_base=environ)


def test_repeated_wrong_passwords_are_slowed_down_with_429_and_retry_after_not_locked(app, client, clock):
    for _ in range(5):
        assert _guess(client).status_code == 401
    response = _guess(client)  # the sixth: a wait of one second starts
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert "请 1 秒后再试" in response.get_data(as_text=True)
    refused = _guess(client, password=PASSWORD)  # even the right password must wait from this source
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    owner = app.test_client()  # the owner, at another address, is not slowed at all
    assert _guess(owner, password=PASSWORD, REMOTE_ADDR="10.9.8.7").status_code == 302
    clock.advance(seconds=1)
    login(client, "officer1")  # the wait ran out


def test_the_wait_is_told_in_minutes_in_english_too(client, clock):
    client.get("/login?lang=en")
    for _ in range(5 + 9):  # waits of 1, 2, … 256 s, then 512 s
        response = _guess(client)
        clock.advance(seconds=int(response.headers.get("Retry-After", 0)))
    response = _guess(client)
    assert response.status_code == 429 and response.headers["Retry-After"] == "512"
    assert "try again in 9 min" in response.get_data(as_text=True)


def test_a_successful_login_resets_the_failure_count(client):
    for _ in range(4):
        _guess(client)
    login(client, "officer1")
    post(client, "/logout")
    for _ in range(4):
        _guess(client)
    login(client, "officer1")


def test_a_copied_cookie_is_worthless_after_logout(app, client):
    login(client, "officer1")
    copy = app.test_client()
    copy.set_cookie("casetrail_session", client.get_cookie("casetrail_session").value)
    assert copy.get("/tasks").status_code == 200
    post(client, "/logout")
    response = copy.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_new_session_id_at_every_login(app, client):
    from web.security import SESSION_ID

    client.get("/login")
    with client.session_transaction() as before:
        before[SESSION_ID] = "planted-by-an-attacker"
    login(client, "officer1")
    with client.session_transaction() as after:
        assert after[SESSION_ID] != "planted-by-an-attacker" and len(after[SESSION_ID]) >= 43


def test_the_cookie_of_an_earlier_release_no_longer_logs_anyone_in(client):
    with client.session_transaction() as cookie:
        cookie["user_id"] = "admin"  # what the cookie carried before sessions were kept on the server
    assert client.get("/admin/users").status_code == 302


def test_changing_the_password_ends_every_session_and_asks_for_a_new_login(app, client):
    login(client, "officer1")
    other = app.test_client()
    login(other, "officer1")
    form = {"current": PASSWORD, "new": "lantern-quay-2027", "new_again": "lantern-quay-2027"}
    response = post(client, "/account/password", form, token_from="/account/password")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert other.get("/tasks").status_code == 302
    assert client.get("/tasks").status_code == 302
    login(client, "officer1", "lantern-quay-2027")


def test_a_common_or_short_new_password_is_refused_on_the_form(client):
    login(client, "officer1")
    for weak in ("password123", "1234567890", "officer1officer1", "short-1"):
        response = post(client, "/account/password", {"current": PASSWORD, "new": weak, "new_again": weak},
                        token_from="/account/password")
        html = response.get_data(as_text=True)
        assert response.status_code == 422, weak
        assert "field-error" in html and ("常见" in html or "至少 10 位" in html)
    assert client.get("/tasks").status_code == 200  # nothing changed, still logged in


def test_a_wrong_current_password_or_differing_new_ones_change_nothing(client):
    login(client, "officer1")
    wrong = post(client, "/account/password", {"current": "guess", "new": "lantern-quay-2027",
                                               "new_again": "lantern-quay-2027"}, token_from="/account/password")
    assert wrong.status_code == 422 and "当前密码错误" in wrong.get_data(as_text=True)
    differ = post(client, "/account/password", {"current": PASSWORD, "new": "lantern-quay-2027",
                                                "new_again": "lantern-quay-2028"}, token_from="/account/password")
    assert differ.status_code == 422 and "不一致" in differ.get_data(as_text=True)
    post(client, "/logout")
    login(client, "officer1")


def test_logout_needs_a_post_with_csrf(client):
    login(client, "officer1")
    assert client.post("/logout").status_code == 400
    assert client.get("/tasks").status_code == 200
    assert post(client, "/logout").status_code == 302
    assert client.get("/tasks").status_code == 302


def test_next_parameter_never_leaves_the_site(client):
    token = csrf_token(client)
    response = client.post("/login?next=https://evil.example/", data={
        "user_id": "officer1", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_pages_forbid_framing_and_foreign_scripts(client):
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def _https_app(svc, clock, **config):
    from web.app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "x", "CASETRAIL_CLOCK": clock, **config}, services=svc)


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("casetrail_session="))


def _login_response(client, **headers):
    token = csrf_token(client)
    return client.post("/login", data={"user_id": "officer1", "password": PASSWORD, "csrf_token": token},
                       headers=headers)


def test_behind_a_trusted_proxy_https_gets_a_secure_cookie_and_hsts(app, svc, clock):
    client = _https_app(svc, clock, CASETRAIL_TRUSTED_PROXIES=1, WTF_CSRF_SSL_STRICT=False).test_client()
    response = _login_response(client, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 302
    assert "Secure" in _session_cookie(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    plain = client.get("/login")  # the proxy says plain HTTP: no HSTS (a browser would ignore it anyway)
    assert "Strict-Transport-Security" not in plain.headers


def test_without_a_configured_proxy_a_forwarded_https_header_is_not_believed(app, client):
    response = _login_response(client, **{"X-Forwarded-Proto": "https"})
    assert response.status_code == 302
    assert "Secure" not in _session_cookie(response)
    assert "Strict-Transport-Security" not in response.headers


def test_https_straight_to_the_app_gets_a_secure_cookie_and_hsts(app, svc, clock):
    client = _https_app(svc, clock, WTF_CSRF_SSL_STRICT=False).test_client()
    https = "https://localhost"  # a server terminating TLS itself
    token = TOKEN.search(client.get("/login", base_url=https).get_data(as_text=True)).group(1)
    response = client.post("/login", base_url=https,
                           data={"user_id": "officer1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in _session_cookie(response)
    assert "Strict-Transport-Security" in response.headers


def test_the_throttle_sees_the_client_address_only_through_a_trusted_proxy(app, svc, clock):
    trusting = _https_app(svc, clock, CASETRAIL_TRUSTED_PROXIES=1).test_client()
    for _ in range(6):  # a script at 10.0.0.66, through the proxy
        _guess(trusting, **{"HTTP_X_FORWARDED_FOR": "10.0.0.66"})
    assert _guess(trusting, password=PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.66").status_code == 429
    assert _guess(trusting, password=PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.5").status_code == 302
    untrusting = _https_app(svc, clock).test_client()  # a claimed address is ignored: the same source for both
    assert _guess(untrusting, password=PASSWORD, HTTP_X_FORWARDED_FOR="10.0.0.7").status_code == 302


def test_a_bad_number_of_trusted_proxies_is_a_configuration_error(svc, clock):
    from engine.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        _https_app(svc, clock, CASETRAIL_TRUSTED_PROXIES="yes")
