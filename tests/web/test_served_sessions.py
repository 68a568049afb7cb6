"""Sessions end on every server process at once (issue 13 item 3): two `casetrail serve --workers 2` processes
on one database; a session ended through one of them, or by the command line, is refused by all of them."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.served import REPO, served
from tests.web.webhelpers import PASSWORD, TOKEN

COOKIE = re.compile(r"casetrail_session=([^;]*)")


class Visitor:
    """A browser reduced to what these tests need: one cookie, a new connection for every request (so the
    requests are spread over the server's workers), no redirects followed."""

    def __init__(self, cookie: str = "") -> None:
        self.cookie = cookie

    def request(self, base: str, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        url = urllib.parse.urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
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
