"""Evidence bundles: round trip, every single-file alteration named, unusable input, the CLI."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from signatures.__main__ import main
from signatures.bundle import read_bundle, verify_bundle, write_bundle
from signatures.errors import BundleError
from signatures.pki import certificate_pem, make_root_ca
from signatures.report import Check
from signatures.verify import PathResult
from tests.unit.signatures.sigcase import DAY, DEFINITION_SHA, T0, Agency, Case

DATA = Path(__file__).parent / "data"

DEFINITION = {"administrative_penalty.bpmn": b"<definitions/>", "register.schema.json": b"{}"}


def make_bundle(agency: Agency, case: Case, signer=None) -> bytes:
    head = agency.head()
    return write_bundle(records=case.records, trust_root=agency.ca.certificate,
                        certificates=agency.certificates(), crls=[agency.crl()], tree_head=head,
                        inclusion_proofs=agency.proofs(case, head), documents=case.documents,
                        definition_files=DEFINITION, manifest_signer=signer or agency.log_signer,
                        created_at=T0 + 20 * DAY)


@pytest.fixture(scope="module")
def bundle(agency: Agency, case: Case) -> bytes:
    return make_bundle(agency, case)


@pytest.fixture(scope="module")
def root_pem(agency: Agency) -> bytes:
    return certificate_pem(agency.ca.certificate)


def rezip(bundle: bytes, change) -> bytes:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def flip(data: bytes) -> bytes:
    """Change one byte in the middle (a digit, a letter, a signature bit)."""
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def test_bundle_layout_holds_everything_a_verifier_needs(bundle: bytes, case: Case):
    names = set(zipfile.ZipFile(io.BytesIO(bundle)).namelist())
    assert {"manifest.json", "manifest.sig", "treehead.json", "crl.pem", "certs/root.pem",
            "records/0001.json", "records/0001.sig", "proofs/0006.json",
            "definition/administrative_penalty.bpmn"} <= names
    # Each 文书 under the step that made it, by the file name its record gives: never by its digest.
    assert {f"documents/{s.record.seq:04d}-{s.record.task_name}/{s.record.documents[0].name}"
            for s in case.records} <= names
    assert not [n for n in names if n.startswith("documents/") and any(d in n for d in case.documents)]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json", "manifest.sig"}


def test_bundle_is_deterministic_for_the_same_inputs(agency: Agency, case: Case, bundle: bytes):
    assert make_bundle(agency, case) == bundle


def test_untouched_bundle_verifies_offline(bundle: bytes, root_pem: bytes):
    report = verify_bundle(bundle, root_pem)
    assert report.ok, report.to_text()
    assert report.case_number == "呈卫投〔2026〕0007号"
    assert report.case_check(Check.MANIFEST).passed and report.case_check(Check.FILES).passed


def test_bundle_contents_expose_the_definition_for_a_path_check(bundle: bytes, root_pem: bytes):
    contents = read_bundle(bundle)
    assert contents.definition_files == DEFINITION
    assert contents.records[0].record.definition_sha256 == DEFINITION_SHA
    report = verify_bundle(bundle, root_pem, path_check=lambda records: PathResult(False, "not allowed", seq=2))
    assert (report.first_failure.seq, report.first_failure.check) == (2, Check.PATH)


def test_every_single_altered_file_is_detected_and_named(bundle: bytes, root_pem: bytes):
    names = zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    assert len(names) > 20
    for name in names:
        def alter(files, name=name):
            files[name] = flip(files[name])

        report = verify_bundle(rezip(bundle, alter), root_pem)
        assert not report.ok, name
        named = " ".join(str(f) for f in report.failures())
        assert name in named, f"{name} not named in: {named}"


def test_removed_and_added_files_are_named(bundle: bytes, root_pem: bytes):
    removed = verify_bundle(rezip(bundle, lambda f: f.pop("records/0003.json")), root_pem)
    assert "records/0003.json is missing" in str(removed.first_failure)
    added = verify_bundle(rezip(bundle, lambda f: f.update({"documents/extra.pdf": b"%PDF"})), root_pem)
    assert "documents/extra.pdf is not listed" in str(added.first_failure)


def test_bundle_checked_against_another_root_is_invalid(bundle: bytes):
    other = make_root_ca("另一个委员会", now=T0 - DAY, valid_for=3650 * DAY)
    report = verify_bundle(bundle, certificate_pem(other.certificate))
    assert not report.ok
    assert report.first_failure.check is Check.MANIFEST


def test_manifest_signed_by_an_officer_is_refused(agency: Agency, case: Case, root_pem: bytes):
    forged = make_bundle(agency, case, signer=agency.officers["u-li"].signer)
    report = verify_bundle(forged, root_pem)
    assert report.first_failure.check is Check.MANIFEST and "log key or the agency seal" in report.first_failure.reason


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_malformed_zip_is_unusable_input(data: bytes, root_pem: bytes):
    with pytest.raises(BundleError, match="zip"):
        verify_bundle(data, root_pem)


def test_bundle_without_manifest_is_unusable_input(bundle: bytes, root_pem: bytes):
    with pytest.raises(BundleError, match="manifest.json is missing"):
        verify_bundle(rezip(bundle, lambda f: f.pop("manifest.json")), root_pem)


def test_unreadable_trust_root_is_unusable_input(bundle: bytes):
    with pytest.raises(BundleError, match="trust root"):
        verify_bundle(bundle, b"not a certificate")


def test_cli_exit_status_is_0_valid_1_invalid_2_unusable(bundle: bytes, root_pem: bytes, tmp_path, capsys):
    (tmp_path / "case.zip").write_bytes(bundle)
    (tmp_path / "root.pem").write_bytes(root_pem)
    (tmp_path / "bad.zip").write_bytes(rezip(bundle, lambda f: f.update({"records/0002.json": flip(f["records/0002.json"])})))
    (tmp_path / "junk.zip").write_bytes(b"junk")
    assert main(["verify", str(tmp_path / "case.zip"), "--trust", str(tmp_path / "root.pem")]) == 0
    assert "VALID" in capsys.readouterr().out
    assert main(["verify", str(tmp_path / "bad.zip"), "--trust", str(tmp_path / "root.pem"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and "records/0002.json" in out["first_failure"]["reason"]
    assert main(["verify", str(tmp_path / "junk.zip"), "--trust", str(tmp_path / "root.pem")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert main(["verify", str(tmp_path / "absent.zip"), "--trust", str(tmp_path / "root.pem")]) == 2


def test_cli_runs_as_a_module_without_the_engine(bundle: bytes, root_pem: bytes, tmp_path):
    (tmp_path / "case.zip").write_bytes(bundle)
    (tmp_path / "root.pem").write_bytes(root_pem)
    probe = ("import sys, runpy; sys.argv=['signatures','verify','case.zip','--trust','root.pem'];"
             "sys.modules['engine']=None; sys.modules['flask']=None; sys.modules['sqlalchemy']=None;"
             "sys.modules['SpiffWorkflow']=None; sys.modules['documents']=None;"
             "runpy.run_module('signatures', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(__import__('pathlib').Path(__file__).parents[3])})
    assert result.returncode == 0, result.stderr
    assert "VALID" in result.stdout


def test_bundle_readme_says_what_is_inside_and_the_one_command_to_check_it(bundle: bytes, case: Case):
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        text = zf.read("README.txt").decode()
        manifest = json.loads(zf.read("manifest.json"))
    assert "README.txt" in {f["path"] for f in manifest["files"]}  # signed with the rest
    assert text.index("证据包说明") < text.index("Evidence bundle")  # Chinese first, then English
    assert text.count("casetrail verify-bundle case-case-7.zip --trust agency-root.pem") == 2
    assert "python -m signatures" not in text
    for s in case.records:  # every step listed, by its seq and name
        assert f"{s.record.seq:04d}  {s.record.task_name}" in text
    assert "certs/root.pem" in text and "casetrail ca root --fingerprint" in text


def test_manifest_version_4_ties_each_named_document_to_the_digest_its_record_signs(bundle: bytes, case: Case):
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    assert manifest["version"] == 4
    by_digest = {e["sha256"]: e for e in manifest["documents"]}
    assert set(by_digest) == set(case.documents)
    for s in case.records:
        entry = by_digest[s.record.documents[0].sha256]
        assert (entry["seq"], entry["kind"]) == (s.record.seq, s.record.documents[0].kind)
        assert entry["path"].startswith(f"documents/{s.record.seq:04d}-")


def test_a_document_swapped_for_another_steps_document_fails_that_step(bundle: bytes, root_pem: bytes, case: Case):
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    first, second = (e["path"] for e in manifest["documents"][:2])

    def swap(files):
        files[first], files[second] = files[second], files[first]

    report = verify_bundle(rezip(bundle, swap), root_pem)
    assert not report.ok
    assert not report.step(1).check(Check.DOCUMENTS).passed and "altered" in report.step(1).check(Check.DOCUMENTS).reason


def test_a_version_3_bundle_made_before_the_new_layout_still_verifies():
    """bundle-v3.zip was written by the code before manifest version 4 (documents named by digest, no README),
    with an evidence file carried and a document withheld: kept as bytes, it must verify as it did."""
    old = (DATA / "bundle-v3.zip").read_bytes()
    with zipfile.ZipFile(io.BytesIO(old)) as zf:
        names = zf.namelist()
        assert json.loads(zf.read("manifest.json"))["version"] == 3
    assert "README.txt" not in names and any(n.startswith("evidence/0002-") for n in names)
    report = verify_bundle(old, (DATA / "bundle-v3-root.pem").read_bytes())
    assert report.ok, report.to_text()
    assert report.step(2).check(Check.EVIDENCE).passed
    assert report.step(3).check(Check.DOCUMENTS).status.value == "not_checked"
    assert all(s.check(Check.DOCUMENTS).passed for s in report.steps if s.seq != 3)
    name = sorted(n for n in names if n.startswith("documents/"))[0]
    altered = rezip(old, lambda f: f.update({name: flip(f[name])}))
    assert not verify_bundle(altered, (DATA / "bundle-v3-root.pem").read_bytes()).ok
