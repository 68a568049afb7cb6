"""Signed steps and the tamper-evident case record: signing in complete_task, verify, export, the log."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlalchemy import delete, select, update

from engine.db.tables import LogLeafRow, StepRecordRow, TaskRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_PIN
from engine.errors import Forbidden, SigningError
from engine.journal import frontier_append, frontier_root, sign_tree_head_if_grown
from engine.spiff.driving import sample_form_data
from engine.usecases.audit import export_case, prove_log, verify_bundle_file, verify_cases
from engine.usecases.cases import show_case
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.usecases.users import rekey_user, revoke_user_key
from engine.values import CompleteTask, RekeyUser, RevokeUserKey, fixed_clock
from signatures.canonical import canonical_json
from signatures.errors import SignatureError
from signatures.merkle import MerkleLog
from signatures.pki import certificate_pem
from signatures.records import SignedRecord
from tests.conftest import at

START = at("2026-09-14 09:00")
LATER = fixed_clock(at("2027-03-01 09:00"))


def _stop_at(svc, scenario: str, spec_id: str):
    sc = SCENARIOS[scenario]
    index = [s.spec_id for s in sc.steps].index(spec_id)
    case = play(svc, sc, start=START, stop_before=index).case
    task = next(t for t in list_tasks(svc, case=case.number) if t.spec_id == spec_id)
    return case, show_task(svc, task.id)


def _records(svc, case_id: int) -> list[SignedRecord]:
    with svc.uow.read() as session:
        rows = session.scalars(select(StepRecordRow).where(StepRecordRow.case_id == case_id).order_by(StepRecordRow.seq))
        return [SignedRecord.from_parts(r.canonical, r.signature) for r in rows]


def _opened_files(svc, case_id: int, seq: int = 1) -> list[dict]:
    """The files record `seq` lists, with what it seals of them (a complaint's material: names, notes) opened from
    the stored values, as the case's own pages and dossier read them."""
    from engine.usecases.signed import SignedStep, stored_seals

    record = _records(svc, case_id)[seq - 1].record
    with svc.uow.read() as session:
        seals = stored_seals(session.connection().execute, [case_id])[case_id]
    return list(SignedStep(seq, None, record, {p: d for p, (_, d) in seals.get(seq, {}).items()}).files)


def _first_failure(svc, number: str):
    [report] = verify_cases(svc, [number], clock=LATER)
    return report.first_failure


def _root_pem(svc) -> bytes:
    return certificate_pem(svc.agency_keys.certificates()["root"])


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_a_played_case_is_a_valid_signed_chain_with_intake_first(ready_svc, played):
    records = [s.record for s in _records(ready_svc, played.id)]
    assert records[0].seq == 1 and records[0].task_spec_id == "start" and records[0].actor == "clerk"
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert records[1].prev_hash == _records(ready_svc, played.id)[0].record_hash
    assert records[5].time_local.endswith("+08:00") and records[5].time_utc.endswith("Z")
    [report] = verify_cases(ready_svc, [played.number], clock=LATER)
    assert report.ok, report.to_text()
    # Deliberation: the first step after the votes lists every signed vote by seq, actor and record hash.
    votes = [r for r in records if r.task_spec_id == "panel_vote"]
    after = records[votes[-1].seq]  # seq is 1-based: this is the record right after the last vote
    listed = after.form_data["_signed_votes"]
    assert [(v["seq"], v["actor"]) for v in listed] == [(v.seq, v.actor) for v in votes]
    assert list(records[votes[0].seq - 2].assignments["panel_vote"]) == ["panel1", "panel2", "panel3"]


def test_wrong_pin_writes_nothing_and_says_so(ready_svc):
    case, task = _stop_at(ready_svc, "penalty_waiver", "preliminary_check")
    before = len(_records(ready_svc, case.id))
    data = sample_form_data(task.form_schema, dict(SCENARIOS["penalty_waiver"].steps[1].overrides), now=START)
    for pin in ("000000", None):
        with pytest.raises(SigningError):
            complete_task(CompleteTask(task_id=task.id, user_id="officer1", data=data, pin=pin), svc=ready_svc,
                          clock=fixed_clock(at("2026-09-20 10:00")))
    assert len(_records(ready_svc, case.id)) == before
    assert show_task(ready_svc, task.id).status == "ready"
    with pytest.raises(Forbidden):  # role mismatch is refused before the key is even asked for
        complete_task(CompleteTask(task_id=task.id, user_id="publisher", data=data, pin=DEMO_PIN), svc=ready_svc,
                      clock=fixed_clock(at("2026-09-20 10:00")))


def test_revoked_certificate_refuses_signing_but_old_steps_still_verify_and_rekey_restores(ready_svc):
    case, task = _stop_at(ready_svc, "penalty_waiver", "preliminary_check")
    revoke_user_key(RevokeUserKey(user_id="officer1"), svc=ready_svc,
                    clock=fixed_clock(at("2026-09-20 09:00")))
    data = sample_form_data(task.form_schema, dict(SCENARIOS["penalty_waiver"].steps[1].overrides), now=START)
    with pytest.raises(SigningError, match="revoked|吊销|no valid"):
        complete_task(CompleteTask(task_id=task.id, user_id="officer1", data=data, pin=DEMO_PIN), svc=ready_svc,
                      clock=fixed_clock(at("2026-09-20 10:00")))
    assert _first_failure(ready_svc, case.number) is None  # signed before the revocation: still valid
    rekey_user(RekeyUser(user_id="officer1", pin="new-pin-2026"), svc=ready_svc,
               clock=fixed_clock(at("2026-09-20 11:00")))
    with pytest.raises(SigningError):
        complete_task(CompleteTask(task_id=task.id, user_id="officer1", data=data, pin=DEMO_PIN), svc=ready_svc,
                      clock=fixed_clock(at("2026-09-20 12:00")))
    complete_task(CompleteTask(task_id=task.id, user_id="officer1", data=data, pin="new-pin-2026"), svc=ready_svc,
                  clock=fixed_clock(at("2026-09-20 12:00")))
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_a_digit_changed_in_stored_form_data_names_that_step(ready_svc, played):
    case = played
    with ready_svc.uow() as work:
        row = work.session.scalar(select(StepRecordRow).where(StepRecordRow.case_id == case.id,
                                                              StepRecordRow.task_spec_id == "make_decision"))
        obj = json.loads(row.canonical)
        obj["form_data"]["final_fine"] = obj["form_data"]["final_fine"] + 1
        row.canonical = canonical_json(obj)
        seq = row.seq
        work.commit()
    failure = _first_failure(ready_svc, case.number)
    assert failure is not None and failure.seq == seq and failure.check == "signature"


@pytest.mark.parametrize("played", [("penalty_waiver", "penalty_waiver")], indirect=True, ids=["two_waivers"])
def test_a_deleted_middle_record_and_two_swapped_records_are_named(ready_svc, played):
    first, second = played
    with ready_svc.uow() as work:
        work.session.execute(delete(StepRecordRow).where(StepRecordRow.case_id == first.id,
                                                         StepRecordRow.seq == 7))
        work.commit()
    failure = _first_failure(ready_svc, first.number)
    assert failure is not None and failure.seq == 8
    with ready_svc.uow() as work:
        rows = {r.seq: r for r in work.session.scalars(select(StepRecordRow).where(
            StepRecordRow.case_id == second.id, StepRecordRow.seq.in_([5, 6])))}
        a, b = (rows[5].canonical, rows[5].signature), (rows[6].canonical, rows[6].signature)
        rows[5].canonical, rows[5].signature = b
        rows[6].canonical, rows[6].signature = a
        work.commit()
    failure = _first_failure(ready_svc, second.number)
    assert failure is not None and failure.seq == 6


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_a_record_re_signed_by_a_valid_officer_who_did_not_hold_the_task_is_named(ready_svc, played):
    case = played
    with ready_svc.uow() as work:  # the task table says someone else completed step 3
        session = work.session
        row = session.scalar(select(StepRecordRow).where(StepRecordRow.case_id == case.id, StepRecordRow.seq == 3))
        session.execute(update(TaskRow).where(TaskRow.id == row.task_id).values(completed_by="officer2"))
        work.commit()
    failure = _first_failure(ready_svc, case.number)
    assert failure is not None and failure.seq == 3 and failure.check == "assignment"


def test_the_compact_range_in_the_database_matches_the_full_tree():
    frontier: list[bytes] = []
    full = MerkleLog()
    for i in range(37):
        leaf = bytes([i]) * 32
        frontier = frontier_append(frontier, leaf, i)
        full.append_hash(leaf)
        assert frontier_root(frontier) == full.root()


@pytest.mark.parametrize("played", ["not_accepted"], indirect=True)
def test_log_prove_is_consistent_and_fails_after_truncation_or_rewrite(ready_svc, played):
    old, _ = sign_tree_head_if_grown(ready_svc, clock=fixed_clock(at("2026-10-01 09:00")))
    play(ready_svc, SCENARIOS["transferred"], start=START)
    proof = prove_log(ready_svc, old_size=old.tree_head.size, clock=fixed_clock(at("2026-10-02 09:00")))
    assert proof.new.tree_head.size > old.tree_head.size
    with ready_svc.uow() as work:  # rewrite one early leaf
        work.session.execute(update(LogLeafRow).where(LogLeafRow.index == 1).values(leaf_hash=b"\x01" * 32))
        work.commit()
    with pytest.raises(SignatureError):
        prove_log(ready_svc, known=old, clock=fixed_clock(at("2026-10-03 09:00")))
    with ready_svc.uow() as work:  # and truncate the log
        work.session.execute(delete(LogLeafRow).where(LogLeafRow.index >= 1))
        work.commit()
    with pytest.raises(SignatureError):
        prove_log(ready_svc, known=old, clock=fixed_clock(at("2026-10-03 09:00")))


@pytest.mark.parametrize("played", ["penalty_hearing"], indirect=True)
def test_exported_bundle_verifies_offline_and_any_altered_file_fails(ready_svc, played):
    case = played
    bundle = export_case(ready_svc, case.number, clock=LATER)
    report = verify_bundle_file(bundle, _root_pem(ready_svc))
    assert report.ok, report.to_text()
    names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    assert any(n.startswith("definition/") and n.endswith(".bpmn") for n in names)
    for victim in ("records/0003.json", "definition/case_procedure.bpmn", "crl.pem", "treehead.json"):
        assert not verify_bundle_file(_altered(bundle, victim), _root_pem(ready_svc)).ok, victim


def _altered(bundle: bytes, victim: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(bundle))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == victim:
                data = data.replace(b"2", b"3", 1) if b"2" in data else data + b" "
            dst.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("played", ["not_accepted"], indirect=True)
def test_case_without_any_record_is_invalid_not_valid(ready_svc, played):
    case = played
    with ready_svc.uow() as work:
        work.session.execute(delete(StepRecordRow).where(StepRecordRow.case_id == case.id))
        work.commit()
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert not report.ok
    assert show_case(ready_svc, case.number).outcome == "not_accepted"
