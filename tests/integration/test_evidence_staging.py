"""Staging evidence files (issue 14): who may add a file to a case or a step, what the content is (never the
name), the size limit, and nothing kept when a file is refused."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.blobs import DirectoryStore
from engine.db.evidence_tables import EvidenceFileRow
from engine.demo_files import demo_pdf, demo_photo
from engine.errors import EvidenceRefused, Forbidden, NotFound
from engine.usecases.evidence import list_evidence, open_evidence, stage_evidence
from engine.values import StageEvidence, fixed_clock
from tests.conftest import at
from tests.integration.test_signed_records import _stop_at

NOW = fixed_clock(at("2026-09-15 10:00"))


@pytest.fixture
def onsite(ready_svc, tmp_path):
    """A case waiting for its 现场检查, the evidence store in tmp_path: (svc, case, task)."""
    ready_svc.blobs = DirectoryStore(tmp_path / "blobs")
    case, task = _stop_at(ready_svc, "penalty_waiver", "onsite_inspection")
    return ready_svc, case, task


def _actor(task) -> str:
    return task.assignee or task.candidates[0]


def _rows(svc) -> int:
    with svc.uow.read() as session:
        return session.scalar(select(func.count()).select_from(EvidenceFileRow)) or 0


def test_a_photo_is_stored_by_digest_and_staged_for_the_step_with_its_exif(onsite, tmp_path):
    svc, case, task = onsite
    photo = demo_photo(tmp_path / "现场.jpg", taken=at("2026-09-15 09:30"), lat=31.2304, lon=121.4737)
    view = stage_evidence(StageEvidence(case_ref=case.number, user_id=_actor(task), name="C:\\手机\\现场.jpg",
                                        source=photo, task_id=task.id, note="门口"), svc=svc, clock=NOW)
    assert view.sha256 == hashlib.sha256(photo.read_bytes()).hexdigest() and view.size == photo.stat().st_size
    assert (view.media_type, view.family, view.name, view.state, view.seq) == \
        ("image/jpeg", "image", "现场.jpg", "staged", None)
    assert view.exif == {"taken": "2026-09-15T09:30:00+08:00", "gps": {"lat": 31.2304, "lon": 121.4737},
                         "camera": "casetrail demo camera"}
    assert view.added_at == NOW() and view.added_by == _actor(task) and view.note == "门口"
    assert svc.blobs.exists(view.sha256)
    [listed] = list_evidence(svc, case.number, _actor(task))
    assert listed == view
    shown, stream = open_evidence(svc, view.id, _actor(task))
    with stream:
        assert shown == view and stream.read() == photo.read_bytes()


def test_a_program_named_jpg_is_refused_415_and_nothing_is_kept(onsite, tmp_path):
    svc, case, task = onsite
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(500))  # a Windows program
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence(case.number, _actor(task), "photo.jpg", fake, task.id), svc=svc, clock=NOW)
    assert refused.value.http_status == 415 and "photo.jpg" in refused.value.message
    assert "不接受" in refused.value.message and "not accepted" in refused.value.message
    assert _rows(svc) == 0 and list(svc.blobs.digests()) == []


def test_a_type_the_step_does_not_take_is_refused_415(onsite, tmp_path):
    svc, case, task = onsite  # 现场检查 takes photos, video and audio (its form's x-evidence), not PDFs
    pdf = demo_pdf(tmp_path / "scan.pdf")
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence(case.number, _actor(task), "scan.pdf", pdf, task.id), svc=svc, clock=NOW)
    assert refused.value.http_status == 415
    # The same PDF is taken among the case's files (for 证据登记).
    view = stage_evidence(StageEvidence(case.number, _actor(task), "scan.pdf", pdf), svc=svc, clock=NOW)
    assert (view.media_type, view.task_id) == ("application/pdf", None)


def test_a_file_over_the_limit_is_refused_413_before_it_is_read(onsite, tmp_path):
    svc, case, task = onsite
    policy = svc.settings.evidence
    svc.settings = dataclasses.replace(svc.settings, evidence=dataclasses.replace(policy, max_bytes=1000))
    photo = demo_photo(tmp_path / "big.jpg", taken=at("2026-09-15 09:30"), lat=31.0, lon=121.0)
    assert photo.stat().st_size > 1000
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence(case.number, _actor(task), "big.jpg", photo, task.id), svc=svc, clock=NOW)
    assert refused.value.http_status == 413 and "过大" in refused.value.message
    assert _rows(svc) == 0 and list(svc.blobs.digests()) == []


def test_only_who_may_act_on_the_step_or_handles_the_case_may_add(onsite, tmp_path):
    svc, case, task = onsite
    photo = demo_photo(tmp_path / "p.jpg", taken=at("2026-09-15 09:30"), lat=31.0, lon=121.0)
    outsider = "officer3"  # an officer with no part in this case
    assert outsider != _actor(task) and outsider not in task.candidates
    for user_id, task_id in ((outsider, task.id), (outsider, None), ("auditor", None), ("head2", None),
                             ("admin", None), ("nobody", None)):
        with pytest.raises(EvidenceRefused) as refused:
            stage_evidence(StageEvidence(case.number, user_id, "p.jpg", photo, task_id), svc=svc, clock=NOW)
        assert refused.value.http_status == 403, (user_id, refused.value.message)
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence("呈卫投〔2026〕9999号", _actor(task), "p.jpg", photo), svc=svc, clock=NOW)
    assert refused.value.http_status == 404
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence(case.number, _actor(task), "p.jpg", photo, "no-such-task"), svc=svc, clock=NOW)
    assert refused.value.http_status == 404
    assert _rows(svc) == 0 and list(svc.blobs.digests()) == []
    # The clerk who registered the complaint is a member of the case: the case's files take theirs.
    assert stage_evidence(StageEvidence(case.number, "clerk", "p.jpg", photo), svc=svc, clock=NOW).task_id is None


def test_a_step_that_takes_no_evidence_refuses_files_422(ready_svc, tmp_path):
    ready_svc.blobs = DirectoryStore(tmp_path / "blobs")
    case, task = _stop_at(ready_svc, "penalty_waiver", "preliminary_check")  # 初步核查: its form takes none
    photo = demo_photo(tmp_path / "p.jpg", taken=at("2026-09-15 09:30"), lat=31.0, lon=121.0)
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence(case.number, _actor(task), "p.jpg", photo, task.id), svc=ready_svc, clock=NOW)
    assert refused.value.http_status == 422 and "不收取" in refused.value.message


def test_who_sees_a_staged_file_and_who_does_not(onsite, tmp_path):
    svc, case, task = onsite
    photo = demo_photo(tmp_path / "p.jpg", taken=at("2026-09-15 09:30"), lat=31.0, lon=121.0)
    view = stage_evidence(StageEvidence(case.number, _actor(task), "p.jpg", photo, task.id), svc=svc, clock=NOW)
    assert [v.id for v in list_evidence(svc, case.number, "clerk")] == [view.id]  # a member who handles it
    assert list_evidence(svc, case.number, "auditor") == ()  # not in the record yet
    assert list_evidence(svc, case.number, None) == ()
    with pytest.raises(Forbidden):
        list_evidence(svc, case.number, "officer3")
    with pytest.raises(Forbidden):
        open_evidence(svc, view.id, "officer3")
    with pytest.raises(NotFound):
        open_evidence(svc, view.id, "auditor")
    for bad in (0, -1, 2**40):
        with pytest.raises(NotFound):
            open_evidence(svc, bad, _actor(task))


def test_an_empty_file_is_refused(onsite, tmp_path):
    svc, case, task = onsite
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(EvidenceRefused) as refused:
        stage_evidence(StageEvidence(case.number, _actor(task), "empty.jpg", empty, task.id), svc=svc, clock=NOW)
    assert refused.value.http_status == 422
    missing = Path(tmp_path / "gone.jpg")
    with pytest.raises(EvidenceRefused):
        stage_evidence(StageEvidence(case.number, _actor(task), "gone.jpg", missing, task.id), svc=svc, clock=NOW)
