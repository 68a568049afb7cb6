"""The evidence bundle carries the files its records list and `verify-bundle` re-hashes them (issue 14): an altered
or missing file fails naming the step and the file; a file above the bundle's size limit travels as its digest
with a note and passes, saying so; `casetrail verify` finds each file in the blob store (and re-hashes on request)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile

import pytest
from click.testing import CliRunner

from engine.demo import SCENARIOS, play_step
from engine.demo_files import demo_photo
from engine.errors import EvidenceDamaged, Forbidden
from engine.journal import EVIDENCE_KEY
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.disclosure import IDENTITY_DOCUMENT_KINDS
from signatures.bundle import verify_bundle
from signatures.pki import certificate_pem
from signatures.report import Check, Status
from tests.conftest import at
from tests.integration.test_evidence_record import _stage
from tests.integration.test_evidence_record import onsite as onsite  # noqa: F401  (the fixture)
from tests.integration.test_signed_records import LATER, _records

STEP_TIME = at("2026-09-16 10:00")


@dataclasses.dataclass
class Played:
    svc: object
    number: str
    seq: int
    task_name: str
    photo: object
    twin: object
    clip: object
    loose: object
    drawn: dict  # the party's signature drawn on the screen, as the record lists it


@pytest.fixture
def with_files(onsite, tmp_path):  # noqa: F811
    """现场检查 signed with two photos of the same name and a clip, and the party's drawn signature (stored as a file
    before the step); a photo staged for the case stays unsigned."""
    svc, case, task = onsite
    actor = task.assignee or task.candidates[0]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    photo = _stage(svc, case, actor, demo_photo(tmp_path / "a" / "门口.jpg", taken=at("2026-09-15 09:30"), lat=31.2,
                                                lon=121.4), task.id, note="经营场所门口")
    twin = _stage(svc, case, actor, demo_photo(tmp_path / "b" / "门口.jpg", taken=at("2026-09-15 09:31"), lat=31.2,
                                               lon=121.4, label="second"), task.id)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2\x00\x00\x00\x08free" + bytes(300_000))
    clip = _stage(svc, case, actor, video, task.id)
    loose = _stage(svc, case, actor, demo_photo(tmp_path / "未登记.jpg", taken=at("2026-09-15 09:40"), lat=31.2,
                                                lon=121.4))
    play_step(svc, case.number, next(s for s in SCENARIOS["penalty_waiver"].steps
                                     if s.spec_id == "onsite_inspection"), MutableClock(STEP_TIME))
    record = _records(svc, case.id)[-1].record
    *listed, drawn = record.form_data[EVIDENCE_KEY]
    assert [f["id"] for f in listed] == [photo.id, twin.id, clip.id]
    assert drawn["sha256"] == record.form_data["party_signature"]["image"]["sha256"]
    return Played(svc, case.number, record.seq, record.task_name, photo, twin, clip, loose, drawn)


def _root(svc) -> bytes:
    return certificate_pem(svc.agency_keys.certificates()["root"])


def _members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _rezip(bundle: bytes, **changes) -> bytes:
    """The bundle with members replaced (bytes) or removed (None): as someone with the zip could do."""
    files = _members(bundle)
    for name, data in changes.get("members", {}).items():
        if data is None:
            del files[name]
        else:
            files[name] = data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def _path_of(bundle: bytes, file_id: int) -> str:
    manifest = json.loads(_members(bundle)["manifest.json"])
    return next(e["path"] for e in manifest["evidence"] if e["id"] == file_id)


def test_the_bundle_carries_each_file_under_a_readable_name_and_verifies_offline(with_files, tmp_path):
    p = with_files
    bundle = export_case(p.svc, p.number, clock=LATER)
    files = _members(bundle)
    carried = sorted(n for n in files if n.startswith("evidence/"))
    step_dir = f"evidence/{p.seq:04d}-{p.task_name}/"
    signature = f"{step_dir}{p.drawn['id']}-被检查人签名.png"
    assert carried == sorted([f"{step_dir}{p.photo.id}-门口.jpg", f"{step_dir}{p.twin.id}-门口.jpg",
                              f"{step_dir}{p.clip.id}-clip.mp4", signature])
    assert files[signature] == p.svc.blobs.open(p.drawn["sha256"]).read()
    assert files[f"{step_dir}{p.clip.id}-clip.mp4"] == p.svc.blobs.open(p.clip.sha256).read()
    manifest = json.loads(files["manifest.json"])
    assert manifest["version"] == 4
    assert [(e["seq"], e["id"], e["sha256"], e["path"]) for e in manifest["evidence"]] == [
        (p.seq, f.id, f.sha256, f"{step_dir}{f.id}-{'clip.mp4' if f is p.clip else '门口.jpg'}")
        for f in (p.photo, p.twin, p.clip)] + [(p.seq, p.drawn["id"], p.drawn["sha256"], signature)]
    assert not any(p.loose.sha256 in e["sha256"] for e in manifest["evidence"])  # staged, in no signed record
    library = verify_bundle(bundle, _root(p.svc))  # `python -m signatures verify`: the library alone
    assert library.ok, library.to_text()
    report = verify_bundle_file(bundle, _root(p.svc))  # `casetrail verify-bundle`: with the BPMN replay
    assert report.ok, report.to_text()
    check = report.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.PASSED and check.reason == "4 files re-hashed"
    # Both offline verifiers, as an auditor runs them: from files, without a database.
    from signatures.__main__ import main as library_main

    (tmp_path / "case.zip").write_bytes(bundle)
    (tmp_path / "root.pem").write_bytes(_root(p.svc))
    assert library_main(["verify", str(tmp_path / "case.zip"), "--trust", str(tmp_path / "root.pem")]) == 0
    from engine.cli import main

    offline = CliRunner().invoke(main, ["verify-bundle", str(tmp_path / "case.zip"), "--trust",
                                        str(tmp_path / "root.pem"), "--json"],
                                 env={"CASETRAIL_DATABASE_URL": "sqlite:////nonexistent/dir/x.db"})
    assert offline.exit_code == 0, offline.output
    assert "4 files re-hashed" in offline.output


def _one_byte_changed(p: Played, file_id: int, tmp_path) -> tuple[object, str, object]:
    """The case's bundle with one byte of file `file_id` changed, as `verify-bundle` reports it (the library's
    report and the CLI's run), and where the file sits in the bundle."""
    bundle = export_case(p.svc, p.number, clock=LATER)
    path = _path_of(bundle, file_id)
    data = bytearray(_members(bundle)[path])
    data[len(data) // 2] ^= 0x01
    (tmp_path / "altered.zip").write_bytes(_rezip(bundle, members={path: bytes(data)}))
    (tmp_path / "root.pem").write_bytes(_root(p.svc))
    from engine.cli import main

    result = CliRunner().invoke(main, ["verify-bundle", str(tmp_path / "altered.zip"), "--trust",
                                       str(tmp_path / "root.pem")])
    return verify_bundle_file((tmp_path / "altered.zip").read_bytes(), _root(p.svc)), path, result


def test_one_changed_byte_of_a_file_fails_naming_the_step_and_the_file(with_files, tmp_path):
    p = with_files
    report, path, result = _one_byte_changed(p, p.twin.id, tmp_path)
    assert not report.ok
    check = report.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.FAILED, report.to_text()
    assert f"step {p.seq} {p.task_name}" in check.reason and "门口.jpg" in check.reason
    assert f"no. {p.twin.id}" in check.reason and "altered" in check.reason
    assert f"{path} was altered" in report.case_check(Check.FILES).reason  # the manifest's digest does not match
    # The CLI exits 1, naming the step and the file.
    assert result.exit_code == 1 and f"step {p.seq} {p.task_name}: file '门口.jpg' (no. {p.twin.id}" in result.output


def test_a_removed_file_fails_naming_the_step_and_the_file(with_files):
    p = with_files
    bundle = export_case(p.svc, p.number, clock=LATER)
    report = verify_bundle_file(_rezip(bundle, members={_path_of(bundle, p.clip.id): None}), _root(p.svc))
    check = report.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.FAILED and "clip.mp4" in check.reason and "missing" in check.reason, check
    assert p.task_name in check.reason


def test_a_file_above_the_size_limit_travels_as_its_digest_with_a_note_and_passes_saying_so(with_files):
    p = with_files
    evidence = dataclasses.replace(p.svc.settings.evidence, bundle_max_bytes=p.clip.size - 1)
    p.svc.settings = dataclasses.replace(p.svc.settings, evidence=evidence)
    bundle = export_case(p.svc, p.number, clock=LATER)
    files = _members(bundle)
    assert not any(n.endswith("clip.mp4") for n in files) and sum(n.startswith("evidence/") for n in files) == 3
    [entry] = [e for e in json.loads(files["manifest.json"])["evidence"] if e["id"] == p.clip.id]
    assert entry["sha256"] == p.clip.sha256 and "path" not in entry
    assert "bundle_max_file_bytes" in entry["left_out"] and "kept by" in entry["left_out"]
    report = verify_bundle_file(bundle, _root(p.svc))
    assert report.ok, report.to_text()
    check = report.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.NOT_CHECKED
    assert check.reason.startswith("3 files re-hashed; not carried: file 'clip.mp4'") and "kept by" in check.reason
    assert "clip.mp4" in report.to_text()  # the auditor reads why it is not there


def test_casetrail_verify_finds_each_file_in_the_store_and_re_hashes_on_request(with_files):
    p = with_files
    [report] = verify_cases(p.svc, [p.number], clock=LATER)
    assert report.ok, report.to_text()
    assert "4 files present with their signed size" in report.step(p.seq).check(Check.EVIDENCE).reason
    [rehashed] = verify_cases(p.svc, [p.number], clock=LATER, rehash=True)
    assert rehashed.step(p.seq).check(Check.EVIDENCE).reason == "4 files re-hashed"
    # The same length, other bytes: found by the re-hash only.
    blob = p.svc.blobs.path(p.clip.sha256)
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF
    blob.write_bytes(bytes(data))
    [quick] = verify_cases(p.svc, [p.number], clock=LATER)
    assert quick.ok
    [full] = verify_cases(p.svc, [p.number], clock=LATER, rehash=True)
    failure = full.first_failure
    assert (failure.seq, failure.check) == (p.seq, Check.EVIDENCE) and "clip.mp4" in failure.reason, full.to_text()
    with pytest.raises(EvidenceDamaged, match="clip.mp4"):  # no bundle vouches for a damaged copy
        export_case(p.svc, p.number, clock=LATER)
    blob.unlink()
    [gone] = verify_cases(p.svc, [p.number], clock=LATER)
    assert gone.first_failure.seq == p.seq and "clip.mp4" in gone.first_failure.reason
    assert "missing" in gone.first_failure.reason
    with pytest.raises(EvidenceDamaged, match="clip.mp4"):
        export_case(p.svc, p.number, clock=LATER)


def test_need_to_know_the_auditors_bundle_carries_the_signed_files_but_not_the_complainant(with_files):
    p = with_files
    bundle = export_case(p.svc, p.number, clock=LATER)  # a complaint case: 投诉举报登记 names the complainant
    files = _members(bundle)
    assert "张三".encode() not in b"".join(files.values())
    kinds = {json.loads(files[n])["documents"][0]["sha256"]: json.loads(files[n])["documents"][0]["kind"]
             for n in files if n.startswith("records/") and n.endswith(".json") and json.loads(files[n])["documents"]}
    carried = {kinds.get(hashlib.sha256(files[n]).hexdigest()) for n in files if n.startswith("documents/")}
    assert not carried & IDENTITY_DOCUMENT_KINDS
    assert sum(n.startswith("evidence/") for n in files) == 4  # what the pages show an auditor of this case
    with pytest.raises(Forbidden):  # the disclosing bundle only for one entitled to the identity
        export_case(p.svc, p.number, clock=LATER, disclose_to="auditor")
    disclosing = export_case(p.svc, p.number, clock=LATER, disclose_to="officer1")
    assert sorted(n for n in _members(disclosing) if n.startswith("evidence/")) == \
        sorted(n for n in files if n.startswith("evidence/"))
    assert verify_bundle_file(disclosing, _root(p.svc)).ok


def test_the_dossier_lists_every_file_and_embeds_each_photo_with_its_digest(with_files):
    from pypdf import PdfReader

    from engine.usecases.dossier import build_case_dossier

    p = with_files
    pdf = build_case_dossier(p.svc, p.number, clock=LATER)
    pages = ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]
    listing = [i for i, text in enumerate(pages) if text.startswith("证据目录序号")]
    assert listing, "no 证据目录 page"
    text = "".join(pages[listing[0]:listing[0] + 2])
    for f in (p.photo, p.twin, p.clip):  # every file: its digest, name, type
        assert f.sha256 in text, f.name
    assert p.drawn["sha256"] in text and "被检查人签名.png" in text  # listed; the 现场笔录 shows it in its block
    assert "clip.mp4" in text and "video/mp4" in text and "门口.jpg" in text
    assert "2026-09-1509:30:00+08:00" in text  # the camera's claimed time, shown as such
    assert "设备自述" in text
    photo_pages = [t for t in pages if t.startswith("证据照片") or "证据照片证据序号" in t]
    assert len(photo_pages) == 2, [t[:40] for t in pages]  # the two photos; the clip is listed, not embedded
    assert p.photo.sha256 in photo_pages[0] and p.twin.sha256 in photo_pages[1]
    assert "经营场所门口" in photo_pages[0] and "相机自述" in photo_pages[0]
    reader = PdfReader(io.BytesIO(pdf))
    # WeasyPrint gives the pages of one render a shared resource dictionary: count the distinct images.
    embedded = {img.name: img.image.size for i, page in enumerate(reader.pages) if pages[i] in photo_pages
                for img in page.images}
    assert sorted(embedded.values()) == [(640, 480), (640, 480)]
    front = pages[1] if "卷内目录" in pages[1] else pages[0]
    assert "证据目录及证据照片" in front


def test_an_altered_stored_signature_fails_the_bundle_naming_the_step(with_files, tmp_path):
    """The party's drawn signature travels in the bundle as a file of its step: one changed byte of the PNG fails
    `verify-bundle`, naming the step and the file."""
    p = with_files
    report, _, result = _one_byte_changed(p, p.drawn["id"], tmp_path)
    check = report.step(p.seq).check(Check.EVIDENCE)
    assert check.status is Status.FAILED, report.to_text()
    assert f"step {p.seq} {p.task_name}: file '被检查人签名.png' (no. {p.drawn['id']}" in check.reason
    assert "altered" in check.reason
    assert result.exit_code == 1 and f"step {p.seq} {p.task_name}: file '被检查人签名.png'" in result.output


def test_casetrail_verify_checks_the_stored_signature_against_the_record(with_files):
    p = with_files
    blob = p.svc.blobs.path(p.drawn["sha256"])
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    [full] = verify_cases(p.svc, [p.number], clock=LATER, rehash=True)
    failure = full.first_failure
    assert (failure.seq, failure.check) == (p.seq, Check.EVIDENCE), full.to_text()
    assert "被检查人签名.png" in failure.reason and "altered" in failure.reason
    blob.unlink()
    [gone] = verify_cases(p.svc, [p.number], clock=LATER)
    assert gone.first_failure.seq == p.seq and "被检查人签名.png" in gone.first_failure.reason
