"""The evidence upload widget in Chromium against `casetrail serve` (gunicorn, 2 workers): a recording goes up in
chunks; the server process is stopped in the middle of it (the connection drops as on a train) and started again;
the page retries and goes on from the bytes the server already had, to the end; the file is staged for the step
with the digest of the whole file. Several files at once by drag and drop, and a file taken back."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench._tus import GeneratedVideo
from engine.demo_files import demo_photo
from engine.usecases.evidence import intake_files, list_evidence
from tests.browser.conftest import shot
from tests.browser.test_browser_flows import log_in
from tests.conftest import at
from tests.dbtemplates import MIGRATED, starting_point
from tests.served import free_port, serve_environment, start_server, stop_server, wait_until_serving
from tests.web.test_uploads import ONSITE, onsite_of
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser

MB = 1024 * 1024


@pytest.fixture
def db_template(request: pytest.FixtureRequest):
    return starting_point(request, MIGRATED, onsite=ONSITE)  # the case of tests/web/test_uploads.py


@pytest.fixture
def onsite(svc, template_result):
    return onsite_of(svc, template_result)


class Server:
    """One `casetrail serve --workers 2` on a fixed port, to be stopped and started again."""

    def __init__(self, environment: dict[str, str]) -> None:
        self.environment = environment
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> None:
        self.process = start_server(self.environment, self.port, workers=2)
        wait_until_serving(self.url, self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)
            self.process = None


def write_recording(path: Path, video: GeneratedVideo) -> Path:
    """The generated recording as a file the page can pick."""
    with path.open("wb") as out:
        while block := video.read(MB):
            out.write(block)
    return path


@pytest.fixture
def server(svc, tmp_path, onsite) -> Iterator[Server]:
    running = Server(serve_environment(svc, tmp_path))
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_an_upload_cut_off_by_a_server_stop_resumes_where_it_stopped(browser, svc, server, onsite, tmp_path):
    case, task, officer = onsite
    video = GeneratedVideo(20 * MB + 12345, seed=7)  # three chunks of 8 MiB (the widget's), the last one short
    recording = write_recording(tmp_path / "执法记录仪 0915.mp4", video)
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    page = context.new_page()
    patches: list[tuple[int, bool]] = []  # (Upload-Offset, sent while the server was down)
    state = {"stopped": False}

    def on_upload(route) -> None:
        request = route.request
        if request.method == "PATCH":
            if len(patches) == 1 and not state["stopped"]:
                server.stop()  # the second chunk's connection finds no server: the upload is cut off
                state["stopped"] = True
            patches.append((int(request.headers["upload-offset"]), server.process is None))
        route.continue_()

    try:
        log_in(page, officer)
        page.goto(f"/tasks/{task.id}")
        widget = page.locator(".evidence-upload.js-upload")
        assert widget.get_attribute("data-task") == task.id
        assert page.locator(".evidence-upload input[type=file][capture=environment]").count() == 1
        page.route("**/uploads/**", on_upload)
        page.set_input_files(".evidence-upload input[type=file][multiple]", str(recording))
        for _ in range(300):
            if state["stopped"]:
                break
            page.wait_for_timeout(100)
        assert state["stopped"], "the upload never reached its second chunk"
        page.wait_for_selector(".upload-item.retrying", timeout=30_000)
        shot(page, "upload-retrying")
        server.start()  # the same data directory and database: the bytes of the first chunk are there
        page.wait_for_selector(".upload-item.done", timeout=180_000)
        shot(page, "upload-resumed")
        row = page.locator(".evidence-upload .evidence-list li[data-id]")
        assert row.count() == 1 and row.locator(".name").inner_text() == recording.name
        assert row.locator(".sha").get_attribute("title") == video.sha256
    finally:
        context.close()
    after = [offset for offset, down in patches[1:] if not down]
    assert after and after[0] == 8 * MB, patches  # resumed after the first chunk, not from the start
    assert patches[0][0] == 0 and all(offset > 0 for offset, _ in patches[1:])
    [staged] = list_evidence(svc, case.number, officer)
    assert (staged.task_id, staged.size, staged.sha256, staged.media_type) == \
        (task.id, video.length, video.sha256, "video/mp4")


def test_several_files_dropped_at_once_and_one_taken_back(browser, svc, server, onsite, tmp_path):
    case, task, officer = onsite
    photos = [demo_photo(tmp_path / f"现场{i}.jpg", taken=at("2026-09-15 09:30"), lat=31.23, lon=121.47,
                         label=f"photo {i}") for i in (1, 2)]
    program = b"\x7fELF\x02\x01\x01\x00" + bytes(4096)
    files = [(p.name, "image/jpeg", p.read_bytes()) for p in photos] + [("伪装.jpg", "image/jpeg", program)]
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, officer)
        page.goto(f"/tasks/{task.id}")
        page.wait_for_selector(".evidence-upload.js-upload")
        dropped = page.evaluate_handle("""files => {
            const transfer = new DataTransfer();
            for (const [name, type, data] of files) {
                const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name, {type}));
            }
            return transfer;
        }""", [[name, kind, base64.b64encode(data).decode()] for name, kind, data in files])
        page.dispatch_event(".evidence-upload .dropzone", "drop", {"dataTransfer": dropped})
        page.wait_for_function("() => document.querySelectorAll('.upload-item.done, .upload-item.failed').length === 3",
                               timeout=60_000)
        shot(page, "upload-dropped")
        assert page.locator(".upload-item.done").count() == 2
        failed = page.locator(".upload-item.failed .state").inner_text()
        assert "伪装.jpg" in failed and "application/octet-stream" in failed  # the server's reason, shown
        assert sorted(page.locator(".evidence-upload .evidence-list li[data-id] .name").all_inner_texts()) == \
            sorted(p.name for p in photos)
        digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in photos}
        assert {f.name: f.sha256 for f in list_evidence(svc, case.number, officer)} == digests
        with page.expect_navigation():  # remove: a plain form post, back to the task page
            page.locator(".evidence-upload .evidence-list li[data-id]").first.locator("button").click()
        assert "已移除" in page.inner_text(".flash")
        assert page.locator(".evidence-upload .evidence-list li[data-id]").count() == 1
        assert len(list_evidence(svc, case.number, officer)) == 1
    finally:
        context.close()
    assert not any(Path(tmp_path / "serve-data" / "uploads").glob("*/data"))  # finished uploads keep no bytes


def test_complaint_material_goes_up_on_the_registration_page_and_is_signed_with_it(browser, svc, server, tmp_path):
    """On /cases/new the widget is part of the registration form: files go up under the page's key, one is
    taken back by the form's own button (what was typed stays), Enter in a field registers, not removes."""
    photos = [demo_photo(tmp_path / f"来信附图{i}.jpg", taken=at("2026-09-14 18:00"), lat=31.23, lon=121.47,
                         label=f"photo {i}") for i in (1, 2)]
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, "clerk")
        page.goto("/cases/new")
        page.wait_for_selector(".evidence-upload.js-upload")
        key = page.locator(".evidence-upload").get_attribute("data-intake")
        assert key and page.locator("input[name=evidence_key]").get_attribute("value") == key
        page.select_option("[name=channel]", "letter")
        page.check("[name='complainant.anonymous']")
        page.fill("[name='respondent.name']", "某某浴室")
        page.check("[name='respondent.kind'][value=organisation]")
        page.fill("[name='respondent.address']", "呈州市中山路5号")
        page.select_option("[name=violation_type]", "public_place_unlicensed")
        page.fill("[name=content]", "浴室无证经营，附来信照片。")
        page.set_input_files(".evidence-upload input[type=file][multiple]", [str(p) for p in photos])
        page.wait_for_function("() => document.querySelectorAll('.upload-item.done').length === 2", timeout=60_000)
        assert page.locator(".evidence-upload input[type=file][multiple]").evaluate("i => i.files.length") == 0
        staged = intake_files(svc, "clerk", key)
        assert sorted(f.name for f in staged) == sorted(p.name for p in photos)
        shot(page, "intake-staged")
        first = page.locator(".evidence-upload .evidence-list li[data-id]").first
        taken_back = first.get_attribute("data-id")
        with page.expect_navigation():
            first.locator("button[name=discard]").click()
        assert "已移除" in page.inner_text(".flash")
        assert page.locator("[name='respondent.name']").input_value() == "某某浴室"  # kept as typed
        assert page.locator(".evidence-upload .evidence-list li[data-id]").count() == 1
        page.fill("#pin", PIN)
        with page.expect_navigation():
            page.press("#pin", "Enter")  # the form's default button: registering
        assert "/cases/" in page.url and "/new" not in page.url, page.url
        assert "投诉举报材料 1 份" in page.inner_text(".flash")
        kept = next(f for f in staged if str(f.id) != taken_back)
        assert kept.name in page.content()
        shot(page, "intake-registered")
    finally:
        context.close()
    assert not errors, errors
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    [attached] = list_evidence(svc, case_id, "clerk")
    assert (attached.id, attached.state, attached.seq) == (kept.id, "attached", 1)
