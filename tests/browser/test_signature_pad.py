"""The party signs on the terminal's screen: drawn with the mouse on a phone-sized page, or — without JavaScript —
refused, with the officers' note and a witness. The step completes, and its signed 文书 carries the signature."""

from __future__ import annotations

import hashlib
import io

import pdfplumber
import pytest
from PIL import Image

from engine.rules.drawn_images import data_url, png_from_data_url
from engine.usecases.documents import get_document, list_documents
from engine.usecases.tasks import list_tasks
from tests.browser.conftest import shot, watched_page
from tests.browser.test_browser_flows import log_in
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live):
    with watched_page(browser, live, viewport=PHONE) as page:
        yield page


@pytest.fixture
def no_script(browser, live):
    with watched_page(browser, live, viewport=PHONE, java_script_enabled=False) as page:
        yield page


def _task(svc, case_number: str, spec_id: str, *, done: bool = False):
    return next(t for t in list_tasks(svc, case=case_number, include_done=done) if t.spec_id == spec_id)


def _document(svc, case_number: str, kind: str) -> bytes:
    view = next(d for d in list_documents(svc, case_number) if d.kind == kind)
    return get_document(svc, view.id)[1]


def _open(page, svc, spec_id: str):
    """A penalty case waiting at `spec_id`, its task page open for officer1; returns the played case."""
    played = play_until(svc, scenario(), spec_id)
    log_in(page, "officer1")
    page.goto(f"/tasks/{_task(svc, played.case.number, spec_id).id}")
    return played


def _inquiry_fields(page) -> None:
    page.fill("[name=inquired_person]", "王某某")
    page.fill("[name=inquired_at]", "2026-09-19T08:00")
    page.fill("[name=inquiry_ended_at]", "2026-09-19T08:40")
    page.fill("[name=place]", "呈州市卫生健康委员会询问室")
    page.check("[name=rights_told]")
    page.fill("[name=questions_answers]", "问：营业多久了？\n答：两个月。")
    page.check("input[name=next_action][value=evidence]")


def _submit(page, screenshot: str | None = None) -> None:
    page.fill("#pin", PIN)
    if screenshot:
        shot(page, screenshot)
    page.click("button.primary")
    page.wait_for_load_state()


def _draw(page, selector: str) -> None:
    """Three strokes with the mouse across the pad, as a person signs (scrolled to first, as a person does: the
    mouse acts at the viewport's points)."""
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    for row in (0.3, 0.5, 0.7):
        page.mouse.move(box["x"] + 20, box["y"] + box["height"] * row)
        page.mouse.down()
        for step in range(1, 13):
            page.mouse.move(box["x"] + 20 + step * (box["width"] - 40) / 12,
                            box["y"] + box["height"] * (row + (0.12 if step % 2 else -0.12)), steps=2)
        page.mouse.up()


def test_the_party_draws_a_signature_on_a_phone_and_the_record_carries_it(phone, svc):
    played = _open(phone, svc, "onsite_inspection")
    phone.fill("[name=inspected_at]", "2026-09-19T08:00")
    phone.fill("[name=inspection_ended_at]", "2026-09-19T08:45")
    phone.fill("[name=place]", "呈州市和平路8号")
    phone.check("input[name=inspectors][value=officer1]")  # picked: 执法证号 from their profiles
    phone.check("input[name=inspectors][value=officer2]")
    phone.check("[name=party_present]")
    phone.fill("[name=person_in_charge]", "王某某")
    phone.fill("[name=findings]", "该店正在营业，未能出示公共场所卫生许可证。")
    phone.check("input[name=next_action][value=evidence]")
    assert phone.is_visible(".signature-choice[data-mode=drawn] canvas")
    assert not phone.is_visible("[name='party_signature.refusal_note']")  # the other choice is hidden
    _draw(phone, ".signature-choice[data-mode=drawn] canvas")
    drawn = phone.input_value("[name='party_signature.image']")
    assert drawn.startswith("data:image/png;base64,")
    phone.click(".signature-choice[data-mode=drawn] .pad-clear")  # cleared: signed again
    assert phone.input_value("[name='party_signature.image']") == ""
    _draw(phone, ".signature-choice[data-mode=drawn] canvas")
    phone.fill("[name='party_signature.signer_name']", "王某某")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _submit(phone, "signature_pad_phone")
    assert "已办结" in phone.inner_text(".flash")

    done = _task(svc, played.case.number, "onsite_inspection", done=True)
    assert done.status == "completed"
    signature = done.form_data["party_signature"]
    assert signature["mode"] == "drawn" and signature["signer_name"] == "王某某"
    # Stored as a file before the step: the record signs its digest, and the stored bytes are a real PNG.
    with svc.blobs.open(signature["image"]["sha256"]) as stream:
        png = stream.read()
    assert hashlib.sha256(png).hexdigest() == signature["image"]["sha256"] and len(png) == signature["image"]["size"]
    png_from_data_url(data_url(png), svc.settings.drawn_images)
    pdf = _document(svc, played.case.number, "on_site_record")
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        images = [image for page in document.pages for image in page.images]
        text = "".join(page.extract_text() for page in document.pages)
    with Image.open(io.BytesIO(png)) as drawing:  # the drawing, at the canvas's resolution, is the one in the PDF
        assert len(images) == 1 and images[0]["srcsize"] == drawing.size and drawing.width >= 250
    assert "2026年9月19日8时00分 至 2026年9月19日8时45分" in text and "王某某" in text
    phone.goto(f"/cases/{played.case.id}")  # the case page shows the drawing from the stored file
    shown = phone.locator("img.drawn-signature")
    assert shown.count() >= 1 and shown.last.get_attribute("src") == f"/evidence/drawn/{signature['image']['sha256']}"
    assert shown.last.evaluate("img => img.complete && img.naturalWidth") == Image.open(io.BytesIO(png)).width
    assert "data:image/png" not in phone.inner_text("main")


def test_without_javascript_the_party_s_refusal_is_recorded(no_script, svc):
    played = _open(no_script, svc, "inquiry")
    _inquiry_fields(no_script)
    assert no_script.is_visible("[name='party_signature.refusal_note']")  # every choice shows without JavaScript
    no_script.check("input[name='party_signature.mode'][value=refused]")
    no_script.fill("[name='party_signature.refusal_note']", "被询问人看过笔录后拒绝签名，执法人员当场注明。")
    no_script.fill("[name='party_signature.witness_name']", "赵某某")
    no_script.fill("[name='party_signature.witness_identity']", "社区居委会工作人员")
    _submit(no_script, "signature_refused_no_js")
    assert "已办结" in no_script.inner_text(".flash")
    done = _task(svc, played.case.number, "inquiry", done=True)
    assert done.form_data["party_signature"] == {
        "mode": "refused", "refusal_note": "被询问人看过笔录后拒绝签名，执法人员当场注明。", "witness_name": "赵某某",
        "witness_identity": "社区居委会工作人员"}
    with pdfplumber.open(io.BytesIO(_document(svc, played.case.number, "inquiry_record"))) as document:
        text = "".join("".join(page.extract_text().split()) for page in document.pages)
    assert "被询问人：拒绝签名" in text and "见证人：赵某某（社区居委会工作人员）" in text
    assert "以上笔录我看过，与我说的一致" not in text  # not the words of one who refused to sign


def test_a_drawing_that_is_not_a_png_is_refused_with_the_reason_on_the_form(phone, svc):
    played = _open(phone, svc, "inquiry")
    _inquiry_fields(phone)
    phone.evaluate("document.querySelector(\"[name='party_signature.image']\").value = "
                   "'data:image/png;base64,' + btoa('GIF89a not a png at all')")
    _submit(phone)
    assert "签名图片不是 PNG 文件" in phone.inner_text(".field-png .field-error")
    assert _task(svc, played.case.number, "inquiry").status == "ready"  # nothing written
