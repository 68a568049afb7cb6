"""Helpers for the web tests: users, logins with CSRF tokens, a clock the test moves by hand."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from dataclasses import dataclass

from flask.testing import FlaskClient

from engine.demo_users import demo_certificate
from engine.services import Services
from engine.usecases.users import add_user
from engine.values import AddUser

PASSWORD = "correct-horse-2026"
PIN = "123456"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "clerk": ("李受理", ("intake",)),
    "officer1": ("王承办", ("officer",)),
    "officer2": ("赵承办", ("officer",)),
    "panel1": ("周合议", ("panel",)),
    "panel2": ("吴合议", ("panel",)),
    "panel3": ("郑合议", ("panel",)),
    "legal": ("冯法制", ("legal",)),
    "head": ("陈局长", ("head",)),
    "publisher": ("褚公示", ("publisher",)),
    "auditor": ("卫审计", ("auditor",)),
    "admin": ("蒋管理", ("admin",)),
}


@dataclass
class MovableClock:
    moment: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += dt.timedelta(**delta)


def add_users(svc: Services, clock: MovableClock) -> None:
    """The test users, each with a signing key under PIN (everyone who completes a step signs it)."""
    for user_id, (name, roles) in USERS.items():
        add_user(AddUser(user_id=user_id, name=name, password=PASSWORD, roles=list(roles), unit="测试科",
                         pin=PIN, **demo_certificate(user_id)), svc=svc, clock=clock)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, user_id: str, password: str = PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"user_id": user_id, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def post(client: FlaskClient, path: str, data: dict | None = None, *, token_from: str = "/tasks", **kwargs):
    """A POST with the CSRF token a real browser would send (taken from a page of the same session)."""
    token = csrf_token(client, token_from)
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def tags_out(html: str) -> str:
    """The page's text as read: tags taken out, not replaced (a name marked as case data reads on with what follows
    it, `王承办、孙承办`), character references resolved."""
    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))
