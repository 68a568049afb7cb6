"""Audit page: an evidence bundle verified offline against an uploaded root; case verification fails closed."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from signatures.bundle import write_bundle
from signatures.pki import certificate_pem
from tests.dbtemplates import Template, starting_point
from tests.unit.signatures.sigcase import DAY, T0, Agency
from tests.web.conftest import penalty_case_until
from tests.web.webhelpers import csrf_token, login


@pytest.fixture(scope="module")
def evidence() -> tuple[bytes, bytes]:
    agency = Agency()
    case = agency.build_case()
    head = agency.head()
    bundle = write_bundle(records=case.records, trust_root=agency.ca.certificate, certificates=agency.certificates(),
                          crls=[agency.crl()], tree_head=head, inclusion_proofs=agency.proofs(case, head),
                          documents=case.documents, definition_files={"m.bpmn": b"<definitions/>"},
                          manifest_signer=agency.log_signer, created_at=T0 + 20 * DAY)
    return bundle, certificate_pem(agency.ca.certificate)


def _tampered(bundle: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    name = sorted(n for n in files if n.startswith("records/"))[1]
    files[name] = files[name].replace(b'"', b"'", 1) if b'"' in files[name] else files[name] + b" "
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for file_name, data in files.items():
            zf.writestr(file_name, data)
    return out.getvalue()


def _upload(client, bundle: bytes | None, root: bytes | None):
    data = {"csrf_token": csrf_token(client, "/audit")}
    if bundle is not None:
        data["bundle"] = (io.BytesIO(bundle), "case.zip")
    if root is not None:
        data["trust"] = (io.BytesIO(root), "root.pem")
    return client.post("/audit/bundle", data=data, content_type="multipart/form-data")


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, exported=penalty_case_until("legal_review"))


@pytest.fixture
def exported(model, svc, template_result):
    """A case played through the engine (every step signed), exported by the auditor's download link."""
    played = template_result
    client = model.test_client()
    login(client, "auditor")
    response = client.get(f"/audit/cases/{played.case.id}/bundle")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    return played, response.data, certificate_pem(svc.agency_keys.certificates()["root"])


def test_an_exported_bundle_verifies_green(exported, client):
    _, bundle, root = exported
    login(client, "auditor")
    response = _upload(client, bundle, root)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "核验通过" in html and 'class="card report ok"' in html
    assert "row-failed" not in html


def test_the_auditors_download_holds_no_complainant_identity_in_any_member(exported):
    _, bundle, _ = exported
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    # intake_data (engine/spiff/driving.py): the complainant's name, phone and address
    for secret in ("张三".encode(), b"13800000000", "呈州市和平路1号".encode()):
        assert not [name for name, data in members.items() if secret in data]
    assert json.loads(members["manifest.json"])["withheld"]  # the 投诉举报登记表, left out on purpose


def test_an_altered_bundle_is_red_and_names_the_first_failure(exported, client):
    _, bundle, root = exported
    login(client, "auditor")
    html = _upload(client, _tampered(bundle), root).get_data(as_text=True)
    assert "核验未通过" in html
    assert "第一个失败" in html
    assert "row-failed" in html


def test_a_bundle_checked_against_another_root_is_red(exported, client, evidence):
    _, bundle, _ = exported
    login(client, "auditor")
    html = _upload(client, bundle, evidence[1]).get_data(as_text=True)
    assert "核验未通过" in html


def test_the_auditor_verifies_one_case_and_all_cases_from_the_database(exported, client):
    played, _, _ = exported
    login(client, "auditor")
    one = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit"), "case": str(played.case.id)})
    assert one.status_code == 200
    assert "核验通过" in one.get_data(as_text=True)
    by_number = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit"),
                                                   "case": played.case.number})  # typed, not picked
    assert "核验通过" in by_number.get_data(as_text=True)
    every = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit"), "scope": "all"})
    assert played.case.number in every.get_data(as_text=True)
    page = client.get("/audit").get_data(as_text=True)
    assert "root_hash" in page  # the current signed tree head
    assert f'<option value="{played.case.number}">' in page  # the newest cases offered to pick from


def test_a_bundle_without_a_trust_root_is_refused(app, client, evidence):
    login(client, "auditor")
    response = _upload(client, evidence[0], None)
    assert response.status_code == 422
    assert "未提供根证书" in response.get_data(as_text=True)


def test_garbage_is_an_unusable_bundle(app, client, evidence):
    login(client, "auditor")
    response = _upload(client, b"not a zip", evidence[1])
    assert response.status_code == 422
    assert "证据包无法使用" in response.get_data(as_text=True)


def _zip_bomb(path, inflated: int) -> None:
    """A zip of a few hundred kilobytes whose one member inflates to `inflated` bytes (written a megabyte at a
    time, so making it costs no memory either)."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("records/0001.json", "w") as member:
        for _ in range(inflated // len(chunk)):
            member.write(chunk)


def test_a_zip_bomb_is_refused_without_inflating_it_in_memory(app, client, evidence, tmp_path):
    import tracemalloc

    from web.audit import MAX_INFLATED

    login(client, "auditor")
    bomb = tmp_path / "bomb.zip"
    _zip_bomb(bomb, MAX_INFLATED + 20 * 1024 * 1024)
    assert bomb.stat().st_size < 1024 * 1024
    token = csrf_token(client, "/audit")
    tracemalloc.start()
    try:
        with bomb.open("rb") as upload:
            response = client.post("/audit/bundle", content_type="multipart/form-data", data={
                "csrf_token": token, "bundle": (upload, "case.zip"), "trust": (io.BytesIO(evidence[1]), "root.pem")})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert "文件过大" in response.get_data(as_text=True)
    assert peak < 16 * 1024 * 1024  # the 120 MiB it claims were never held in memory


def test_an_upload_past_the_limit_is_refused_while_streamed(app, client, evidence, monkeypatch):
    import web.audit

    monkeypatch.setattr(web.audit, "MAX_BUNDLE", len(evidence[0]) - 1)
    login(client, "auditor")
    response = _upload(client, evidence[0], evidence[1])
    assert response.status_code == 413
    monkeypatch.setattr(web.audit, "MAX_BUNDLE", len(evidence[0]))
    assert "证据包无法使用" not in _upload(client, evidence[0], evidence[1]).get_data(as_text=True)
