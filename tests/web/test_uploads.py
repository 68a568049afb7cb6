"""Evidence uploads against real `casetrail serve` processes (gunicorn, 2 workers; every request on a connection of
its own, so consecutive chunks land on different workers): the tus 1.0 protocol, resuming after a body that
broke off, the limits (413, 415: nothing kept), who may upload (403/404, CSRF), and whole files by multipart."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench._tus import TUS, GeneratedVideo, Part, WebSession
from engine.blobs import DirectoryStore
from engine.demo_files import demo_pdf, demo_photo
from engine.usecases.evidence import intake_files, list_evidence
from engine.usecases.tasks import list_tasks, show_task
from tests.conftest import at
from tests.dbtemplates import MIGRATED, starting_point
from tests.served import master_on, served
from tests.web.conftest import penalty_case_until
from tests.web.webhelpers import PASSWORD, PIN

ONSITE = penalty_case_until("onsite_inspection")
MB = 1024 * 1024


@pytest.fixture
def db_template(request: pytest.FixtureRequest):
    return starting_point(request, MIGRATED, onsite=ONSITE)


def onsite_of(svc, played):
    """The default penalty case waiting for its 现场检查 (a step whose form takes photos, video and audio):
    (case, task, the officer who acts on it)."""
    case = played.case
    task = show_task(svc, next(t.id for t in list_tasks(svc, case=case.number) if t.spec_id == "onsite_inspection"))
    return case, task, task.assignee or task.candidates[0]


@pytest.fixture
def svc(svc, session_data_dir: Path, tmp_path: Path):
    """The test's Services with an evidence store of its own: these tests count the files a request stored, and
    the session's store (content-addressed) may already hold the same bytes from another test of this worker
    (the SQLite run of the same test). It starts with the session store's files (linked, never rewritten: a
    blob is written once, under its hash), among them the parties' drawn signatures of the template's cases."""
    return with_own_store(svc, session_data_dir, tmp_path)


def with_own_store(svc, session_data_dir: Path, tmp_path: Path):
    store = tmp_path / "blobs"
    if (session_data_dir / "blobs").exists():
        shutil.copytree(session_data_dir / "blobs", store, copy_function=os.link)
    svc.blobs = DirectoryStore(store)
    return svc


@pytest.fixture
def onsite(svc, template_result):
    return onsite_of(svc, template_result)


@pytest.fixture
def server(svc, tmp_path, onsite) -> Iterator[str]:
    with served(svc, tmp_path, servers=1, workers=2) as urls:
        yield urls[0]


def session(server: str, user: str) -> WebSession:
    web = WebSession(server)
    web.log_in(user, PASSWORD)
    return web


def uploads_dir(tmp_path: Path) -> Path:
    return tmp_path / "serve-data" / "uploads"


def stored(svc) -> set[Path]:
    root = svc.blobs.root  # the served processes keep their files in the test's store (tests/served.py)
    return {p for p in root.rglob("*") if p.is_file() and len(p.name) == 64} if root.exists() else set()


@pytest.fixture
def blobs(svc, server, onsite) -> Callable[[], list[Path]]:
    """The files stored since the test began: the store also holds the files of the cases played before it (the
    parties' drawn signatures of the database template's cases)."""
    before = stored(svc)
    return lambda: sorted(stored(svc) - before)


def pending(tmp_path: Path) -> list[str]:
    root = uploads_dir(tmp_path)
    return sorted(p.name for p in root.iterdir() if len(p.name) == 32) if root.exists() else []


def location(answer) -> str:
    return urllib.parse.urlsplit(answer.header("Location")).path


def test_a_file_goes_up_in_chunks_over_two_workers_and_is_staged_for_the_step(svc, server, onsite, tmp_path, blobs):
    case, task, officer = onsite
    web = session(server, officer)
    options = web.request("OPTIONS", "/uploads")
    assert options.status == 204
    assert (options.header("Tus-Version"), options.header("Tus-Resumable")) == ("1.0.0", "1.0.0")
    assert options.header("Tus-Extension") == "creation,termination,expiration"
    assert int(options.header("Tus-Max-Size")) == svc.settings.evidence.max_bytes

    video = GeneratedVideo(5 * MB + 123, seed=1)
    created = web.create(video.length, {"filename": "执法记录仪.mp4", "case": case.number, "task": task.id,
                                        "note": "进门时"})
    assert created.status == 201 and created.header("Tus-Resumable") == "1.0.0"
    assert created.header("Upload-Expires").endswith("GMT")
    url = location(created)
    head = web.head(url)
    assert (head.status, head.header("Upload-Offset"), head.header("Upload-Length")) == (200, "0", str(video.length))
    assert head.header("Cache-Control") == "no-store" and head.body == b""

    offset = 0
    for _ in range(5):  # five PATCHes of 1 MiB, each on a new connection
        answer = web.patch(url, offset, Part(video.read, MB), MB)
        assert answer.status == 204, answer.body
        offset = int(answer.header("Upload-Offset"))
    assert offset == 5 * MB and web.head(url).header("Upload-Offset") == str(5 * MB)

    wrong = web.patch(url, offset - 10, b"x" * 10, 10)
    assert wrong.status == 409 and f"已收到 {offset} 字节" in json.loads(wrong.body)["error"]
    assert web.patch(url, offset, b"x", 1, extra={"Content-Type": "application/octet-stream"}).status == 415
    assert web.request("PATCH", url, headers={"Tus-Resumable": "0.2.2", "Upload-Offset": str(offset),
                                              "Content-Type": "application/offset+octet-stream",
                                              "X-CSRF-Token": web.csrf}, body=b"x").status == 412
    assert web.head(url).header("Upload-Offset") == str(5 * MB)  # none of the refused requests wrote a byte

    last = web.patch(url, offset, Part(video.read, 123), 123)
    assert last.status == 204 and last.header("Upload-Offset") == str(video.length)
    assert last.header("X-Evidence-Sha256") == video.sha256
    status = web.request("GET", url, headers=dict(TUS))
    result = json.loads(status.body)["result"]
    assert (result["id"], result["sha256"], result["size"], result["media_type"], result["name"]) == \
        (int(last.header("X-Evidence-Id")), video.sha256, video.length, "video/mp4", "执法记录仪.mp4")
    [staged] = list_evidence(svc, case.number, officer)
    assert (staged.id, staged.task_id, staged.state, staged.note, staged.sha256) == \
        (result["id"], task.id, "staged", "进门时", video.sha256)
    # The upload keeps its answer, not its bytes: the blob store has them, once.
    assert [p.name for p in (uploads_dir(tmp_path) / url.rsplit("/", 1)[1]).iterdir()] == ["info.json"]
    assert [p.name for p in blobs()] == [video.sha256]
    again = web.patch(url, video.length, b"", 0)  # a client that missed the answer asks again: the same file
    assert again.status == 204 and again.header("X-Evidence-Id") == last.header("X-Evidence-Id")
    assert len(list_evidence(svc, case.number, officer)) == 1


def test_termination_and_unknown_and_expired_uploads(server, onsite, tmp_path):
    case, task, officer = onsite
    web = session(server, officer)
    url = location(web.create(100, {"filename": "a.mp4", "case": case.number, "task": task.id}))
    assert web.request("DELETE", url, headers={**TUS, "X-CSRF-Token": web.csrf}).status == 204
    assert web.head(url).status == 404 and pending(tmp_path) == []
    assert web.head("/uploads/" + "0" * 32).status == 404
    assert web.head("/uploads/..%2F..%2Fkeys").status == 404

    url = location(web.create(100, {"filename": "b.mp4", "case": case.number, "task": task.id}))
    info = uploads_dir(tmp_path) / url.rsplit("/", 1)[1] / "info.json"
    state = json.loads(info.read_text())
    state["expires"] = "2020-01-01T00:00:00+00:00"  # as if its day had passed
    info.write_text(json.dumps(state))
    assert web.head(url).status == 410
    assert web.patch(url, 0, b"x", 1).status in (404, 410) and pending(tmp_path) == []


def test_a_body_that_breaks_off_midway_resumes_from_what_arrived(server, onsite, svc):
    case, task, officer = onsite
    web = session(server, officer)
    video = GeneratedVideo(4 * MB, seed=2)
    data = video.read(video.length)
    url = location(web.create(video.length, {"filename": "clip.mp4", "case": case.number, "task": task.id}))
    break_off(web, server, url, data, 3 * MB // 2)
    offset = _settled_offset(web, url)
    assert 0 < offset <= 3 * MB // 2  # what arrived is kept; nothing beyond it
    answer = web.patch(url, offset, data[offset:], len(data) - offset)
    assert answer.status == 204, answer.body
    assert answer.header("X-Evidence-Sha256") == hashlib.sha256(data).hexdigest()
    [staged] = list_evidence(svc, case.number, officer)
    assert staged.size == len(data)


def break_off(web: WebSession, base: str, url: str, data: bytes, sent: int) -> None:
    """A PATCH to `base` that announces the whole of `data` but stops after `sent` bytes: the connection drops."""
    parts = urllib.parse.urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port)) as raw:
        cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
        raw.sendall((f"PATCH {url} HTTP/1.1\r\nHost: {parts.netloc}\r\nTus-Resumable: 1.0.0\r\n"
                     f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
                     f"Content-Length: {len(data)}\r\nX-CSRF-Token: {web.csrf}\r\nCookie: {cookie}\r\n\r\n").encode())
        raw.sendall(data[:sent])


def _settled_offset(web: WebSession, url: str) -> int:
    """The offset once the broken request's worker has let go of the upload (it still holds the lock while it
    reads the last bytes that reached it)."""
    last = -1
    for _ in range(100):
        offset = int(web.head(url).header("Upload-Offset"))
        if offset == last and web.patch(url, offset, b"", 0).status == 204:  # not locked any more
            return offset
        last = offset
        time.sleep(0.1)
    raise AssertionError("the broken upload stayed locked")


def test_over_the_size_limit_or_of_a_type_not_accepted_is_refused_and_nothing_kept(svc, server, onsite, tmp_path, blobs):
    case, task, officer = onsite
    web = session(server, officer)
    too_large = web.create(svc.settings.evidence.max_bytes + 1, {"filename": "huge.mp4", "case": case.number,
                                                                   "task": task.id})
    assert too_large.status == 413 and "4294967296" in json.loads(too_large.body)["error"]
    assert pending(tmp_path) == []

    url = location(web.create(10, {"filename": "x.mp4", "case": case.number, "task": task.id}))
    more = web.patch(url, 0, b"x" * 11, 11)  # more than the upload's length
    assert more.status == 413 and web.head(url).header("Upload-Offset") == "0"  # still there to be sent right
    assert web.request("DELETE", url, headers={**TUS, "X-CSRF-Token": web.csrf}).status == 204

    program = b"\x7fELF\x02\x01\x01\x00" + bytes(4096)  # an executable, named as a photo
    url = location(web.create(len(program), {"filename": "现场.jpg", "case": case.number, "task": task.id}))
    refused = web.patch(url, 0, program, len(program))
    assert refused.status == 415, refused.body
    assert "现场.jpg" in json.loads(refused.body)["error"]
    assert web.head(url).status == 404 and pending(tmp_path) == []
    pdf = demo_pdf(tmp_path / "scan.pdf").read_bytes()  # a type the policy accepts, not this step (photos, video, audio)
    url = location(web.create(len(pdf), {"filename": "scan.pdf", "case": case.number, "task": task.id}))
    assert web.patch(url, 0, pdf, len(pdf)).status == 415
    assert pending(tmp_path) == [] and blobs() == [] and list_evidence(svc, case.number, officer) == ()

    # The multipart POST: the same limits, each file on its own.
    photo = demo_photo(tmp_path / "现场.jpg", taken=at("2026-09-15 09:30"), lat=31.23, lon=121.47)
    answer = _multipart(web, f"/api/cases/{case.id}/evidence", {"task": task.id},
                        [("files", "门口.jpg", photo.read_bytes()), ("files", "setup.jpg", program)])
    body = json.loads(answer.body)
    assert answer.status == 201 and [f["name"] for f in body["staged"]] == ["门口.jpg"]
    assert [(f["name"], f["status"]) for f in body["refused"]] == [("setup.jpg", 415)]
    assert len(blobs()) == 1 and [f.name for f in list_evidence(svc, case.number, officer)] == ["门口.jpg"]


def test_who_may_upload(svc, server, onsite, tmp_path, blobs):
    case, task, officer = onsite
    web = session(server, officer)
    meta = {"filename": "a.mp4", "case": case.number, "task": task.id}
    # No CSRF token (the session alone is not enough): refused before anything is kept or read.
    assert web.create(10, meta, csrf=False).status == 400 and pending(tmp_path) == []
    url = location(web.create(10, meta))
    assert web.patch(url, 0, b"x" * 10, 10, csrf=False).status == 400
    assert web.request("DELETE", url, headers=dict(TUS)).status == 400
    assert web.patch(url, 0, b"x" * 10, 10, extra={"X-CSRF-Token": "forged"}).status == 400
    assert web.head(url).header("Upload-Offset") == "0"
    # Not logged in.
    anonymous = WebSession(server)
    assert anonymous.create(10, meta, csrf=False).status in (400, 401)
    assert anonymous.head(url).status == 401
    # Another user: not a member of the case; and someone else's upload is unknown to them.
    stranger = session(server, "officer3")
    refused = stranger.create(10, meta)
    assert refused.status in (403, 404), refused.body
    assert stranger.create(10, {**meta, "task": ""}).status in (403, 404)
    assert stranger.head(url).status == 404
    assert stranger.patch(url, 0, b"x" * 10, 10).status == 404
    assert stranger.request("DELETE", url, headers={**TUS, "X-CSRF-Token": stranger.csrf}).status == 404
    assert web.head(url).header("Upload-Offset") == "0"
    # Those who see the case but may not add to it are refused when the upload is created, before a byte is
    # sent, with the engine's reason: the auditor (the case's files or the step's), the head who supervises
    # (not the step's officer), a non-member (above).
    before = pending(tmp_path)  # the officer's upload above
    for user, where in (("auditor", ""), ("auditor", task.id), ("head", task.id)):
        refused = session(server, user).create(2048, {"filename": "a.mp4", "case": case.number, "task": where})
        assert refused.status == 403, (user, where, refused.body)
        error = json.loads(refused.body)["error"]
        assert ("不能添加证据" if not where else f"需要角色 {task.role}") in error, error
    assert pending(tmp_path) == before
    # Metadata that names no case, or a task of another case.
    assert web.create(10, {"filename": "a.mp4"}).status == 400
    assert web.create(10, {"filename": "a.mp4", "case": "999999", "task": task.id}).status == 404
    assert web.request("POST", "/uploads", headers={**TUS, "X-CSRF-Token": web.csrf, "Upload-Length": "10",
                                                    "Upload-Metadata": "filename !!!"}).status == 400
    assert list_evidence(svc, case.number, officer) == () and blobs() == []


def test_whole_files_by_the_form_without_javascript_and_taken_back(svc, server, onsite, tmp_path, blobs):
    case, task, officer = onsite
    web = session(server, officer)
    photo = demo_photo(tmp_path / "p.jpg", taken=at("2026-09-15 09:30"), lat=31.23, lon=121.47)
    token = web.token_from(f"/tasks/{task.id}")
    page = web.request("GET", f"/tasks/{task.id}").body.decode()
    assert 'class="card evidence-upload"' in page and 'capture="environment"' in page and "multiple" in page
    answer = _multipart(web, f"/cases/{case.id}/evidence", {"task": task.id, "note": "门牌", "csrf_token": token,
                                                            "next": f"/tasks/{task.id}"},
                        [("files", "门牌.jpg", photo.read_bytes()),
                         ("files", "scan.pdf", demo_pdf(tmp_path / "s.pdf").read_bytes())], csrf=False)
    assert answer.status == 302 and answer.header("Location").endswith(f"/tasks/{task.id}")
    page = web.request("GET", f"/tasks/{task.id}").body.decode()
    assert "门牌.jpg" in page and "scan.pdf" in page  # staged, and the PDF refused (this step takes no PDF)
    [staged] = list_evidence(svc, case.number, officer)
    assert (staged.name, staged.note, staged.media_type) == ("门牌.jpg", "门牌", "image/jpeg")
    assert _multipart(web, f"/cases/{case.id}/evidence", {"task": task.id}, [("files", "x.jpg", b"1")],
                      csrf=False).status == 400  # no token
    removed = web.request("POST", f"/cases/{case.id}/evidence/{staged.id}/remove",
                          body=urllib.parse.urlencode({"csrf_token": web.csrf}).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert removed.status == 302
    assert list_evidence(svc, case.number, officer) == () and blobs() == []
    stranger = session(server, "officer3")
    assert _multipart(stranger, f"/api/cases/{case.id}/evidence", {"task": task.id},
                      [("files", "p.jpg", photo.read_bytes())]).status in (403, 404)


def test_complaint_material_goes_up_without_a_case_and_is_signed_with_the_registration(svc, server, tmp_path):
    """The widget on /cases/new: tus creation names the page's key (`intake`) in place of a case; the file is
    staged for the clerk alone, and the registration sent from that page lists it."""
    web = session(server, "clerk")
    page = web.request("GET", "/cases/new").body.decode()
    key = re.search(r'data-intake="([^"]+)"', page).group(1)
    web.token_from("/cases/new")
    letter = demo_pdf(tmp_path / "举报信.pdf").read_bytes()
    url, last = web.upload(lambda n: letter[:n], len(letter), {"filename": "举报信.pdf", "intake": key, "case": ""},
                           chunk=1000)
    assert last.status == 204, last.body
    [staged] = intake_files(svc, "clerk", key)
    assert (staged.id, staged.case_id, staged.state, staged.sha256) == \
        (int(last.header("X-Evidence-Id")), None, "staged", last.header("X-Evidence-Sha256"))
    assert web.create(10, {"filename": "a.pdf", "intake": "not-a-key"}).status == 422
    assert web.create(10, {"filename": "a.pdf"}).status == 400  # neither a case nor a registration page
    officer = session(server, "officer1")  # may not hand in a complaint's material, whoever's page it is
    before = pending(tmp_path)
    refused = officer.create(len(letter), {"filename": "x.pdf", "intake": key})
    assert refused.status == 403 and "受理人员" in json.loads(refused.body)["error"] and pending(tmp_path) == before
    assert officer.request("GET", f"/evidence/{staged.id}").status == 404
    assert officer.request("HEAD", url, headers=dict(TUS)).status == 404  # nor the upload itself
    form = {"channel": "visit", "received_at": "2026-09-15T10:30", "complainant.anonymous": "on",
            "respondent.name": "某某浴室", "respondent.kind": "organisation", "respondent.address": "呈州市中山路5号",
            "violation_type": "public_place_unlicensed", "content": "浴室无证经营。", "pin": PIN,
            "evidence_key": key, "csrf_token": web.csrf}
    done = web.request("POST", "/cases/new", body=urllib.parse.urlencode(form).encode(),
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status == 302, done.body[:2000]
    case_id = int(done.header("Location").rsplit("/", 1)[1])
    [attached] = list_evidence(svc, case_id, "clerk")
    assert (attached.id, attached.state, attached.seq, attached.case_id) == (staged.id, "attached", 1, case_id)


def _multipart(web: WebSession, path: str, fields: dict[str, str], files: list[tuple[str, str, bytes]], *,
               csrf: bool = True):
    boundary = "casetrail-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, filename, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    if csrf:
        headers["X-CSRF-Token"] = web.csrf
    return web.request("POST", path, headers=headers, body=body)


def _workers(server: str) -> list[int]:
    """The gunicorn workers serving `server` (the children of the process listening on its port)."""
    return master_on(urllib.parse.urlsplit(server).port, b"serve")[1]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


@pytest.mark.slow
def test_a_2_gb_upload_keeps_the_servers_memory_bounded(svc, server, onsite):
    """2 GiB generated on the fly, sent in 64 MiB chunks: each worker's peak RSS while it takes the chunks and
    stages the file (hash, type, blob) grows by less than 100 MB over what it held before."""
    case, task, officer = onsite
    web = session(server, officer)
    workers = _workers(server)
    for pid in workers:  # reset the peak (VmHWM) to the present RSS, so the peak measured is this upload's
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    before = {pid: _status_kib(pid, "VmRSS") for pid in workers}
    video = GeneratedVideo(2 * 1024 * MB, seed=4)
    _, last = web.upload(video.read, video.length, {"filename": "2GB.mp4", "case": case.number, "task": task.id},
                         chunk=64 * MB)
    assert last.status == 204 and last.header("X-Evidence-Sha256") == video.sha256
    growth = {pid: (_status_kib(pid, "VmHWM") - before[pid]) / 1024 for pid in workers}
    assert max(growth.values()) < 100, growth
    [staged] = list_evidence(svc, case.number, officer)
    assert staged.size == 2 * 1024 * MB
