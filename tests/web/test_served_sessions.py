"""Two `casetrail serve --workers 2` processes on one database, as a platform runs them: a session ended through
one of them, or by the command line, is refused by all of them (issue 13 item 3); wrong signing PINs sent to
different processes count against one retry counter, and the key blocked through one is blocked in all (item 2)."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.served import REPO, served
from tests.web.webhelpers import PASSWORD, PIN, TOKEN

COOKIE = re.compile(r"casetrail_session=([^;]*)")


class Visitor:
    """A browser reduced to what these tests need: one cookie, a new connection for every request (so the
    requests are spread over the server's workers), no redirects followed."""

    def __init__(self, cookie: str = "", timeout: float = 30) -> None:
        self.cookie = cookie
        self.timeout = timeout  # seconds a request may take (a loaded machine runs slow; it is no failure)

    def request(self, base: str, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        url = urllib.parse.urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=self.timeout)
        headers = {"Cookie": f"casetrail_session={self.cookie}"} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            if match := COOKIE.match(header):
                self.cookie = match.group(1)
        return response.status, response.headers.get("Location", ""), text

    def post(self, base: str, path: str, form: dict[str, str], token_from: str) -> tuple[int, str, str]:
        token = TOKEN.search(self.request(base, "GET", token_from)[2])
        assert token, f"no CSRF token on {token_from}"
        return self.request(base, "POST", path, {**form, "csrf_token": token.group(1)})

    def log_in(self, base: str, user_id: str) -> None:
        status, location, _ = self.post(base, "/login", {"user_id": user_id, "password": PASSWORD}, "/login")
        assert status == 302 and not location.endswith("/login")


@pytest.fixture
def servers(app, svc, tmp_path) -> Iterator[list[str]]:
    with served(svc, tmp_path) as urls:
        yield urls


def _status_everywhere(servers: list[str], cookie: str, times: int = 6) -> set[int]:
    """The status of /tasks with `cookie`, asked `times` times of each server (so of each of its workers)."""
    return {Visitor(cookie).request(base, "GET", "/tasks")[0] for base in servers for _ in range(times)}


def test_a_copied_cookie_is_refused_by_every_worker_after_logout(servers):
    officer = Visitor()
    officer.log_in(servers[0], "officer1")
    copied = officer.cookie
    assert _status_everywhere(servers, copied) == {200}
    status, location, _ = officer.post(servers[0], "/logout", {}, "/tasks")
    assert status == 302 and location.endswith("/login")
    assert _status_everywhere(servers, copied) == {302}  # back to the login page, on every worker of both


def test_ending_every_session_on_the_command_line_reaches_every_running_worker(servers, svc, tmp_path):
    browsers = [Visitor() for _ in servers]
    for browser, base in zip(browsers, servers, strict=True):
        browser.log_in(base, "officer1")
    assert {s for b in browsers for s in _status_everywhere(servers, b.cookie, 2)} == {200}
    (tmp_path / "cli-data").mkdir()
    (tmp_path / "cli-data" / "keys").symlink_to(svc.agency_keys.directory)
    env = {"CASETRAIL_DATABASE_URL": svc.engine.url.render_as_string(hide_password=False),
           "CASETRAIL_DATA_DIR": str(tmp_path / "cli-data"), "PYTHONWARNINGS": "ignore", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "web.cli", "user", "end-sessions", "officer1", "--by", "admin",
                           "--reason", "电脑遗失"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 logins ended" in done.stdout
    assert {s for b in browsers for s in _status_everywhere(servers, b.cookie, 3)} == {302}


@pytest.fixture
def model_servers(model, svc, tmp_path) -> Iterator[list[str]]:
    with served(svc, tmp_path) as urls:
        yield urls


def test_wrong_pins_sent_to_different_server_processes_count_against_one_counter(model_servers, svc):
    from engine.usecases.signing_pins import signing_pin
    from tests.web.test_signing_pins import COMPLAINT

    first, second = Visitor(), Visitor()
    first.log_in(model_servers[0], "clerk")
    second.log_in(model_servers[1], "clerk")
    tries = svc.settings.security.signing_pin_attempts
    left = []
    for attempt in range(tries):
        browser, base = (first, model_servers[0]) if attempt % 2 == 0 else (second, model_servers[1])
        status, _, page = browser.post(base, "/cases/new", {**COMPLAINT, "pin": "000000"}, "/cases/new")
        assert status == 403
        found = re.search(r"还可再试 (\d+) 次", page)
        left.append(int(found.group(1)) if found else 0)
    assert left == list(range(tries - 1, -1, -1))  # one counter, whichever process was asked
    assert signing_pin(svc, "clerk").blocked
    for browser, base in ((first, model_servers[0]), (second, model_servers[1])):
        status, _, page = browser.post(base, "/cases/new", {**COMPLAINT, "pin": PIN}, "/cases/new")
        assert status == 403 and "被锁定" in page  # the right PIN no longer opens the key, on either server
