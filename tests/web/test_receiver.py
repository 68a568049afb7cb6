"""The upload receiver (web/receiver.py, `casetrail receiver`) in front of real `casetrail serve` processes: the
bytes of PATCHes go to the receiver, everything else to the app, as nginx routes them in a deployment
(docs/deployment.md). Every refusal is the app's and comes before a byte is written; a file goes through it whole,
staged by the app; it survives a body that breaks off; the app down or the disk not writable is a clear 503 with
nothing written; and a 2 GB file passes through a process that stays under 100 MB of RSS."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench._tus import TUS, GeneratedVideo, Part, WebSession
from engine.usecases.evidence import list_evidence
from tests.dbtemplates import MIGRATED, starting_point
from tests.served import (
    REPO,
    free_port,
    receiver_log,
    receiver_processes,
    serve_environment,
    start_receiver,
    start_server,
    stop_server,
    wait_until_serving,
)
from tests.web.test_uploads import (
    MB,
    ONSITE,
    _settled_offset,
    _status_kib,
    _workers,
    break_off,
    location,
    onsite_of,
    pending,
    stored,
    uploads_dir,
    with_own_store,
)
from tests.web.webhelpers import PASSWORD


@pytest.fixture
def db_template(request: pytest.FixtureRequest):
    return starting_point(request, MIGRATED, onsite=ONSITE)


@pytest.fixture
def svc(svc, session_data_dir: Path, tmp_path: Path):
    return with_own_store(svc, session_data_dir, tmp_path)  # these tests count the files stored (test_uploads.py)


@pytest.fixture
def onsite(svc, template_result):
    return onsite_of(svc, template_result)


@pytest.fixture
def blobs(svc, onsite) -> Callable[[], list[Path]]:
    before = stored(svc)
    return lambda: sorted(stored(svc) - before)


@pytest.fixture
def deployment(svc, tmp_path, onsite) -> Iterator[tuple[str, str, dict[str, str]]]:
    """`casetrail serve --workers 2` and a receiver before it, on one data directory: (app, receiver, env)."""
    environment = serve_environment(svc, tmp_path)
    port = free_port()
    app = f"http://127.0.0.1:{port}"
    server = start_server(environment, port, workers=2)
    receiver = None
    try:
        wait_until_serving(app, server)
        receiver, url = start_receiver(environment, app)
        yield app, url, environment
    finally:
        if receiver is not None:
            stop_server(receiver)
        stop_server(server)


def session(deployment, user: str) -> WebSession:
    app, receiver, _ = deployment
    web = WebSession(app, receiver=receiver)
    web.log_in(user, PASSWORD)
    return web


def received(tmp_path: Path, url: str) -> int:
    """The bytes on disk of an upload (what any process would take as its offset)."""
    return (uploads_dir(tmp_path) / url.rsplit("/", 1)[1] / "data").stat().st_size


def test_a_file_goes_through_the_receiver_and_the_app_stages_it(svc, deployment, onsite, tmp_path, blobs):
    case, task, officer = onsite
    app, receiver, _ = deployment
    web = session(deployment, officer)
    video = GeneratedVideo(3 * MB + 7, seed=11)
    url = location(web.create(video.length, {"filename": "记录仪.mp4", "case": case.number, "task": task.id,
                                             "note": "检查全程"}))
    head = web.head(url)  # relayed to the app: its answer, word for word
    assert (head.status, head.header("Upload-Offset"), head.header("Tus-Resumable")) == (200, "0", "1.0.0")

    offset = 0
    for _ in range(3):
        answer = web.patch(url, offset, Part(video.read, MB), MB)
        assert answer.status == 204 and answer.header("Tus-Resumable") == "1.0.0", answer.body
        assert answer.header("Server") == "gunicorn" and answer.header("X-Request-Id")
        offset = int(answer.header("Upload-Offset"))
    assert offset == 3 * MB == received(tmp_path, url)
    traced = web.patch(url, offset, b"", 0, extra={"X-Request-Id": "trace-chunk-0004"})  # a proxy's request id
    assert traced.status == 204 and traced.header("X-Request-Id") == "trace-chunk-0004"
    # The app's refusals, passed on; none writes a byte.
    wrong = web.patch(url, offset - 1, b"xx", 2)
    assert wrong.status == 409 and f"已收到 {offset} 字节" in json.loads(wrong.body)["error"]
    assert web.patch(url, offset, b"x", 1, extra={"Content-Type": "application/octet-stream"}).status == 415
    assert web.patch(url, offset, b"x" * 8, 8).status == 413  # more than is left
    assert web.request("PATCH", url, headers={"Tus-Resumable": "0.2.2", "Upload-Offset": str(offset),
                                              "Content-Type": "application/offset+octet-stream",
                                              "X-CSRF-Token": web.csrf}, body=b"x").status == 412
    assert received(tmp_path, url) == 3 * MB

    last = web.patch(url, offset, Part(video.read, 7), 7)
    assert last.status == 204 and last.header("Upload-Offset") == str(video.length), last.body
    assert last.header("X-Evidence-Sha256") == video.sha256
    [staged] = list_evidence(svc, case.number, officer)
    assert (staged.id, staged.task_id, staged.note, staged.media_type, staged.size) == \
        (int(last.header("X-Evidence-Id")), task.id, "检查全程", "video/mp4", video.length)
    assert [p.name for p in blobs()] == [video.sha256]
    again = web.patch(url, video.length, b"", 0)  # the answer missed: asked again, the same file
    assert again.status == 204 and again.header("X-Evidence-Id") == last.header("X-Evidence-Id")
    assert json.loads(web.request("GET", url, headers=dict(TUS)).body)["result"]["sha256"] == video.sha256
    assert web.request("DELETE", url, headers={**TUS, "X-CSRF-Token": web.csrf}).status == 204
    assert web.head(url).status == 404
    # Only uploads' own addresses: the receiver serves nothing of the app.
    for method, path in (("GET", "/tasks"), ("POST", "/uploads"), ("GET", "/uploads/../keys")):
        stray = WebSession(receiver).request(method, path)
        assert stray.status == 404 and "只接收已创建的上传" in json.loads(stray.body)["error"]
    assert WebSession(receiver).request("POST", url).status == 405
    health = WebSession(receiver).request("GET", "/healthz")
    assert health.status == 200 and json.loads(health.body)["status"] == "ok"
    assert len(list_evidence(svc, case.number, officer)) == 1
    # One JSON line per request in the receiver's log, under the request id the app's line for it carries too.
    lines = [json.loads(line) for line in receiver_log(deployment[2], urllib.parse.urlsplit(receiver).port)
             .read_text().splitlines() if line.startswith("{")]
    patches = [(line["status"], line["received"]) for line in lines if line.get("method") == "PATCH"]
    assert patches[:3] == [(204, MB)] * 3 and (204, 7) in patches, patches
    [trace] = [line for line in lines if line.get("request_id") == "trace-chunk-0004"]
    assert (trace["logger"], trace["path"], trace["status"], trace["received"]) == ("casetrail.receiver", url, 204, 0)


def test_who_may_send_bytes_is_the_apps_decision(svc, deployment, onsite, tmp_path, blobs):
    case, task, officer = onsite
    web = session(deployment, officer)
    url = location(web.create(10, {"filename": "a.mp4", "case": case.number, "task": task.id}))
    assert web.patch(url, 0, b"x" * 10, 10, csrf=False).status == 400  # the session alone is not enough
    assert web.patch(url, 0, b"x" * 10, 10, extra={"X-CSRF-Token": "forged"}).status == 400
    anonymous = WebSession(deployment[0], receiver=deployment[1])
    assert anonymous.patch(url, 0, b"x" * 10, 10, csrf=False).status in (400, 401)  # no session: no token either
    assert anonymous.head(url).status == 401
    stranger = session(deployment, "officer3")  # not on the case; someone else's upload is unknown to them
    assert stranger.patch(url, 0, b"x" * 10, 10).status == 404
    assert stranger.head(url).status == 404
    assert stranger.request("DELETE", url, headers={**TUS, "X-CSRF-Token": stranger.csrf}).status == 404
    english = stranger.patch(url, 0, b"x" * 10, 10, extra={"Accept-Language": "en"})
    assert english.status == 404 and json.loads(english.body)["error"]  # in the language the app chose
    assert received(tmp_path, url) == 0

    program = b"\x7fELF\x02\x01\x01\x00" + bytes(4096)  # an executable named as a photo: the app's staging refuses
    url = location(web.create(len(program), {"filename": "现场.jpg", "case": case.number, "task": task.id}))
    refused = web.patch(url, 0, program, len(program))
    assert refused.status == 415 and "现场.jpg" in json.loads(refused.body)["error"]
    assert web.head(url).status == 404 and pending(tmp_path) == [p for p in pending(tmp_path) if p != url[-32:]]
    assert blobs() == [] and list_evidence(svc, case.number, officer) == ()


def test_a_body_that_breaks_off_resumes_through_the_receiver(svc, deployment, onsite):
    case, task, officer = onsite
    web = session(deployment, officer)
    video = GeneratedVideo(4 * MB, seed=12)
    data = video.read(video.length)
    url = location(web.create(len(data), {"filename": "clip.mp4", "case": case.number, "task": task.id}))
    break_off(web, deployment[1], url, data, 3 * MB // 2)  # announces 4 MiB to the receiver, sends 1.5, drops
    offset = _settled_offset(web, url)
    assert 0 < offset <= 3 * MB // 2
    answer = web.patch(url, offset, data[offset:], len(data) - offset)
    assert answer.status == 204 and answer.header("X-Evidence-Sha256") == video.sha256, answer.body
    [staged] = list_evidence(svc, case.number, officer)
    assert staged.size == len(data)


def test_the_app_down_or_the_disk_not_writable_is_a_clear_503_and_nothing_is_written(deployment, onsite, tmp_path):
    case, task, officer = onsite
    app, _, environment = deployment
    web = session(deployment, officer)
    clip = GeneratedVideo(4096, seed=13).read(4096)
    url = location(web.create(len(clip), {"filename": "a.mp4", "case": case.number, "task": task.id}))
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    orphan, orphan_url = start_receiver(environment, dead)
    try:
        cut_off = WebSession(app, cookies=web.cookies, csrf=web.csrf, receiver=orphan_url)
        answer = cut_off.patch(url, 0, clip, len(clip))
        assert answer.status == 503 and answer.header("Retry-After") == "5"
        assert "未写入任何数据" in json.loads(answer.body)["error"]
        assert (cut_off.head(url).status, json.loads(cut_off.request("GET", url, headers=dict(TUS)).body)["status"]) \
            == (503, 503)
        english = cut_off.patch(url, 0, clip, len(clip), extra={"Accept-Language": "en-GB,en"})
        assert "nothing was written" in json.loads(english.body)["error"]
    finally:
        stop_server(orphan)
    assert received(tmp_path, url) == 0

    data = uploads_dir(tmp_path) / url.rsplit("/", 1)[1] / "data"
    with _unwritable(data):  # as a read-only or failed disk refuses it
        refused = web.patch(url, 0, clip, len(clip))
    assert refused.status == 503 and "无法写入" in json.loads(refused.body)["error"], refused.body
    assert received(tmp_path, url) == 0
    resumed = web.patch(url, 0, clip, len(clip))  # the disk back: the same request goes through
    assert resumed.status == 204 and resumed.header("X-Evidence-Id"), resumed.body


@contextlib.contextmanager
def _unwritable(path: Path) -> Iterator[None]:
    """`path` unwritable for root too: `chattr +i` (immutable), else its mode."""
    if os.geteuid() != 0:
        path.chmod(0o400)
        undo = [lambda: path.chmod(0o600)]
    else:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a file read-only for root here: {made.stderr.strip()}")
        undo = [lambda: subprocess.run(["chattr", "-i", str(path)], check=True)]
    try:
        yield
    finally:
        for step in undo:
            step()


@pytest.mark.slow
@pytest.mark.parametrize("db_backend", ["sqlite"])  # bytes only: the staging's database work runs on both above
def test_a_2_gb_file_passes_through_a_receiver_under_100_mb(svc, deployment, onsite):
    """The issue's figure, absolute: no process of the receiver (master, worker) exceeds 100 MB of RSS at any
    time since it started, while 2 GiB go through it in chunks of 64 MiB; the app's workers, which stage the file
    (type, hash, blob) but never hold its bytes in a request, grow by less than 100 MB."""
    case, task, officer = onsite
    app, receiver, _ = deployment
    web = session(deployment, officer)
    port = urllib.parse.urlsplit(receiver).port
    receiving = receiver_processes(port)
    workers = _workers(app)
    for pid in workers:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = {pid: _status_kib(pid, "VmRSS") for pid in workers}
    video = GeneratedVideo(2 * 1024 * MB, seed=14)
    _, last = web.upload(video.read, video.length, {"filename": "2GB.mp4", "case": case.number, "task": task.id},
                         chunk=64 * MB)
    assert last.status == 204 and last.header("X-Evidence-Sha256") == video.sha256, last.body
    peaks = {pid: _status_kib(pid, "VmHWM") / 1024 for pid in receiving}
    assert len(receiving) == 2 and max(peaks.values()) < 100, peaks
    growth = {pid: (_status_kib(pid, "VmHWM") - before[pid]) / 1024 for pid in workers}
    assert max(growth.values()) < 100, growth
    [staged] = list_evidence(svc, case.number, officer)
    assert staged.size == 2 * 1024 * MB


def test_the_receiver_loads_no_part_of_the_app():
    """What keeps it lean: importing it (and gunicorn, which runs it) brings neither Flask nor SQLAlchemy nor the
    engine; `casetrail receiver` execs a fresh interpreter so the console script's imports are not carried over."""
    probe = ("import sys, web.receiver, gunicorn.app.base, gunicorn.workers.gthread; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'sqlalchemy', 'engine', "
             "'jinja2', 'SpiffWorkflow', 'pyhanko', 'weasyprint', 'documents', 'signatures'}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_a_receiver_that_cannot_write_the_uploads_folder_says_so_in_one_line_and_stops(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with _unwritable(data):
        done = subprocess.run([sys.executable, "-m", "web.cli", "receiver", "--port", str(free_port())], cwd=REPO,
                              env={**os.environ, "CASETRAIL_DATA_DIR": str(data), "PYTHONWARNINGS": "ignore"},
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("error: cannot use the uploads folder")
    assert list(data.iterdir()) == []
