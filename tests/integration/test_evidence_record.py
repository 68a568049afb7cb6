"""Evidence files in the signed step record (issue 14): the step that takes a file lists it — digest, size,
type, name, who, when — under the officer's signature and marks it attached in its transaction; a step that
fails leaves it staged; what no step takes is collected."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

import pytest
from sqlalchemy import select

from engine.blobs import DirectoryStore
from engine.db.evidence_tables import EvidenceFileRow
from engine.demo import SCENARIOS, play_step
from engine.demo_files import demo_pdf, demo_photo
from engine.errors import SigningError, ValidationError
from engine.journal import EVIDENCE_KEY
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import verify_cases
from engine.usecases.evidence import collect_evidence, list_evidence, stage_evidence
from engine.usecases.viewer import case_for_viewer
from engine.values import StageEvidence, fixed_clock
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
    assert listed == [
        {"id": photo.id, "sha256": photo.sha256, "size": photo.size, "media_type": "image/jpeg", "name": "门口.jpg",
         "added_by": actor, "added_at": "2026-09-15T02:00:00Z", "note": "经营场所门口"},
        {"id": clip.id, "sha256": clip.sha256, "size": clip.size, "media_type": "video/mp4", "name": "clip.mp4",
         "added_by": actor, "added_at": "2026-09-15T02:00:00Z"},
    ]
    assert _rows(svc) == {photo.id: ("attached", record.seq), clip.id: ("attached", record.seq),
                          loose.id: ("staged", None)}
    [report] = verify_cases(svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()
    # The step's data as the case page shows it is what the officer entered; the files are listed by themselves.
    shown = case_for_viewer(svc, case.number, actor)
    assert all(EVIDENCE_KEY not in (t.form_data or {}) for t in shown.history)
    # Once attached, who may see the case sees the file (an auditor too); staged ones stay with the handlers.
    assert [v.id for v in list_evidence(svc, case.number, "auditor")] == [photo.id, clip.id]
    with pytest.raises(Exception, match="已结束|no longer open"):
        _stage(svc, case, actor, tmp_path / "门口.jpg", task.id)


def test_a_failed_step_leaves_its_files_staged_and_collection_removes_what_no_step_took(onsite, tmp_path):
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    photo = _stage(svc, case, actor, demo_photo(tmp_path / "a.jpg", taken=at("2026-09-15 09:30"), lat=31.2,
                                                lon=121.4), task.id)
    with pytest.raises(SigningError):
        play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME), pin="000000")
    assert _rows(svc) == {photo.id: ("staged", None)}
    assert _records(svc, case.id)[-1].record.task_spec_id != "onsite_inspection"
    # Within the age nothing is collected; past it the staged row and its blob go.
    assert collect_evidence(svc, clock=fixed_clock(at("2026-09-20 10:00"))).to_json() == {"rows": 0, "blobs": 0}
    assert svc.blobs.exists(photo.sha256)
    late = fixed_clock(at("2026-09-15 10:00") + svc.settings.evidence.staged_max_age + dt.timedelta(minutes=1))
    # A blob's age is its file's: date it back to the staging, as if the clocks had run.
    path = svc.blobs.path(photo.sha256)
    os.utime(path, (at("2026-09-15 10:00").timestamp(),) * 2)
    assert collect_evidence(svc, clock=late).to_json() == {"rows": 1, "blobs": 1}
    assert _rows(svc) == {} and not svc.blobs.exists(photo.sha256)


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
    bad = dataclasses.replace(register, overrides={**register.overrides, "evidence_items": [
        {"name": "另案材料", "kind": "documentary", "file_id": foreign.id}]})
    with pytest.raises(ValidationError):
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
