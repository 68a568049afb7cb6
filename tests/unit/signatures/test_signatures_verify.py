"""The auditor's report and the tamper suite: each manipulation is detected and named."""

import dataclasses
import datetime as dt

import pytest

from signatures.merkle import MerkleLog
from signatures.records import SignedRecord, sign_record
from signatures.report import Check, Status
from signatures.treehead import TreeHead, sign_tree_head
from signatures.verify import PathResult, verify_case
from tests.unit.signatures.sigcase import DAY, HOUR, STANDARD_STEPS, T0, Agency, Case


def resign(agency: Agency, signed: SignedRecord, signer_id: str, **changes) -> SignedRecord:
    """Re-issue a record under another officer's valid key (what an insider with a key can do)."""
    officer = agency.officers[signer_id]
    fp = officer.signer.fingerprint
    record = dataclasses.replace(signed.record, cert_fingerprint=fp, **changes)
    return sign_record(record, officer.signer)


def test_untouched_case_is_valid_with_every_step_passing(agency: Agency, case: Case):
    report = agency.verify(case)
    assert report.ok and report.first_failure is None
    assert [s.seq for s in report.steps] == [1, 2, 3, 4, 5, 6]
    assert report.step(2).check(Check.ASSIGNMENT).passed
    assert report.step(1).check(Check.ASSIGNMENT).status is Status.NOT_CHECKED
    assert report.case_check(Check.PATH).status is Status.NOT_CHECKED


def test_report_has_no_truth_value(agency: Agency, case: Case):
    report = agency.verify(case)
    with pytest.raises(TypeError):
        bool(report)
    with pytest.raises(TypeError):
        bool(report.steps[0])


def test_no_records_is_a_failure_not_a_pass(agency: Agency, case: Case):
    report = agency.verify(case, records=[])
    assert not report.ok
    assert report.first_failure.check is Check.RECORDS


def test_no_trust_root_is_a_failure(agency: Agency, case: Case):
    report = agency.verify(case, trust=None)
    assert not report.ok and report.first_failure.check is Check.TRUST_ROOT


def test_unknown_algorithm_is_a_named_failure(agency: Agency, case: Case):
    signed = case.records[0]
    record = dataclasses.replace(signed.record, algorithm="SM2-SM3")
    odd = SignedRecord(record, record.to_canonical(), signed.signature, record.cert_fingerprint)
    report = agency.verify(case, records=[odd, *case.records[1:]])
    assert (report.first_failure.seq, report.first_failure.check) == (1, Check.SIGNATURE)
    assert "unknown signature algorithm" in report.first_failure.reason


def test_missing_tree_head_fails_closed(agency: Agency, case: Case):
    report = verify_case(case.records, trust=agency.trust(), certificates=agency.certificates(), tree_head=None,
                         inclusion_proofs={}, documents=case.documents)
    assert not report.ok and report.first_failure.check is Check.TREE_HEAD


def test_changed_digit_in_form_data_is_named_at_its_step(agency: Agency, case: Case):
    altered = case.records[2].canonical.replace(b'"fine_yuan":5000', b'"fine_yuan":5001')
    records = list(case.records)
    records[2] = SignedRecord.from_parts(altered, case.records[2].signature)
    report = agency.verify(case, records=records)
    assert (report.first_failure.seq, report.first_failure.check) == (3, Check.SIGNATURE)
    assert report.step(4).check(Check.CHAIN).failed  # and the chain no longer links


def test_record_deleted_from_the_middle_is_named(agency: Agency, case: Case):
    records = case.records[:2] + case.records[3:]
    report = agency.verify(case, records=records)
    failure = report.first_failure
    assert (failure.seq, failure.check) == (4, Check.SEQUENCE)
    assert "missing" in failure.reason
    assert report.steps[2].check(Check.CHAIN).failed


def test_two_swapped_records_are_named(agency: Agency, case: Case):
    records = list(case.records)
    records[2], records[3] = records[3], records[2]
    report = agency.verify(case, records=records)
    assert (report.first_failure.seq, report.first_failure.check) == (4, Check.SEQUENCE)


def test_step_resigned_by_a_valid_officer_who_did_not_hold_the_task_is_named(agency: Agency, case: Case):
    records = list(case.records)
    records[1] = resign(agency, records[1], "u-sun", actor="u-sun", actor_name="孙监督员")
    report = agency.verify(case, records=records)
    failure = report.first_failure
    assert (failure.seq, failure.check) == (2, Check.ASSIGNMENT)
    assert "u-sun" in failure.reason and "u-wang" in failure.reason
    assert report.step(2).check(Check.SIGNATURE).passed  # the signature itself is fine


def test_resigned_last_step_is_caught_even_if_the_server_rewrote_the_log(fresh_agency: Agency):
    case = fresh_agency.build_case(noise_before=0)
    forged = resign(fresh_agency, case.records[-1], "u-sun", actor="u-sun", actor_name="孙监督员")
    fresh_agency.log = MerkleLog()  # a compromised server re-logs the case with the forged step
    for signed in [*case.records[:-1], forged]:
        fresh_agency.log.append(signed.record_digest)
    records = [*case.records[:-1], forged]
    report = fresh_agency.verify(case, records=records)
    assert [f.check for f in report.failures()] == [Check.ASSIGNMENT]
    assert report.first_failure.seq == 6


def test_engine_task_table_catches_a_step_no_record_assigned(agency: Agency, case: Case):
    holders = {1: {"u-zhao"}}  # the engine says u-zhao held the registration task
    report = agency.verify(case, expected_actor=holders)
    assert (report.first_failure.seq, report.first_failure.check) == (1, Check.ASSIGNMENT)
    ok = agency.verify(case, expected_actor=lambda record: {record.actor})
    assert ok.ok


def test_record_backdated_before_the_signers_certificate_is_named(fresh_agency: Agency):
    fresh_agency.add_officer("u-wang", "王监督员", not_before=T0 + 2 * HOUR)  # new cert issued later
    case = fresh_agency.build_case()  # step 2 by u-wang is dated T0+2h: fine; now backdate it
    records = list(case.records)
    records[1] = resign(fresh_agency, records[1], "u-wang", time_utc="2026-03-02T02:30:00Z",
                        time_local="2026-03-02T10:30:00+08:00")
    report = fresh_agency.verify(case, records=records)
    assert (report.first_failure.seq, report.first_failure.check) == (2, Check.CERTIFICATE)
    assert "not yet valid" in report.first_failure.reason


def test_record_signed_after_revocation_is_named_and_earlier_ones_stay_valid(fresh_agency: Agency):
    case = fresh_agency.build_case()
    fresh_agency.revoke("u-wang", T0 + 3 * HOUR + dt.timedelta(minutes=30))
    report = fresh_agency.verify(case)
    # u-wang signed steps 2 (T0+2h, before revocation), 4 and 6 (after).
    assert report.step(2).check(Check.CERTIFICATE).passed
    assert report.step(4).check(Check.CERTIFICATE).failed
    assert "revoked" in report.step(4).check(Check.CERTIFICATE).reason
    assert (report.first_failure.seq, report.first_failure.check) == (4, Check.CERTIFICATE)


def test_record_dated_before_its_predecessor_is_named(agency: Agency, case: Case):
    records = list(case.records)
    records[3] = resign(agency, records[3], "u-wang", time_utc="2026-03-02T03:30:00Z",
                        time_local="2026-03-02T11:30:00+08:00")
    report = agency.verify(case, records=records)
    assert (report.first_failure.seq, report.first_failure.check) == (4, Check.TIME)


def test_record_dated_after_the_tree_head_that_contains_it_is_named(agency: Agency, case: Case):
    head = agency.head(at=T0 + 3 * HOUR)  # the log says: these leaves existed at T0+3h
    report = agency.verify(case, tree_head=head)
    assert (report.first_failure.seq, report.first_failure.check) == (4, Check.LOG_INCLUSION)


def test_changed_document_bytes_are_named(agency: Agency, case: Case):
    documents = dict(case.documents)
    digest = case.records[4].record.documents[0].sha256
    documents[digest] = documents[digest].replace(b"5000", b"500")
    report = agency.verify(case, documents=documents)
    assert (report.first_failure.seq, report.first_failure.check) == (5, Check.DOCUMENTS)
    assert "decide.pdf" in report.first_failure.reason


def test_missing_document_is_named(agency: Agency, case: Case):
    documents = {k: v for k, v in case.documents.items() if k != case.records[0].record.documents[0].sha256}
    report = agency.verify(case, documents=documents)
    assert (report.first_failure.seq, report.first_failure.check) == (1, Check.DOCUMENTS)


def test_record_missing_from_the_log_is_named(agency: Agency, case: Case):
    proofs = agency.proofs(case, agency.head())
    del proofs[3]
    report = agency.verify(case, inclusion_proofs=proofs)
    assert (report.first_failure.seq, report.first_failure.check) == (3, Check.LOG_INCLUSION)


def test_rewritten_log_fails_consistency_with_an_older_head(fresh_agency: Agency):
    case = fresh_agency.build_case()
    old = fresh_agency.head(T0 + DAY)
    rewritten = MerkleLog()
    for i in range(len(fresh_agency.log)):
        rewritten.append_hash(fresh_agency.log.leaf(i) if i != 2 else bytes(32))
    for signed in case.records:  # the case's leaves re-appended after the rewritten prefix
        rewritten.append(signed.record_digest)
    fresh_agency.log = rewritten
    case.leaf_index = {seq: len(rewritten) - len(case.records) + seq - 1 for seq in case.leaf_index}
    new = fresh_agency.head(T0 + 2 * DAY)
    report = fresh_agency.verify(case, tree_head=new, known_head=old,
                                 consistency_proof=rewritten.consistency_proof(old.tree_head.size))
    assert report.first_failure.check is Check.LOG_CONSISTENCY
    assert all(s.ok for s in report.steps)  # every record is in the new log: only the history check sees it


def test_truncated_log_fails_consistency_with_an_older_head(fresh_agency: Agency):
    case = fresh_agency.build_case()
    old = fresh_agency.head(T0 + DAY)
    fresh_agency.build_case(start=T0 + DAY)
    newer = fresh_agency.head(T0 + 3 * DAY)
    truncated = sign_tree_head(TreeHead.at(old.tree_head.size - 2, fresh_agency.log.root(old.tree_head.size - 2),
                                           T0 + 3 * DAY), fresh_agency.log_signer)
    ok = fresh_agency.verify(case, tree_head=newer, known_head=old,
                             consistency_proof=fresh_agency.log.consistency_proof(old.tree_head.size))
    assert ok.case_check(Check.LOG_CONSISTENCY).passed
    report = fresh_agency.verify(case, tree_head=truncated, known_head=old, consistency_proof=[])
    assert report.case_check(Check.LOG_CONSISTENCY).failed
    assert "shrank" in report.case_check(Check.LOG_CONSISTENCY).reason


def test_path_check_failure_names_the_step(agency: Agency, case: Case):
    seen = []

    def replay(records):
        seen.append([r.task_spec_id for r in records])
        return PathResult(False, "结案 before 决定: the model does not allow closing here", seq=6)

    report = agency.verify(case, path_check=replay)
    assert seen == [[s[0] for s in STANDARD_STEPS]]
    assert (report.first_failure.seq, report.first_failure.check) == (6, Check.PATH)


def test_path_check_that_passes_or_crashes(agency: Agency, case: Case):
    assert agency.verify(case, path_check=lambda records: None).case_check(Check.PATH).passed

    def broken(records):
        raise RuntimeError("definition missing")

    report = agency.verify(case, path_check=broken)
    assert report.first_failure.check is Check.PATH and "definition missing" in report.first_failure.reason


def test_certificate_not_supplied_is_named(agency: Agency, case: Case):
    certs = [c for c in agency.certificates() if c != agency.officers["u-zhao"].signer.certificate]
    report = agency.verify(case, certificates=certs)
    assert (report.first_failure.seq, report.first_failure.check) == (3, Check.SIGNATURE)


def test_json_and_text_report_name_the_first_failure(agency: Agency, case: Case):
    records = case.records[:2] + case.records[3:]
    report = agency.verify(case, records=records)
    as_json = report.to_json_obj()
    assert as_json["ok"] is False and as_json["first_failure"]["seq"] == 4
    assert as_json["steps"][0]["checks"][0] == {"check": "signature", "passed": True, "status": "passed", "reason": ""}
    assert "first failure: step 4: sequence" in report.to_text()


def test_record_signed_after_the_certificate_expired_is_named(fresh_agency: Agency):
    fresh_agency.add_officer("u-zhao", "赵法制员", not_before=T0 - DAY, valid_for=DAY + 2 * HOUR)
    case = fresh_agency.build_case()  # u-zhao signs step 3 at T0+3h, one hour after expiry
    report = fresh_agency.verify(case)
    assert (report.first_failure.seq, report.first_failure.check) == (3, Check.CERTIFICATE)
    assert "expired" in report.first_failure.reason
