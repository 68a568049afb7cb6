"""Each agency its own seal (issue 16): a district agency's 决定书 bear its seal, the home agency's theirs; verify
per agency and for the platform; each bundle verifies offline with only the platform root and names the agency
that sealed it; a swapped or forged seal fails naming it; an agency without a seal is refused, nothing written."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from documents.embedded import embedded_signatures
from engine.agency_seals import SealMissing, issue_agency_seal, seal_for
from engine.db.document_tables import DocumentRow
from engine.db.tables import AgencyRow, CaseRow, CertificateRow, StepRecordRow, TaskRow
from engine.demo import SCENARIOS, play, play_step
from engine.demo_users import DEMO_AGENCIES, cast_of
from engine.enums import AgencyLevel, TaskStatus
from engine.errors import Conflict, NotFound
from engine.keystore import _write_key
from engine.seed import seed_agencies
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.values import fixed_clock
from signatures.algorithms import generate_private_key
from signatures.pki import (
    CertRole,
    certificate_agency_code,
    certificate_organization,
    certificate_pem,
    certificate_role,
    issue_seal_certificate,
    make_root_ca,
)
from signatures.report import Check
from tests.conftest import at, same_blob_store
from tests.dbtemplates import Template, Templates
from tests.integration.conftest import scenarios_played

HEPING = DEMO_AGENCIES[0]  # a demo district: its row, people and seal made by `agency add` (seed_agencies)
DISTRICT, DISTRICT_NAME = HEPING.code, HEPING.name
CAST = cast_of(HEPING)
BARE = "cz-bare"  # an agency whose row was written without a seal
SEALED_ON = at("2026-10-01 09:00")
B_START = at("2026-10-12 09:00")
LATER = fixed_clock(at("2027-03-01 09:00"))
WAIVER = SCENARIOS["penalty_waiver"]
DECISION = [s.spec_id for s in WAIVER.steps].index("make_decision")


def _district(svc: Services) -> tuple[str, str]:
    """The demo's districts added as `agency add` adds them (each with its seal) and their people, and a row
    without one; a case of 和平区 played by its people to the end, and another stopped before its 决定 — (done,
    open) case numbers."""
    seed_agencies(svc, fixed_clock(SEALED_ON))
    with svc.uow() as work:
        work.session.add(AgencyRow(code=BARE, name="呈州市西县卫生健康局", short="西县", parent_code=svc.settings.agency.code,
                                   level=AgencyLevel.COUNTY.value, case_number_prefix="西县投",
                                   penalty_number_prefix="西县罚", created_at=SEALED_ON))
        work.commit()
    done = play(svc, WAIVER, start=B_START, cast=CAST).case.number
    stopped = play(svc, WAIVER, start=B_START + dt.timedelta(days=1), stop_before=DECISION, cast=CAST).case.number
    return done, stopped


TWO_AGENCIES: Template = scenarios_played(("penalty_waiver",)).then("a district agency with its seal, two cases",
                                                                    _district)


@pytest.fixture
def db_template() -> Template:
    return TWO_AGENCIES


@pytest.fixture
def cases(svc: Services, db_templates: Templates, db_backend: str) -> tuple[str, str, str]:
    """(the home agency's case, the district's finished case, the district's case before its 决定)."""
    home, (done, stopped) = db_templates.results(TWO_AGENCIES, db_backend)[-2:]
    return home.number, done, stopped


def _decision_seal(svc: Services, number: str):  # noqa: ANN202 - an x509 certificate
    with svc.uow.read() as session:
        pdf = session.scalar(select(DocumentRow.pdf).join(CaseRow, CaseRow.id == DocumentRow.case_id)
                             .where(CaseRow.number == number, DocumentRow.kind == "penalty_decision"))
    [seal] = [s for s in embedded_signatures(pdf) if certificate_role(s.certificate) is CertRole.SEAL]
    assert seal.ok, seal.problem
    return seal.certificate


def test_each_agency_seals_its_own_decision_and_verifies_per_agency_and_for_the_platform(svc, cases):
    home, district, _ = cases
    assert certificate_agency_code(_decision_seal(svc, home)) == "cz"
    ours = _decision_seal(svc, district)
    assert certificate_agency_code(ours) == DISTRICT
    assert certificate_organization(ours) == DISTRICT_NAME
    with svc.uow.read() as session:  # a certificate row like the home seal's
        assert session.scalar(select(CertificateRow.role).where(CertificateRow.pem == certificate_pem(ours))) == "seal"
    from engine.usecases.dossier import build_case_dossier

    [dossier_seal] = embedded_signatures(build_case_dossier(svc, district, clock=LATER))  # the case file: its seal
    assert dossier_seal.ok and certificate_agency_code(dossier_seal.certificate) == DISTRICT

    by_district = verify_cases(svc, None, clock=LATER, agency=DISTRICT)
    assert {r.case_number for r in by_district} == {district, cases[2]}
    assert all(r.ok for r in by_district), [str(r.first_failure) for r in by_district]
    assert DISTRICT_NAME in by_district[0].case_check(Check.SEAL).reason
    assert verify_cases(svc, None, clock=LATER, agency=BARE) == []
    platform = verify_cases(svc, None, clock=LATER, agency="cz")  # the home agency and the agencies below it
    assert {r.case_number for r in platform} == {r.case_number for r in verify_cases(svc, None, clock=LATER)}
    assert all(r.ok for r in platform) and home in {r.case_number for r in platform}
    with pytest.raises(NotFound):
        verify_cases(svc, None, clock=LATER, agency="nowhere")


def test_a_bundle_of_each_agency_verifies_offline_with_only_the_platform_root(svc, cases):
    root = certificate_pem(svc.agency_keys.certificates()["root"])
    for number, code, name in ((cases[0], "cz", svc.settings.agency.name), (cases[1], DISTRICT, DISTRICT_NAME)):
        bundle = export_case(svc, number, clock=LATER)
        report = verify_bundle_file(io.BytesIO(bundle), root)
        assert report.ok, report.to_text()
        assert report.case_check(Check.SEAL).reason.startswith(f"sealed by {name} ({code})")
        assert name in report.case_check(Check.MANIFEST).reason  # the agency's seal signed the manifest
        with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
            signer = json.loads(zf.read("manifest.json"))["signer"]["cert_fingerprint"]
            assert f"certs/{signer}.pem" in zf.namelist()
    other_root = make_root_ca("另一平台", now=SEALED_ON, valid_for=dt.timedelta(days=3650)).certificate
    assert not verify_bundle_file(io.BytesIO(export_case(svc, cases[1], clock=LATER)), certificate_pem(other_root)).ok


def _seal_dir(svc: Services) -> Path:
    return svc.agency_keys.directory / "agencies" / DISTRICT


def _decide(svc: Services, number: str) -> None:
    play_step(svc, number, WAIVER.steps[DECISION], MutableClock(B_START + dt.timedelta(days=20)), cast=CAST)


def _counts(svc: Services, number: str) -> tuple[int, int, int]:
    with svc.uow.read() as session:
        case_id = session.scalar(select(CaseRow.id).where(CaseRow.number == number))
        return tuple(session.scalar(select(func.count()).select_from(table).where(table.case_id == case_id))
                     for table in (StepRecordRow, DocumentRow, TaskRow))  # type: ignore[return-value]


def test_a_seal_swapped_for_another_agencys_fails_the_case_naming_it(svc, cases):
    shutil.rmtree(_seal_dir(svc))
    _seal_dir(svc).mkdir()
    for name in ("seal.key.wrapped", "seal.cert.pem"):  # the home agency's seal put in the district's place
        shutil.copy2(svc.agency_keys.directory / name, _seal_dir(svc) / name)
    _decide(svc, cases[2])
    [report] = verify_cases(svc, [cases[2]], clock=LATER)
    failure = report.first_failure
    assert failure is not None and failure.check is Check.SEAL, report.to_text()
    assert f"{svc.settings.agency.name} (cz)" in failure.reason and f"handled by agency {DISTRICT}" in failure.reason


def test_a_forged_seal_fails_the_case_online_and_in_its_bundle(svc, cases):
    forger = make_root_ca(DISTRICT_NAME, now=SEALED_ON, valid_for=dt.timedelta(days=3650))
    key = generate_private_key()
    cert = issue_seal_certificate(forger, seal_name=f"{DISTRICT_NAME}行政执法专用章", public_key=key.public_key(),
                                  now=SEALED_ON, valid_for=dt.timedelta(days=3650), agency_code=DISTRICT)
    shutil.rmtree(_seal_dir(svc))
    _seal_dir(svc).mkdir()
    _write_key(_seal_dir(svc), "seal", key, cert, svc.agency_keys.kek.key())
    svc.agency_keys._cache.clear()
    _decide(svc, cases[2])
    [report] = verify_cases(svc, [cases[2]], clock=LATER)
    assert report.first_failure.check is Check.SEAL, report.to_text()
    assert report.first_failure.reason.startswith("step ")  # named by its step and its 文书
    assert "not certify" in report.first_failure.reason and DISTRICT_NAME in report.first_failure.reason


def test_an_agency_without_a_seal_is_refused_before_anything_is_written(svc, cases):
    shutil.rmtree(_seal_dir(svc))
    svc.agency_keys._cache.clear()
    before = _counts(svc, cases[2])
    with pytest.raises(SealMissing, match=f"casetrail ca seal {DISTRICT}"):
        _decide(svc, cases[2])
    assert _counts(svc, cases[2]) == before
    with svc.uow.read() as session:
        assert session.scalar(select(TaskRow.status).join(CaseRow, CaseRow.id == TaskRow.case_id).where(
            CaseRow.number == cases[2], TaskRow.spec_id == "make_decision")) == TaskStatus.READY
    with pytest.raises(SealMissing):
        seal_for(svc, BARE)


def test_a_second_seal_is_refused_unless_replacing_and_the_replaced_one_is_revoked(svc, cases):
    old = seal_for(svc, DISTRICT).fingerprint
    with pytest.raises(Conflict):
        issue_agency_seal(svc, DISTRICT, DISTRICT_NAME, now=at("2027-01-04 09:00"))
    assert seal_for(svc, DISTRICT).fingerprint == old
    new = issue_agency_seal(svc, DISTRICT, DISTRICT_NAME, now=at("2027-01-04 09:00"), replace=True)
    assert seal_for(svc, DISTRICT).fingerprint == new != old
    with svc.uow.read() as session:
        assert session.scalar(select(CertificateRow.revoked_at).where(CertificateRow.fingerprint == old)) is not None
    # What the old seal sealed before its revocation still verifies; the case's bundle now carries the new one.
    [report] = verify_cases(svc, [cases[1]], clock=LATER)
    assert report.ok, report.to_text()
    root = certificate_pem(svc.agency_keys.certificates()["root"])
    assert verify_bundle_file(io.BytesIO(export_case(svc, cases[1], clock=LATER)), root).ok


def test_backup_and_restore_carry_each_agencys_seal(svc, cases, db_backend, tmp_path):
    from engine.usecases.backup import make_backup
    from tests.integration.test_backup import _empty_database, _restored

    make_backup(svc, tmp_path / "backup", clock=LATER)
    assert (tmp_path / "backup" / "keys" / "agencies" / DISTRICT / "seal.key.wrapped").is_file()
    with _empty_database(db_backend, tmp_path / "restored") as url:
        restored = _restored(svc, tmp_path / "backup", url, tmp_path / "restored")
        try:
            assert seal_for(restored, DISTRICT).fingerprint == seal_for(svc, DISTRICT).fingerprint
            reports = verify_cases(restored, None, clock=LATER, agency=DISTRICT)
            assert len(reports) == 2 and all(r.ok for r in reports), [r.to_text() for r in reports]
        finally:
            restored.engine.dispose()


def test_rotating_the_agency_kek_rewraps_each_agencys_seal_with_the_platform_keys(svc, cases):
    from engine.keystore import FileAgencyKeys
    from signatures.keywrap import AesGcmKek

    before = seal_for(svc, DISTRICT).fingerprint
    secret = os.urandom(32)
    svc.agency_keys.rewrap(AesGcmKek(secret))
    svc.agency_keys.kek.path.write_bytes(secret)  # the operator installs the new KEK in place of the old
    fresh = FileAgencyKeys(svc.agency_keys.directory)
    fresh.check()  # every key, each agency's seal too, opens under the new KEK
    assert fresh.agency_seal_signer(DISTRICT).fingerprint == before
    assert f"seal:{DISTRICT}" in fresh.encrypted()


def test_sealing_agency_of_a_seal_from_before_agencies_is_the_home_agency():
    from engine.agency_seals import sealing_agency

    ca = make_root_ca("呈州市卫生健康委员会", now=SEALED_ON, valid_for=dt.timedelta(days=3650))
    old = issue_seal_certificate(ca, seal_name="呈州市卫生健康委员会行政执法专用章", public_key=generate_private_key().public_key(),
                                 now=SEALED_ON, valid_for=dt.timedelta(days=3650))  # as `init` made it before
    assert certificate_agency_code(old) is None
    assert sealing_agency(old, "cz") == "cz" and sealing_agency(old, None) is None


@pytest.fixture
def casetrail(svc, tmp_path):
    """`casetrail …` in a new process on the test's database and keys."""
    import subprocess
    import sys

    data_dir = tmp_path / "process-data"
    data_dir.mkdir()
    (data_dir / "keys").symlink_to(svc.agency_keys.directory)
    env = {**os.environ, "CASETRAIL_DATABASE_URL": svc.engine.url.render_as_string(hide_password=False),
           "CASETRAIL_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore", **same_blob_store(svc)}
    repo = Path(__file__).resolve().parents[2]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tests.integration.cli_process", "2027-03-01T09:00:00+08:00",
                               "--", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=180)

    return run


def test_the_seal_and_verify_commands(svc, cases, casetrail, tmp_path):
    issued = casetrail("ca", "seal", BARE, "--json")
    assert issued.returncode == 0, issued.stderr
    assert json.loads(issued.stdout)["fingerprint"] == seal_for(svc, BARE).fingerprint
    again = casetrail("ca", "seal", BARE)
    assert again.returncode == 2 and "--replace" in again.stderr
    assert casetrail("ca", "seal", "nowhere").returncode == 2
    assert casetrail("verify", cases[1], "--agency", DISTRICT).returncode == 2  # --agency goes with --all
    verified = casetrail("verify", "--all", "--agency", DISTRICT, "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert sorted(r["case_number"] for r in json.loads(verified.stdout)) == sorted(cases[1:])
    bundle, root = tmp_path / "case.zip", tmp_path / "root.pem"
    assert casetrail("export", cases[1], "--out", str(bundle)).returncode == 0
    root.write_bytes(certificate_pem(svc.agency_keys.certificates()["root"]))
    checked = casetrail("verify-bundle", str(bundle), "--trust", str(root))
    assert checked.returncode == 0, checked.stdout
    assert f"agency seal: sealed by {DISTRICT_NAME} ({DISTRICT})" in checked.stdout
