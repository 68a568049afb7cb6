"""The evidence upload widget in Chromium behind nginx configured as docs/deployment.md says ("4. nginx in front"):
the guide's own nginx block, with only its addresses changed, routes an upload's own address (/uploads/<id>) to
`casetrail receiver` and everything else, creating the upload too, to `casetrail serve`. A recording goes up whole
and is staged with its digest, every chunk having gone through the receiver (nginx's access log says where each
request went) in processes that stay small; then the receiver is stopped between two chunks of another recording
and started again on its port: the page retries and goes on from the bytes already there."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench._tus import GeneratedVideo
from engine.usecases.evidence import list_evidence
from tests.browser.conftest import shot
from tests.browser.test_browser_flows import log_in
from tests.browser.test_uploads import MB, Server, db_template, onsite, write_recording
from tests.served import (
    REPO,
    free_port,
    receiver_processes,
    serve_environment,
    start_receiver,
    stop_server,
    wait_for_port,
)
from tests.web.test_uploads import _status_kib

pytestmark = pytest.mark.browser

__all__ = ["db_template", "onsite"]  # the fixtures of tests/browser/test_uploads.py: the on-site inspection case

CHUNK = 8 * MB  # the widget's chunk (data-chunk)
GUIDE = REPO / "docs" / "deployment.md"
UPLOAD = re.compile(r"/uploads/[0-9a-f]{32}")
# Each request nginx handled: what, its answer, the tus offset it claimed, and where nginx sent it.
LOG_FORMAT = "'$request_method $uri $status $http_upload_offset $upstream_addr'"


class Receiver(Server):
    """`casetrail receiver` before the app at `app` on a fixed port (nginx's upstream), to be stopped and started
    again."""

    def __init__(self, environment: dict[str, str], app: str) -> None:
        super().__init__(environment)
        self.app = app

    def start(self) -> None:
        self.process, _ = start_receiver(self.environment, self.app, self.port)


def guide_nginx() -> str:
    """The nginx configuration of docs/deployment.md, section "4. nginx in front"."""
    text = GUIDE.read_text(encoding="utf-8")
    found = re.search(r"```nginx\n(.*?)```", text[text.index("## 4. nginx in front"):], re.S)
    assert found, "docs/deployment.md has no nginx block in '4. nginx in front'"
    return found.group(1)


def routed_like_the_guide(guide: str, upstreams: dict[str, str], listen: str) -> str:
    """The guide's configuration with only its addresses changed: each upstream's servers become the one address
    given (with the guide's parameters), the server listens on `listen` in plain HTTP (its TLS lines dropped).
    Its locations, body limits and buffering are the guide's, word for word."""
    # What the routing rests on, so that a guide that lost it fails here rather than pass by another route.
    uploads = re.search(r'^ *location ~ "\^/uploads/\[0-9a-f\]\{32\}\$" \{\n(.*?)^ *\}', guide, re.S | re.M)
    assert uploads and "proxy_pass http://casetrail_uploads;" in uploads.group(1), guide
    everything = re.search(r"^ *location / \{\n(.*?)^ *\}", guide, re.S | re.M)
    assert everything and "proxy_pass http://casetrail;" in everything.group(1), guide
    assert re.search(r"^ *proxy_request_buffering off;", guide, re.M) and "client_max_body_size" in guide
    wanted = dict(upstreams)

    def upstream(match: re.Match[str]) -> str:
        name, first = match.group(1), re.search(r"^ *server +\S+(.*);$", match.group(2), re.M)
        assert first, match.group(0)
        return f"upstream {name} {{\n    server {wanted.pop(name)}{first.group(1)};\n}}"

    config = re.sub(r"^upstream (\w+) \{\n(.*?)^\}", upstream, guide, flags=re.S | re.M)
    assert not wanted, f"upstreams not in the guide: {wanted}"
    config, listening = re.subn(r"^( *)listen .*;$", lambda m: f"{m.group(1)}listen {listen};", config, flags=re.M)
    assert listening == 1, guide
    return re.sub(r"^ *ssl_\w+ .*\n", "", config, flags=re.M)


@dataclass
class Front:
    url: str  # nginx's: where the browser goes
    app: str  # host:port of `casetrail serve`, as nginx's log names its upstream
    receiver: Receiver
    log: Path

    def requests(self) -> list[tuple[str, str, int, str, str]]:
        """nginx's access log: (method, path, status, Upload-Offset, upstream address)."""
        rows = []
        for line in self.log.read_text().splitlines():
            method, uri, status, offset, upstream = line.split(" ", 4)
            rows.append((method, uri, int(status), offset, upstream))
        return rows


def run_nginx(directory: Path, config: str) -> subprocess.Popen:
    """An nginx of the test's own (prefix, configuration, logs, pid and temporary files under `directory`), in the
    foreground; never the system's service."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is not installed: run scripts/setup.sh")
    directory.mkdir()
    temp = "\n".join(f"    {kind}_temp_path {directory / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                                "uwsgi", "scgi"))
    # As root its workers would run as `nobody`, who may not enter the test's directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {directory / 'nginx.pid'};\nerror_log {directory / 'error.log'} warn;\n"
        f"events {{ worker_connections 256; }}\nhttp {{\n    log_format routed {LOG_FORMAT};\n"
        f"    access_log {directory / 'access.log'} routed;\n{temp}\n\n{config}}}\n")
    command = [nginx, "-p", f"{directory}/", "-c", str(directory / "nginx.conf"), "-e", str(directory / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, f"nginx refuses the guide's configuration:\n{checked.stderr}"
    return subprocess.Popen([*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture
def front(svc, tmp_path, onsite) -> Iterator[Front]:
    """`casetrail serve --workers 2`, `casetrail receiver` before it, and nginx before both as the guide has it."""
    app = Server(serve_environment(svc, tmp_path))
    receiver = Receiver(app.environment, app.url)
    nginx = None
    try:
        app.start()
        receiver.start()
        port = free_port()
        listen = f"127.0.0.1:{port}"
        config = routed_like_the_guide(guide_nginx(), {"casetrail": f"127.0.0.1:{app.port}",
                                                       "casetrail_uploads": f"127.0.0.1:{receiver.port}"}, listen)
        nginx = run_nginx(tmp_path / "nginx", config)
        wait_for_port(nginx, port)
        yield Front(f"http://{listen}", f"127.0.0.1:{app.port}", receiver, tmp_path / "nginx" / "access.log")
    finally:
        if nginx is not None:
            stop_server(nginx)
        receiver.stop()
        app.stop()


def test_uploads_go_through_nginx_to_the_receiver_as_the_guide_routes_them(browser, svc, front, onsite, tmp_path):
    case, task, officer = onsite
    receiver = f"127.0.0.1:{front.receiver.port}"
    first = GeneratedVideo(20 * MB + 12345, seed=21)  # three chunks, the last one short
    second = GeneratedVideo(20 * MB + 54321, seed=22)
    recordings = [write_recording(tmp_path / "执法记录仪 0915.mp4", first),
                  write_recording(tmp_path / "执法记录仪 0916.mp4", second)]
    context = browser.new_context(base_url=front.url, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    chunks = {"sent": 0}

    def stop_between_chunks(route) -> None:
        if route.request.method == "PATCH":
            chunks["sent"] += 1
            if chunks["sent"] == 2:  # the first chunk is in; the second finds no receiver behind nginx (502)
                front.receiver.stop()
        route.continue_()

    try:
        log_in(page, officer)
        page.goto(f"/tasks/{task.id}")
        assert page.locator(".evidence-upload.js-upload").get_attribute("data-chunk") == str(CHUNK)
        page.set_input_files(".evidence-upload input[type=file][multiple]", str(recordings[0]))
        page.wait_for_selector(".upload-item.done", timeout=120_000)
        peaks = {pid: _status_kib(pid, "VmHWM") / 1024 for pid in receiver_processes(front.receiver.port)}
        assert len(peaks) == 2 and max(peaks.values()) < 100, peaks  # master and worker, MB since they started

        page.route("**/uploads/*", stop_between_chunks)
        page.set_input_files(".evidence-upload input[type=file][multiple]", str(recordings[1]))
        page.wait_for_selector(".upload-item.retrying", timeout=60_000)
        assert front.receiver.process is None and chunks["sent"] >= 2
        # The page asks nginx where the upload stands and gets 502 too: tried again, not taken for a lost upload.
        for _ in range(600):
            if any((m, s) == ("HEAD", 502) for m, _, s, *_ in front.requests()):
                break
            page.wait_for_timeout(100)
        else:
            raise AssertionError(f"no HEAD while the receiver was down: {front.requests()}")
        shot(page, "upload-behind-nginx-retrying")
        front.receiver.start()  # the same port: nginx's upstream is back
        page.wait_for_function("() => document.querySelectorAll('.upload-item.done').length === 2", timeout=120_000)
        shot(page, "upload-behind-nginx")
        rows = page.locator(".evidence-upload .evidence-list li[data-id]")
        assert sorted(rows.locator(".sha").evaluate_all("els => els.map(e => e.title)")) == \
            sorted([first.sha256, second.sha256])
    finally:
        context.close()
    assert not errors, errors
    staged = list_evidence(svc, case.number, officer)
    assert sorted((f.name, f.sha256, f.size, f.task_id) for f in staged) == \
        sorted((r.name, v.sha256, v.length, task.id) for r, v in zip(recordings, (first, second), strict=True))

    requests = front.requests()
    assert [(s, a) for m, u, s, _, a in requests if (m, u) == ("POST", "/uploads")] == [(201, front.app)] * 2
    own = [(m, u, s, o, a) for m, u, s, o, a in requests if UPLOAD.fullmatch(u)]
    assert {a for *_, a in own} == {receiver}, own  # every PATCH and HEAD of an upload: the receiver's
    assert all(a == front.app for m, u, *_, a in requests if not UPLOAD.fullmatch(u))
    ids = list(dict.fromkeys(u for _, u, *_ in own))
    assert len(ids) == 2, own
    patches = {i: [(s, int(o)) for m, u, s, o, _ in own if (m, u) == ("PATCH", i)] for i in ids}
    assert patches[ids[0]] == [(204, 0), (204, CHUNK), (204, 2 * CHUNK)], own
    resumed = [(s, o) for s, o in patches[ids[1]] if s != 502]
    assert resumed == [(204, 0), (204, CHUNK), (204, 2 * CHUNK)], own  # on from the first chunk, not from 0
    assert (502, CHUNK) in patches[ids[1]], own  # the chunk nginx could not pass on while the receiver was down
