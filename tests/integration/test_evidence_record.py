"""Evidence files in the signed step record (issue 14): the step that takes a file lists it — digest, size,
type, name, who, when — under the officer's signature and marks it attached in its transaction; a step that
fails leaves it staged; what no step takes is collected."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import os

import pytest
from sqlalchemy import select

from engine.blobs import DirectoryStore
from engine.db.document_tables import DocumentRow
from engine.db.evidence_tables import EvidenceFileRow
from engine.demo import SCENARIOS, pick_actor, play_step
from engine.demo_files import demo_pdf, demo_photo
from engine.demo_users import DEMO_PIN
from engine.enums import FilePurpose
from engine.errors import SigningError, ValidationError
from engine.journal import EVIDENCE_KEY
from engine.rules.drawn_images import DATA_URL_PREFIX
from engine.spiff.clocks import MutableClock
from engine.spiff.driving import Context, resolve, sample_form_data
from engine.usecases.audit import verify_cases
from engine.usecases.cases import case_data
from engine.usecases.completion import complete_task, prepare_step, write_step
from engine.usecases.evidence import collect_evidence, list_evidence, stage_evidence
from engine.usecases.viewer import case_for_viewer
from engine.values import CompleteTask, StageEvidence, fixed_clock
from tests.conftest import at
from tests.integration.test_signed_records import LATER, _records, _stop_at

SCENARIO = SCENARIOS["penalty_waiver"]
STEP_TIME = at("2026-09-16 10:00")


def _step(spec_id: str):
    return next(s for s in SCENARIO.steps if s.spec_id == spec_id)


@pytest.fixture
def onsite(ready_svc, tmp_path):
    ready_svc.blobs = DirectoryStore(tmp_path / "blobs")
    case, task = _stop_at(ready_svc, "penalty_waiver", "onsite_inspection")
    return ready_svc, case, task


def _stage(svc, case, user, path, task_id=None, note=None, when="2026-09-15 10:00"):
    return stage_evidence(StageEvidence(case.number, user, path.name, path, task_id, note), svc=svc,
                          clock=fixed_clock(at(when)))


def _rows(svc):
    with svc.uow.read() as session:
        return {r.id: (r.state, r.seq) for r in session.scalars(select(EvidenceFileRow))}


def test_the_step_lists_its_files_in_the_signed_record_and_attaches_them(onsite, tmp_path):
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    photo = _stage(svc, case, actor, demo_photo(tmp_path / "门口.jpg", taken=at("2026-09-15 09:30"), lat=31.2,
                                                lon=121.4), task.id, note="经营场所门口")
    video = tmp_path / "clip.mp4"  # an MP4 header as a body-worn camera writes it
    video.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free" + bytes(4000))
    clip = _stage(svc, case, actor, video, task.id)
    loose = _stage(svc, case, actor, demo_pdf(tmp_path / "营业执照.pdf"))  # the case's files: not this step's
    play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME))
    record = _records(svc, case.id)[-1].record
    assert record.task_spec_id == "onsite_inspection"
    listed = record.form_data[EVIDENCE_KEY]
    # The party's signature drawn on the screen is a file of the step too: the form records it by digest.
    signature = record.form_data["party_signature"]["image"]
    drawn = listed[-1]["id"]
    assert listed == [
        {"id": photo.id, "sha256": photo.sha256, "size": photo.size, "media_type": "image/jpeg", "name": "门口.jpg",
         "added_by": actor, "added_at": "2026-09-15T02:00:00Z", "note": "经营场所门口"},
        {"id": clip.id, "sha256": clip.sha256, "size": clip.size, "media_type": "video/mp4", "name": "clip.mp4",
         "added_by": actor, "added_at": "2026-09-15T02:00:00Z"},
        {"id": drawn, **signature, "name": "被检查人签名.png", "added_by": actor, "added_at": "2026-09-16T02:00:00Z"},
    ]
    assert signature["media_type"] == "image/png" and svc.blobs.exists(signature["sha256"])
    assert _rows(svc) == {photo.id: ("attached", record.seq), clip.id: ("attached", record.seq),
                          loose.id: ("staged", None), drawn: ("attached", record.seq)}
    [report] = verify_cases(svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()
    # The step's data as the case page shows it is what the officer entered; the files are listed by themselves.
    shown = case_for_viewer(svc, case.number, actor)
    assert all(EVIDENCE_KEY not in (t.form_data or {}) for t in shown.history)
    # Once attached, who may see the case sees the file (an auditor too); staged ones stay with the handlers.
    # The signature is listed with the party's signatures, not with the evidence.
    assert [v.id for v in list_evidence(svc, case.number, "auditor")] == [photo.id, clip.id]
    assert [v.id for v in list_evidence(svc, case.number, "auditor", purpose=FilePurpose.PARTY_SIGNATURE)] == [drawn]
    with pytest.raises(Exception, match="已结束|no longer open"):
        _stage(svc, case, actor, tmp_path / "门口.jpg", task.id)


def test_a_failed_step_leaves_its_files_staged_and_collection_removes_what_no_step_took(onsite, tmp_path):
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    photo = _stage(svc, case, actor, demo_photo(tmp_path / "a.jpg", taken=at("2026-09-15 09:30"), lat=31.2,
                                                lon=121.4), task.id)
    with pytest.raises(SigningError):
        play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME), pin="000000")
    # The party's signature was stored before the step (a `drawn` row no record names); signing again with the
    # same drawing after the wrong PIN stores it once.
    [(drawn, drawn_row)] = [(i, r) for i, r in _rows(svc).items() if i != photo.id]
    assert _rows(svc) == {photo.id: ("staged", None), drawn: ("drawn", None)}
    with pytest.raises(SigningError):
        play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME), pin="000000")
    assert set(_rows(svc)) == {photo.id, drawn} and drawn_row == ("drawn", None)
    assert _records(svc, case.id)[-1].record.task_spec_id != "onsite_inspection"
    # Not a file of the case until a signed step takes it: no one sees it listed.
    assert [v.id for v in list_evidence(svc, case.number, actor)] == [photo.id]
    # Within the age nothing is collected; past it the staged row, the drawn one and their blobs go.
    assert collect_evidence(svc, clock=fixed_clock(at("2026-09-20 10:00"))).to_json() == {"rows": 0, "blobs": 0}
    assert svc.blobs.exists(photo.sha256)
    late = fixed_clock(at("2026-09-16 10:00") + svc.settings.evidence.staged_max_age + dt.timedelta(minutes=1))
    # A blob's age is its file's: date it back to the staging, as if the clocks had run.
    for digest in list(svc.blobs.digests()):
        os.utime(svc.blobs.path(digest), (at("2026-09-15 10:00").timestamp(),) * 2)
    assert collect_evidence(svc, clock=late).to_json() == {"rows": 2, "blobs": 2}
    assert _rows(svc) == {} and not svc.blobs.exists(photo.sha256) and not list(svc.blobs.digests())


def test_collection_never_touches_attached_files(onsite, tmp_path):
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    photo = _stage(svc, case, actor, demo_photo(tmp_path / "a.jpg", taken=at("2026-09-15 09:30"), lat=31.2,
                                                lon=121.4), task.id)
    play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME))
    far = fixed_clock(at("2030-01-01 00:00"))
    assert collect_evidence(svc, clock=far).to_json() == {"rows": 0, "blobs": 0}
    assert svc.blobs.exists(photo.sha256) and _rows(svc)[photo.id][0] == "attached"


def test_evidence_registration_picks_the_case_files_and_attaches_them(onsite, tmp_path):
    svc, case, _ = onsite
    clock = MutableClock(STEP_TIME)
    play_step(svc, case.number, _step("onsite_inspection"), clock)
    clock.advance_to(clock() + dt.timedelta(hours=1))
    play_step(svc, case.number, _step("inquiry"), clock)
    licence = _stage(svc, case, "clerk", demo_pdf(tmp_path / "营业执照.pdf"))  # the case's files, by the clerk
    other_case, _ = _stop_at(svc, "penalty_statement", "onsite_inspection")
    foreign = _stage(svc, other_case, "clerk", demo_pdf(tmp_path / "另案.pdf", title="other"))
    register = dataclasses.replace(_step("register_evidence"), overrides={
        **_step("register_evidence").overrides,
        "evidence_items": [{"name": "营业执照复印件", "kind": "documentary", "file_id": licence.id, "quantity": "1份",
                            "source": "当事人提供"}]})
    clock.advance_to(clock() + dt.timedelta(hours=1))
    # Neither another case's file nor the party's signature drawn at 现场检查 (a file of this case, but no evidence).
    [signature, _] = list_evidence(svc, case.number, None, purpose=FilePurpose.PARTY_SIGNATURE)
    for file_id in (foreign.id, signature.id):
        bad = dataclasses.replace(register, overrides={**register.overrides, "evidence_items": [
            {"name": "另案材料", "kind": "documentary", "file_id": file_id}]})
        with pytest.raises(ValidationError, match="does not have"):
            play_step(svc, case.number, bad, clock)
    play_step(svc, case.number, register, clock)
    record = _records(svc, case.id)[-1].record
    assert record.task_spec_id == "register_evidence"
    assert [(e["id"], e["added_by"], e["name"]) for e in record.form_data[EVIDENCE_KEY]] == \
        [(licence.id, "clerk", "营业执照.pdf")]
    assert record.form_data["evidence_items"][0]["file_id"] == licence.id
    assert _rows(svc)[licence.id] == ("attached", record.seq) and _rows(svc)[foreign.id] == ("staged", None)
    [report] = verify_cases(svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()


# --- the party's signature drawn on the screen: a file of its step (issue 14) -------------------------------------
def _onsite_command(svc, case, task, clock, **changes) -> CompleteTask:
    """The 现场检查 step as the scenario fills it, the signature as the screen's `<canvas>` sends it (a data URL)."""
    step = _step("onsite_inspection")
    ctx = Context(clock(), case_data(svc, case.number), svc.settings, svc.calendar)
    data = sample_form_data(task.form_schema, resolve(step.overrides, ctx), now=clock())
    return CompleteTask(task_id=task.id, user_id=pick_actor(task, step), data={**data, **changes}, pin=DEMO_PIN)


def _pdf_images(svc, case_id: int, kind: str) -> list[tuple[int, int]]:
    import io

    import pdfplumber

    with svc.uow.read() as session:
        pdf = session.scalars(select(DocumentRow.pdf).where(DocumentRow.case_id == case_id,
                                                            DocumentRow.kind == kind)).one()
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [image["srcsize"] for page in document.pages for image in page.images]


def test_the_drawn_signature_is_stored_before_the_step_and_the_pdf_draws_it_from_the_file(onsite):
    svc, case, task = onsite
    clock = MutableClock(STEP_TIME)
    cmd = _onsite_command(svc, case, task, clock)
    png = base64.b64decode(cmd.data["party_signature"]["image"].removeprefix(DATA_URL_PREFIX))
    complete_task(cmd, svc=svc, clock=clock)
    record = _records(svc, case.id)[-1].record
    ref = record.form_data["party_signature"]["image"]
    assert ref == {"sha256": hashlib.sha256(png).hexdigest(), "size": len(png), "media_type": "image/png"}
    assert "data:image" not in json.dumps(record.form_data)  # the picture is a file, not part of the form
    assert svc.blobs.open(ref["sha256"]).read() == png
    assert _pdf_images(svc, case.id, "on_site_record") == [(600, 200)]  # drawn in its block, from the stored file
    [report] = verify_cases(svc, [case.number], clock=LATER, rehash=True)
    assert report.ok, report.to_text()


def test_a_form_naming_a_drawing_not_stored_for_the_step_is_refused_naming_the_field(onsite):
    svc, case, task = onsite
    clock = MutableClock(STEP_TIME)
    cmd = _onsite_command(svc, case, task, clock)
    forged = {**cmd.data["party_signature"], "image": {"sha256": "ab" * 32, "size": 1234, "media_type": "image/png"}}
    with pytest.raises(ValidationError) as caught:
        complete_task(dataclasses.replace(cmd, data={**cmd.data, "party_signature": forged}), svc=svc, clock=clock)
    assert set(caught.value.errors) == {"party_signature/image"}
    assert _records(svc, case.id)[-1].record.task_spec_id != "onsite_inspection" and _rows(svc) == {}
    blank = {**cmd.data["party_signature"], "image": "data:image/png;base64,AAAA"}  # bad input: nothing stored
    with pytest.raises(ValidationError):
        complete_task(dataclasses.replace(cmd, data={**cmd.data, "party_signature": blank}), svc=svc, clock=clock)
    assert _rows(svc) == {} and list(svc.blobs.digests()) == []


def test_a_record_holding_the_signature_as_a_data_url_still_renders_and_verifies(onsite, tmp_path):
    """Records signed before drawn images were files hold the PNG data URL in their form: what the engine wrote
    then (the step prepared and written without staging) still renders, verifies and travels in a bundle."""
    from engine.usecases.audit import export_case, verify_bundle_file
    from signatures.pki import certificate_pem

    svc, case, task = onsite
    clock = MutableClock(STEP_TIME)
    cmd = _onsite_command(svc, case, task, clock)
    write_step(prepare_step(cmd, svc=svc, clock=clock), svc=svc, clock=clock)
    record = _records(svc, case.id)[-1].record
    assert record.form_data["party_signature"]["image"].startswith(DATA_URL_PREFIX)
    assert EVIDENCE_KEY not in record.form_data and _rows(svc) == {}
    assert _pdf_images(svc, case.id, "on_site_record") == [(600, 200)]
    # The case goes on with signatures stored as files: both kinds side by side verify.
    clock.advance_to(clock() + dt.timedelta(hours=1))
    play_step(svc, case.number, _step("inquiry"), clock)
    assert isinstance(_records(svc, case.id)[-1].record.form_data["party_signature"]["image"], dict)
    [report] = verify_cases(svc, [case.number], clock=LATER, rehash=True)
    assert report.ok, report.to_text()
    bundle = export_case(svc, case.number, clock=LATER)
    checked = verify_bundle_file(bundle, certificate_pem(svc.agency_keys.certificates()["root"]))
    assert checked.ok, checked.to_text()
    shown = case_for_viewer(svc, case.number, pick_actor(task, _step("onsite_inspection")))
    [old] = [t for t in shown.history if t.spec_id == "onsite_inspection"]
    assert old.form_data["party_signature"]["image"].startswith(DATA_URL_PREFIX)  # the case page shows it as it was
