"""Each step's 文书: produced, signed and stored in the step's transaction, listed in its signed record."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select, update

from documents import verify_pdf_signatures
from engine.db.document_tables import DocumentRow
from engine.db.tables import StepRecordRow
from engine.demo import SCENARIOS, play
from engine.errors import SigningError
from engine.spiff.driving import sample_form_data
from engine.usecases.audit import verify_cases
from engine.usecases.tasks import complete_task, list_tasks, show_task
from engine.values import CompleteTask, fixed_clock
from signatures.records import SignedRecord
from tests.conftest import at

START = at("2026-09-14 09:00")
LATER = fixed_clock(at("2027-03-01 09:00"))


def _carried_documents(bundle: bytes) -> set[str]:
    """The SHA-256 of every 文书 the bundle carries (filed under its step, named by its file name)."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {hashlib.sha256(zf.read(n)).hexdigest() for n in zf.namelist() if n.startswith("documents/")}


def _documents(svc, case_id: int) -> list[DocumentRow]:
    with svc.uow.read() as session:
        return list(session.scalars(select(DocumentRow).where(DocumentRow.case_id == case_id).order_by(DocumentRow.id)))


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_every_document_of_a_penalty_case_is_signed_and_listed_in_its_record(ready_svc, played):
    case = played
    docs = _documents(ready_svc, case.id)
    kinds = [d.kind for d in docs]
    assert kinds[0] == "complaint_registration"
    for kind in ("case_acceptance", "case_filing_report", "collegial_deliberation_record", "penalty_prior_notice",
                 "legal_review_opinion", "penalty_decision", "service_receipt", "publication_record",
                 "case_closing_report"):
        assert kind in kinds, kind
    decision = next(d for d in docs if d.kind == "penalty_decision")
    assert decision.doc_number == "呈卫罚〔2026〕001号"
    root = ready_svc.agency_keys.certificates()["root"]
    statuses = verify_pdf_signatures(decision.pdf, [root])
    assert len(statuses) == 2 and all(s.ok for s in statuses)  # the head's signature and the agency seal
    with ready_svc.uow.read() as session:
        records = [SignedRecord.from_parts(r.canonical, r.signature).record for r in session.scalars(
            select(StepRecordRow).where(StepRecordRow.case_id == case.id).order_by(StepRecordRow.seq))]
    listed = {d.sha256 for r in records for d in r.documents}
    assert listed == {d.sha256 for d in docs}
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert report.ok, report.first_failure


@pytest.mark.parametrize("played", ["not_accepted"], indirect=True)
def test_a_changed_document_byte_is_named_by_verify(ready_svc, played):
    case = played
    doc = _documents(ready_svc, case.id)[1]
    tampered = bytearray(doc.pdf)
    tampered[len(tampered) // 2] ^= 0x01
    with ready_svc.uow() as work:
        work.session.execute(update(DocumentRow).where(DocumentRow.id == doc.id).values(pdf=bytes(tampered)))
        work.commit()
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert not report.ok
    assert "document" in str(report.first_failure).lower()


def test_a_wrong_pin_leaves_no_document_behind(ready_svc):
    scenario = SCENARIOS["penalty_waiver"]
    index = [s.spec_id for s in scenario.steps].index("preliminary_check")
    case = play(ready_svc, scenario, start=START, stop_before=index).case
    before = len(_documents(ready_svc, case.id))
    task = show_task(ready_svc, next(t.id for t in list_tasks(ready_svc, case=case.number)
                                     if t.spec_id == "preliminary_check"))
    data = sample_form_data(task.form_schema, dict(scenario.steps[index].overrides), now=START)
    with pytest.raises(SigningError):
        complete_task(CompleteTask(task_id=task.id, user_id="officer1", data=data, pin="000000"),
                      svc=ready_svc, clock=fixed_clock(at("2026-09-20 10:00")))
    assert len(_documents(ready_svc, case.id)) == before


@pytest.mark.parametrize("played", ["no_penalty_minor"], indirect=True)
def test_dossier_holds_every_document_and_is_sealed(ready_svc, played, tmp_path):
    import subprocess

    from engine.usecases.dossier import build_case_dossier

    case = played
    docs = _documents(ready_svc, case.id)
    pdf = build_case_dossier(ready_svc, case.number, clock=LATER)
    root = ready_svc.agency_keys.certificates()["root"]
    [seal] = verify_pdf_signatures(pdf, [root])
    assert seal.ok
    path = tmp_path / "dossier.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert case.number in flat and "卷内目录" in flat and "公共场所未取得卫生许可证擅自营业" in flat
    for doc in docs:
        assert "".join(doc.title.split()) in flat
    assert "VALID" in text  # the verification result printed at the time of printing
    # The main procedure and the sub-process the case went through are drawn; one it never entered is not.
    assert "办案流程图：卫生行政处罚案件办理" in flat and "子流程：合议" in flat and "子流程：听证" not in flat


@pytest.mark.parametrize("played", ["transferred"], indirect=True)
def test_the_evidence_bundle_carries_every_document(ready_svc, played):
    import json

    from engine.usecases.audit import export_case, verify_bundle_file
    from signatures.pki import certificate_pem

    case = played
    docs = _documents(ready_svc, case.id)
    root = certificate_pem(ready_svc.agency_keys.certificates()["root"])
    # For a user entitled to the complainant's identity: every 文书.
    bundle = export_case(ready_svc, case.number, clock=LATER, disclose_to="clerk")
    assert {d.sha256 for d in docs} <= _carried_documents(bundle)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:  # each under the step that made it, by its file name
        placed = {e["sha256"]: e["path"] for e in json.loads(zf.read("manifest.json"))["documents"]}
    assert {d.sha256: d.file_name for d in docs} == {sha: path.rsplit("/", 1)[1] for sha, path in placed.items()}
    assert all(path.split("/")[1][:4].isdigit() for path in placed.values())
    assert verify_bundle_file(bundle, root).ok
    # For an auditor: every 文书 but those naming the complainant, which the signed manifest lists as withheld.
    bundle = export_case(ready_svc, case.number, clock=LATER)
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    withheld = {w["sha256"] for w in manifest["withheld"]}
    carried = _carried_documents(bundle)
    assert withheld and {d.sha256 for d in docs if d.sha256 not in withheld} <= carried
    assert not carried & withheld
    assert verify_bundle_file(bundle, root).ok
