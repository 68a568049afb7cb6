"""Taking back a staged evidence file (`discard_evidence`, the upload widget's remove): only by who added it, its
bytes gone unless another file names them; never once a signed step has listed it."""

from __future__ import annotations

import shutil

import pytest

from engine.demo import play_step
from engine.demo_files import demo_photo
from engine.enums import FilePurpose
from engine.errors import Conflict, NotFound
from engine.spiff.clocks import MutableClock
from engine.usecases.evidence import list_evidence
from engine.usecases.evidence_discard import discard_evidence
from engine.values import DiscardEvidence, fixed_clock
from tests.conftest import at
from tests.integration.test_evidence_record import STEP_TIME, _stage, _step
from tests.integration.test_evidence_record import onsite as onsite  # the fixture

NOW = fixed_clock(at("2026-09-15 11:00"))


def test_who_added_a_staged_file_takes_it_back_and_its_bytes_go(onsite, tmp_path):
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    photo = demo_photo(tmp_path / "门口.jpg", taken=at("2026-09-15 09:30"), lat=31.2, lon=121.4)
    twin = tmp_path / "门口-副本.jpg"
    shutil.copy(photo, twin)
    kept = _stage(svc, case, actor, photo, task.id)
    copy = _stage(svc, case, actor, twin)  # the same bytes, for the case's files
    with pytest.raises(NotFound):
        discard_evidence(DiscardEvidence(file_id=kept.id, user_id="officer2"), svc=svc, clock=NOW)
    with pytest.raises(NotFound):
        discard_evidence(DiscardEvidence(file_id=10**9, user_id=actor), svc=svc, clock=NOW)
    assert discard_evidence(DiscardEvidence(file_id=copy.id, user_id=actor), svc=svc, clock=NOW) == twin.name
    assert [f.id for f in list_evidence(svc, case.number, actor)] == [kept.id]
    assert svc.blobs.exists(kept.sha256)  # still named by the other file
    assert discard_evidence(DiscardEvidence(file_id=kept.id, user_id=actor), svc=svc, clock=NOW) == photo.name
    assert list_evidence(svc, case.number, actor) == () and not svc.blobs.exists(kept.sha256)


def test_a_file_a_signed_step_listed_stays(onsite, tmp_path):
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    photo = _stage(svc, case, actor, demo_photo(tmp_path / "p.jpg", taken=at("2026-09-15 09:30"), lat=31.2,
                                                lon=121.4), task.id)
    play_step(svc, case.number, _step("onsite_inspection"), MutableClock(STEP_TIME))
    with pytest.raises(Conflict):
        discard_evidence(DiscardEvidence(file_id=photo.id, user_id=actor), svc=svc, clock=NOW)
    [attached] = list_evidence(svc, case.number, actor)
    [signature] = list_evidence(svc, case.number, actor, purpose=FilePurpose.PARTY_SIGNATURE)
    assert attached.state == "attached" and svc.blobs.exists(photo.sha256)
    assert signature.name == "被检查人签名.png" and signature.state == "attached"
