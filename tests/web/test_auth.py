"""Login, logout, CSRF, secure cookies and the lockout after repeated failures."""

from __future__ import annotations

from tests.web.webhelpers import PASSWORD, csrf_token, login, post


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
    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SESSION_COOKIE_SECURE": True, "CASETRAIL_CLOCK": clock},
                     services=svc)
    from tests.web.webhelpers import add_users

    add_users(svc, clock)
    client = app.test_client()
    token = csrf_token(client)
    response = client.post("/login", data={"user_id": "officer1", "password": PASSWORD, "csrf_token": token})
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("casetrail_session="))
    assert "Secure" in cookie


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, clock):
    for _ in range(5):
        token = csrf_token(client)
        client.post("/login", data={"user_id": "officer1", "password": "guess", "csrf_token": token})
    token = csrf_token(client)
    response = client.post("/login", data={"user_id": "officer1", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429
    assert "锁定" in response.get_data(as_text=True)
    clock.advance(minutes=16)
    login(client, "officer1")  # the lock runs out


def test_a_successful_login_resets_the_failure_count(client):
    for _ in range(4):
        token = csrf_token(client)
        client.post("/login", data={"user_id": "officer1", "password": "guess", "csrf_token": token})
    login(client, "officer1")
    post(client, "/logout")
    for _ in range(4):
        token = csrf_token(client)
        client.post("/login", data={"user_id": "officer1", "password": "guess", "csrf_token": token})
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
