"""Sealed fields: records sign salted digests of the complainant's identity and of votes; bundles disclose only
what they must, and still verify offline (issue 13 item 5; docs/evidence-bundle.md §1a)."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import update

from engine.db.sealed_tables import SealedValueRow
from engine.errors import Forbidden
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.disclosure import IDENTITY_DOCUMENT_KINDS
from signatures.bundle import verify_bundle
from signatures.canonical import canonical_json
from signatures.pki import certificate_pem
from signatures.records import SignedRecord
from signatures.report import Check, Status
from tests.integration.test_signed_records import LATER, _stop_at
from tests.integration.test_verify_all_memo import _resigned_copy

# What intake_data (engine/spiff/driving.py) registers for the complainant.
IDENTITY = ("张三".encode(), b"13800000000", "呈州市和平路1号".encode())


def _members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _records(files: dict[str, bytes]) -> list[SignedRecord]:
    names = sorted(n for n in files if n.startswith("records/") and n.endswith(".json"))
    return [SignedRecord.from_parts(files[n], files[n[:-5] + ".sig"]) for n in names]


def _root(svc) -> bytes:
    return certificate_pem(svc.agency_keys.certificates()["root"])


def _assert_no_identity(bundle: bytes) -> None:
    files = _members(bundle)
    for name, data in files.items():
        for secret in IDENTITY:
            assert secret not in data, f"{name} holds {secret.decode()}"
    kinds = {d.sha256: d.kind for s in _records(files) for d in s.record.documents}
    carried = {kinds[hashlib.sha256(files[n]).hexdigest()] for n in files if n.startswith("documents/")}
    assert carried and not carried & IDENTITY_DOCUMENT_KINDS


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_the_auditors_bundle_holds_no_complainant_identity_and_verifies_offline_with_the_path(ready_svc, played):
    bundle = export_case(ready_svc, played.number, clock=LATER)
    _assert_no_identity(bundle)
    assert verify_bundle(bundle, _root(ready_svc)).ok  # the library alone: `python -m signatures verify`
    report = verify_bundle_file(bundle, _root(ready_svc))  # `casetrail verify-bundle`: with the BPMN replay
    assert report.ok, report.to_text()
    assert report.case_check(Check.PATH).status is Status.PASSED  # the model never reads the sealed identity
    intake = report.step(1)
    assert intake.check(Check.DISCLOSURE).status is Status.NOT_CHECKED
    assert "/complainant/name" in intake.check(Check.DISCLOSURE).reason
    assert intake.check(Check.DOCUMENTS).status is Status.NOT_CHECKED
    votes = [s for s in report.steps if s.task_spec_id == "panel_vote"]
    # The deliberation was acted on: its votes are no longer sealed from the auditor.
    assert len(votes) == 3 and all(s.check(Check.DISCLOSURE).status is Status.PASSED for s in votes)


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_the_disclosing_bundle_verifies_and_a_wrong_value_or_salt_fails_naming_the_field(ready_svc, played):
    with pytest.raises(Forbidden):
        export_case(ready_svc, played.number, clock=LATER, disclose_to="auditor")
    bundle = export_case(ready_svc, played.number, clock=LATER, disclose_to="officer1")
    files = _members(bundle)
    assert IDENTITY[0] in files["disclosures/0001.json"]
    report = verify_bundle_file(bundle, _root(ready_svc))
    assert report.ok, report.to_text()
    assert report.step(1).check(Check.DISCLOSURE).status is Status.PASSED
    disclosed = json.loads(files["disclosures/0001.json"])
    for wrong in ({"value": "李四"}, {"salt": "00" * 16}):
        altered = dict(files)
        altered["disclosures/0001.json"] = canonical_json(
            {**disclosed, "/complainant/name": {**disclosed["/complainant/name"], **wrong}})
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for name, data in altered.items():
                zf.writestr(name, data)
        failed = verify_bundle_file(out.getvalue(), _root(ready_svc))
        step = next(f for f in failed.failures() if f.seq is not None)
        assert (step.seq, step.check) == (1, Check.DISCLOSURE) and "/complainant/name" in step.reason, failed.to_text()


def test_votes_of_an_open_round_are_in_no_bundle_and_the_replay_stops_where_the_tally_reads_them(ready_svc):
    case, _ = _stop_at(ready_svc, "penalty_waiver", "prior_notice")  # every vote cast, nothing acted on them yet
    for bundle in (export_case(ready_svc, case.number, clock=LATER),
                   export_case(ready_svc, case.number, clock=LATER, disclose_to="head")):
        files = _members(bundle)
        votes = [s.record for s in _records(files) if s.record.task_spec_id == "panel_vote"]
        assert len(votes) == 3 and all(set(v.sealed) >= {"/vote", "/opinion"} for v in votes)
        assert not any(n.startswith("disclosures/") and int(n[12:16]) in {v.seq for v in votes} for n in files)
        assert not any(d.sha256 in {n[10:-4] for n in files} for v in votes for d in v.documents)  # 合议记录 left out
        report = verify_bundle_file(bundle, _root(ready_svc))
        assert report.ok, report.to_text()
        path = report.case_check(Check.PATH)
        assert path.status is Status.NOT_CHECKED and "/vote" in path.reason, path
    [online] = verify_cases(ready_svc, [case.number], clock=LATER)  # the database holds every value
    assert online.ok and online.case_check(Check.PATH).status is Status.PASSED, online.to_text()


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_a_stored_value_edited_in_the_database_fails_verify_naming_the_step_and_field(ready_svc, played):
    with ready_svc.uow() as work:
        work.session.execute(update(SealedValueRow).where(
            SealedValueRow.case_id == played.id, SealedValueRow.seq == 1, SealedValueRow.field == "/complainant/phone")
            .values(value='"13900000000"'))
        work.commit()
    [report] = verify_cases(ready_svc, [played.number], clock=LATER)
    first = report.first_failure
    assert (first.seq, first.check) == (1, Check.DISCLOSURE) and "/complainant/phone" in first.reason, report.to_text()


@pytest.mark.parametrize("played", ["not_filed"], indirect=True)
def test_version_1_records_verify_as_before_and_their_auditors_bundle_is_refused(ready_svc, played):
    legacy = _resigned_copy(ready_svc, played.number, "v1")  # signed as releases before sealed fields did
    [report] = verify_cases(ready_svc, [legacy], clock=LATER)
    assert report.ok, report.to_text()
    with pytest.raises(Forbidden, match="/complainant/"):
        export_case(ready_svc, legacy, clock=LATER)
    bundle = export_case(ready_svc, legacy, clock=LATER, disclose_to="clerk")
    assert all(json.loads(s.canonical)["version"] == 1 for s in _records(_members(bundle)))
    assert verify_bundle_file(bundle, _root(ready_svc)).ok
