"""Complaint material attached at 投诉举报登记 (issue 14): staged by the clerk before the case exists, under the
registration page's key; registering the complaint lists it in the case's first signed record and gives it the
case in the same transaction; a refused registration leaves it staged; only its clerk sees it until then, and
after it only who may see the complainant's identity; collected by the same age rule as any staged file."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from sqlalchemy import select

from engine.blobs import DirectoryStore
from engine.db.evidence_tables import EvidenceFileRow
from engine.demo import SCENARIOS
from engine.demo_files import demo_pdf, demo_photo
from engine.demo_users import DEMO_PIN
from engine.errors import EvidenceRefused, Forbidden, NotFound, SigningError, ValidationError
from engine.journal import EVIDENCE_KEY
from engine.spiff.driving import intake_data
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.cases import open_case
from engine.usecases.evidence import (
    collect_evidence,
    evidence_file,
    intake_files,
    list_evidence,
    new_intake_key,
    open_evidence,
    stage_evidence,
)
from engine.usecases.evidence_discard import discard_evidence
from engine.usecases.signed import stored_seals
from engine.values import DiscardEvidence, OpenCase, StageEvidence, fixed_clock
from signatures.pki import certificate_pem
from signatures.report import Check, Status
from signatures.sealing import open_form
from tests.conftest import at
from tests.integration.test_signed_records import LATER, _records

NOW = at("2026-09-15 10:00")
CLOCK = fixed_clock(NOW)
DATA = SCENARIOS["penalty_waiver"].intake_data(now=NOW)


@pytest.fixture
def svc(ready_svc, tmp_path):
    ready_svc.blobs = DirectoryStore(tmp_path / "blobs")
    return ready_svc


def _hand_in(svc, path, key, user="clerk", note=None, clock=CLOCK):
    return stage_evidence(StageEvidence(case_ref=None, user_id=user, name=path.name, source=path, note=note,
                                        intake_key=key), svc=svc, clock=clock)


def _open(svc, key, data=DATA, pin=DEMO_PIN):
    return open_case(OpenCase(user_id="clerk", data=data, pin=pin, evidence_key=key), svc=svc, clock=CLOCK)


def _rows(svc):
    with svc.uow.read() as session:
        return {r.id: (r.state, r.case_id, r.seq) for r in session.scalars(select(EvidenceFileRow))}


def _photo(tmp_path, name="来信附图.jpg"):
    return demo_photo(tmp_path / name, taken=at("2026-09-14 18:00"), lat=31.2304, lon=121.4737)


def test_the_clerk_stages_material_without_a_case_and_only_they_see_it(svc, tmp_path):
    key = new_intake_key()
    view = _hand_in(svc, _photo(tmp_path), key, note="投诉人提供")
    assert (view.case_id, view.task_id, view.state, view.seq, view.media_type, view.note) == \
        (None, None, "staged", None, "image/jpeg", "投诉人提供")
    assert view.exif["gps"] == {"lat": 31.2304, "lon": 121.4737}
    assert intake_files(svc, "clerk", key) == (view,)
    assert intake_files(svc, "clerk", new_intake_key()) == ()  # another registration page of the same clerk
    with pytest.raises(EvidenceRefused) as refused:  # the key is not enough: the files are the clerk's
        intake_files(svc, "officer1", key)
    assert refused.value.http_status == 403
    assert evidence_file(svc, view.id, "clerk") == view
    shown, stream = open_evidence(svc, view.id, "clerk")
    with stream:
        assert stream.read() == (tmp_path / "来信附图.jpg").read_bytes()
    for other in ("officer1", "head", "auditor", "admin", None):
        with pytest.raises(NotFound):
            evidence_file(svc, view.id, other)
    with pytest.raises(NotFound):  # nor take it back
        discard_evidence(DiscardEvidence(file_id=view.id, user_id="officer1"), svc=svc, clock=CLOCK)
    assert _rows(svc) == {view.id: ("staged", None, None)}


def test_only_an_intake_clerk_with_a_well_formed_key_may_hand_in_material(svc, tmp_path):
    photo = _photo(tmp_path)
    for user in ("officer1", "head", "auditor", "admin", "nobody"):
        with pytest.raises(EvidenceRefused) as refused:
            _hand_in(svc, photo, new_intake_key(), user=user)
        assert refused.value.http_status == 403, user
    for key in ("short", "../../etc/passwd-xxxxxxxxxx", "x" * 65):
        with pytest.raises(EvidenceRefused) as refused:
            _hand_in(svc, photo, key)
        assert refused.value.http_status == 422
    with pytest.raises(EvidenceRefused) as refused:  # neither a case nor a registration page
        _hand_in(svc, photo, None)
    assert refused.value.http_status == 404
    program = tmp_path / "photo.jpg"
    program.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(500))
    with pytest.raises(EvidenceRefused) as refused:
        _hand_in(svc, program, new_intake_key())
    assert refused.value.http_status == 415
    assert _rows(svc) == {} and list(svc.blobs.digests()) == []


def test_registering_the_complaint_signs_its_material_and_gives_it_the_case(svc, tmp_path):
    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key, note="投诉人提供")
    letter = _hand_in(svc, demo_pdf(tmp_path / "举报信.pdf"), key)
    other_page = _hand_in(svc, demo_pdf(tmp_path / "另一投诉.pdf", title="other"), new_intake_key())
    case = _open(svc, key)
    [record] = [r.record for r in _records(svc, case.id)]
    assert record.seq == 1 and record.task_name == "投诉举报登记"
    listed = [
        {"id": photo.id, "sha256": photo.sha256, "size": photo.size, "media_type": "image/jpeg",
         "name": "来信附图.jpg", "added_by": "clerk", "added_at": "2026-09-15T02:00:00Z", "note": "投诉人提供"},
        {"id": letter.id, "sha256": letter.sha256, "size": letter.size, "media_type": "application/pdf",
         "name": "举报信.pdf", "added_by": "clerk", "added_at": "2026-09-15T02:00:00Z"},
    ]
    # The clerk's signature covers the material; what a person wrote of it (name, note) may name the complainant,
    # so the record signs their salted digests (intake.schema.json: x-evidence x-confidential), the rest in clear.
    assert record.form_data[EVIDENCE_KEY] == [
        {k: v for k, v in e.items() if k not in ("name", "note")} for e in listed]
    file_seals = {p for p in record.sealed if p.startswith("/" + EVIDENCE_KEY)}
    assert file_seals == {"/_evidence_files/0/name", "/_evidence_files/0/note", "/_evidence_files/1/name"}
    with svc.uow.read() as session:
        seals = stored_seals(session.connection().execute, [case.id])[case.id][1]
    assert {p: kind for p, (kind, _) in seals.items() if p in file_seals} == dict.fromkeys(file_seals, "complainant")
    opened, problems, withheld = open_form(record.form_data, record.sealed, {p: d for p, (_, d) in seals.items()})
    assert opened[EVIDENCE_KEY] == listed and problems == [] and withheld == []
    assert _rows(svc) == {photo.id: ("attached", case.id, 1), letter.id: ("attached", case.id, 1),
                          other_page.id: ("staged", None, None)}
    assert intake_files(svc, "clerk", key) == ()
    [report] = verify_cases(svc, [case.number], clock=LATER, rehash=True)
    assert report.ok, report.to_text()
    assert report.step(1).check(Check.EVIDENCE).reason == "2 files re-hashed"
    # Who may see the complainant sees the material; who reads the case without the identity does not.
    assert [v.id for v in list_evidence(svc, case.number, "clerk")] == [photo.id, letter.id]
    assert list_evidence(svc, case.number, "auditor") == () and list_evidence(svc, case.number, None) == ()
    with pytest.raises(NotFound):
        evidence_file(svc, photo.id, "auditor")
    with pytest.raises(Forbidden):  # an officer with no part in the case
        evidence_file(svc, photo.id, "officer3")
    again = _open(svc, key)  # a key serves one registration: the next one on it finds nothing left to take
    assert EVIDENCE_KEY not in _records(svc, again.id)[0].record.form_data
    assert [v.id for v in list_evidence(svc, again.number, "clerk")] == []


def _root(svc) -> bytes:
    return certificate_pem(svc.agency_keys.certificates()["root"])


def _evidence_entries(bundle: bytes) -> list[dict]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert not [n for n in names if n.startswith("evidence/")] or manifest["evidence"]
    return [{**e, "carried": e.get("path") in names} for e in manifest["evidence"]]


def _unzipped(bundle: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return b"".join(zf.read(n) for n in zf.namelist()) + "".join(zf.namelist()).encode()


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_the_auditors_bundle_names_the_material_by_digest_only(svc, tmp_path, anonymous):
    data = intake_data({"complainant": {"anonymous": True}}, now=NOW) if anonymous else DATA
    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key)
    case = _open(svc, key, data=data)
    bundle = export_case(svc, case.number, clock=LATER)  # as an auditor: without the complainant
    [entry] = _evidence_entries(bundle)
    assert (entry["seq"], entry["sha256"], entry["carried"]) == (1, photo.sha256, False)
    assert "来信附图".encode() not in _unzipped(bundle)  # the file name names no one in the auditor's copy
    assert "may identify the complainant" in entry["left_out"]
    report = verify_bundle_file(bundle, _root(svc))
    assert report.ok, report.to_text()
    assert report.step(1).check(Check.EVIDENCE).status is Status.NOT_CHECKED
    disclosing = export_case(svc, case.number, clock=LATER, disclose_to="clerk")
    [carried] = _evidence_entries(disclosing)
    assert carried["carried"] and carried["sha256"] == photo.sha256
    assert carried["path"].endswith("-来信附图.jpg")  # named as the bundle discloses it to the clerk
    checked = verify_bundle_file(disclosing, _root(svc))
    assert checked.ok and checked.step(1).check(Check.EVIDENCE).reason == "1 files re-hashed", checked.to_text()


def test_a_refused_registration_leaves_the_material_staged_for_the_next_try(svc, tmp_path):
    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key)
    with pytest.raises(SigningError):
        _open(svc, key, pin="000000")
    with pytest.raises(ValidationError):
        _open(svc, key, data={**DATA, "content": ""})
    with pytest.raises(EvidenceRefused) as refused:
        _open(svc, "not a key")
    assert refused.value.http_status == 422
    assert _rows(svc) == {photo.id: ("staged", None, None)} and intake_files(svc, "clerk", key) == (photo,)
    case = _open(svc, key)
    assert _rows(svc) == {photo.id: ("attached", case.id, 1)}


def test_a_registration_without_a_key_takes_no_one_s_material(svc, tmp_path):
    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key)
    case = _open(svc, None)
    assert EVIDENCE_KEY not in _records(svc, case.id)[0].record.form_data
    assert _rows(svc) == {photo.id: ("staged", None, None)}


def test_material_of_a_complaint_never_registered_is_collected_by_the_same_age_rule(svc, tmp_path):
    old = _hand_in(svc, _photo(tmp_path, "old.jpg"), new_intake_key())
    recent_clock = fixed_clock(NOW + svc.settings.evidence.staged_max_age)
    recent = _hand_in(svc, demo_pdf(tmp_path / "recent.pdf"), new_intake_key(), clock=recent_clock)
    os.utime(svc.blobs.path(old.sha256), (NOW.timestamp(),) * 2)  # a blob's age is its file's
    assert collect_evidence(svc, clock=fixed_clock(NOW + dt.timedelta(days=1))).to_json() == {"rows": 0, "blobs": 0}
    late = fixed_clock(NOW + svc.settings.evidence.staged_max_age + dt.timedelta(minutes=1))
    assert collect_evidence(svc, clock=late).to_json() == {"rows": 1, "blobs": 1}
    assert _rows(svc) == {recent.id: ("staged", None, None)}
    assert not svc.blobs.exists(old.sha256) and svc.blobs.exists(recent.sha256)


def test_the_dossier_names_the_material_the_intake_record_seals(svc, tmp_path):
    """The case file is the agency's own: it lists the complainant's material by name, opened from the stored
    sealed values (the record itself carries only their digests)."""
    import io

    from pypdf import PdfReader

    from engine.usecases.dossier import build_case_dossier

    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key, note="投诉人提供")
    case = _open(svc, key)
    pdf = build_case_dossier(svc, case.number, clock=LATER)
    text = "".join("".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert photo.sha256 in text and "来信附图.jpg" in text and "投诉人提供" in text


def test_verify_fails_on_a_file_row_that_differs_from_the_record_that_took_it(svc, tmp_path):
    """The case page, the dossier and the bundles read the evidence_files rows: each attached row must say what
    its record signed (names compared as opened from the sealed values), and no attached row may lack a record."""
    from sqlalchemy import text

    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key, note="投诉人提供")
    case = _open(svc, key)
    [report] = verify_cases(svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()

    def failures() -> list[str]:
        [again] = verify_cases(svc, [case.number], clock=LATER)
        return [f.reason for f in again.failures() if f.check is Check.PROJECTION]

    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE evidence_files SET name = '换了名字.jpg', size = 1 WHERE id = :i"), {"i": photo.id})
    found = failures()
    assert any(f"evidence_files.name (file {photo.id}) is '换了名字.jpg'" in f and "来信附图.jpg" in f for f in found), found
    assert any("evidence_files.size" in f for f in found), found
    with svc.engine.begin() as conn:
        conn.execute(text("UPDATE evidence_files SET name = '来信附图.jpg', size = :s WHERE id = :i"),
                     {"i": photo.id, "s": photo.size})
        conn.execute(text("INSERT INTO evidence_files (case_id, sha256, size, media_type, name, added_by, added_at, "
                          "state, seq) SELECT case_id, sha256, size, media_type, 'extra.jpg', added_by, added_at, "
                          "state, seq FROM evidence_files WHERE id = :i"), {"i": photo.id})
    found = failures()
    assert len(found) == 1 and "evidence_files.id" in found[0] and "no signed record states it" in found[0], found
    with svc.engine.begin() as conn:
        conn.execute(text("DELETE FROM evidence_files WHERE name = 'extra.jpg' OR id = :i"), {"i": photo.id})
    found = failures()
    assert len(found) == 1 and f"file {photo.id}, attached to this step" in found[0], found



def test_the_registration_form_lists_the_material_handed_in_with_its_digests(svc, tmp_path):
    """The 登记表 the clerk signs names each file with its SHA-256, as the record does; without material it says 无."""
    import subprocess

    from engine.usecases.documents import get_document, list_documents

    def registration_text(case) -> str:
        [doc] = [d for d in list_documents(svc, case.number) if d.kind == "complaint_registration"]
        pdf = tmp_path / f"{doc.id}.pdf"
        pdf.write_bytes(get_document(svc, doc.id)[1])
        return "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                      check=True).stdout.split())

    key = new_intake_key()
    photo = _hand_in(svc, _photo(tmp_path), key, note="投诉人提供")
    letter = _hand_in(svc, demo_pdf(tmp_path / "举报信.pdf"), key)
    text = registration_text(_open(svc, key))
    assert "随附材料" in text and "1.来信附图.jpg" in text and "投诉人提供" in text and "2.举报信.pdf" in text, text
    assert photo.sha256 in text and letter.sha256 in text
    assert "随附材料无" in registration_text(_open(svc, None))
