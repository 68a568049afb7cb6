"""Audit page: an evidence bundle verified offline against an uploaded root; case verification fails closed."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import replace

import pytest

from bench._tus import GeneratedVideo
from engine.demo import play_step
from engine.spiff.clocks import MutableClock
from engine.usecases.evidence import stage_evidence
from engine.usecases.tasks import list_tasks, show_task
from engine.values import StageEvidence
from signatures.bundle import write_bundle
from signatures.pki import certificate_pem
from tests.dbtemplates import Template, starting_point
from tests.unit.signatures.sigcase import DAY, T0, Agency
from tests.web.conftest import penalty_case_until
from tests.web.webcases import START as CASES_START
from tests.web.webcases import index_of, scenario
from tests.web.webhelpers import PIN, csrf_token, login


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
    return starting_point(request, db_template, exported=penalty_case_until("legal_review"),
                          onsite_with_videos=penalty_case_until("onsite_inspection"))


VIDEO_BYTES = 20 * 1024 * 1024 + 4321  # three of them: a bundle of over 60 MiB


@pytest.fixture
def onsite_with_videos(model, svc, template_result, tmp_path):
    """The default penalty case's 现场检查 signed with three 执法记录仪 recordings of 20 MiB each (made on the
    fly, each its own bytes): (the case, their digests)."""
    case = template_result.case
    sc = scenario()
    task = show_task(svc, next(t.id for t in list_tasks(svc, case=case.number) if t.spec_id == "onsite_inspection"))
    actor = task.assignee or task.candidates[0]
    clock = MutableClock(CASES_START + dt.timedelta(hours=index_of(sc, "onsite_inspection") + 1))
    digests = []
    for seed in range(3):
        video = GeneratedVideo(VIDEO_BYTES, seed=seed)
        path = tmp_path / f"执法记录仪{seed}.mp4"
        with path.open("wb") as out:
            while block := video.read(1024 * 1024):
                out.write(block)
        stage_evidence(StageEvidence(case.number, actor, path.name, path, task.id), svc=svc, clock=clock)
        digests.append(video.sha256)
    play_step(svc, case.number, sc.steps[index_of(sc, "onsite_inspection")], clock, pin=PIN)
    return case, digests


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
    assert f'<option value="{played.case.number}" data-case>' in page  # the newest cases offered to pick from


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


def _zip_bomb(path, inflated: int, member: str = "records/0001.json") -> None:
    """A zip of a few hundred kilobytes whose one member inflates to `inflated` bytes (written a megabyte at a
    time, so making it costs no memory either)."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(member, "w") as member_file:
        for _ in range(inflated // len(chunk)):
            member_file.write(chunk)


@pytest.mark.parametrize("member", ["records/0001.json", "evidence/1/0001-a1b2/现场.jpg"])
def test_a_zip_bomb_is_refused_without_inflating_it_in_memory(app, client, evidence, tmp_path, svc, member):
    """What the verifier reads into memory (records, 文书) may claim at most `bundle_in_memory_max_bytes`, a
    carried evidence file at most `bundle_max_file_bytes` (the exporter carries none larger): a bomb claiming
    more is refused from its directory, before anything is inflated."""
    import tracemalloc

    policy = svc.settings.evidence
    limit = policy.bundle_max_bytes if member.startswith("evidence/") else policy.bundle_in_memory_max_bytes
    login(client, "auditor")
    bomb = tmp_path / "bomb.zip"
    _zip_bomb(bomb, limit + 20 * 1024 * 1024, member)
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
    html = response.get_data(as_text=True)
    assert "解压后" in html and str(limit) in html and "核验未通过" in html
    assert peak < 16 * 1024 * 1024  # the 120 MiB it claims were never held in memory


def test_an_upload_past_the_limit_is_refused_while_streamed(app, client, evidence, svc):
    def limit(size: int) -> None:
        svc.settings = replace(svc.settings, evidence=replace(svc.settings.evidence, bundle_upload_max_bytes=size))

    limit(len(evidence[0]) - 1)
    login(client, "auditor")
    response = _upload(client, evidence[0], evidence[1])
    assert response.status_code == 413 and "文件过大" in response.get_data(as_text=True)
    limit(len(evidence[0]))
    taken = _upload(client, evidence[0], evidence[1])
    assert taken.status_code == 200 and "证据包无法使用" not in taken.get_data(as_text=True)


def test_a_bundle_with_evidence_above_the_app_s_form_limit_verifies_on_the_page(onsite_with_videos, client, app, svc):
    """Photos and recordings make a bundle far larger than a form post (the app's limit, 50 MiB): the page takes
    what `bundle_upload_max_bytes` allows, streamed to disk, and verifies it green, every carried file re-hashed."""
    case, digests = onsite_with_videos
    login(client, "auditor")
    exported = client.get(f"/audit/cases/{case.id}/bundle")
    assert exported.status_code == 200
    bundle = exported.get_data()
    assert len(bundle) > app.config["MAX_CONTENT_LENGTH"] + 10 * 1024 * 1024
    with zipfile.ZipFile(io.BytesIO(bundle)) as zf:
        carried = {i.filename: i.file_size for i in zf.infolist() if i.filename.startswith("evidence/")}
    assert sorted(size for name, size in carried.items() if name.endswith(".mp4")) == [VIDEO_BYTES] * len(digests)
    assert [name for name in carried if not name.endswith(".mp4")] == [
        next(name for name in carried if name.endswith("被检查人签名.png"))]  # the party's drawn signature
    response = _upload(client, bundle, certificate_pem(svc.agency_keys.certificates()["root"]))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "核验通过" in html and 'class="card report ok"' in html and "row-failed" not in html


def _verdict(html: str) -> str:
    """The text of the first report's verdict line (its <h2 class="verdict">)."""
    start = html.index('<h2 class="verdict"')
    return re.sub(r"<[^>]+>", "", html[html.index(">", start) + 1:html.index("</h2>", start)]).strip()


def test_the_verdict_comes_first_and_counts_the_valid_steps(exported, client):
    played, _, _ = exported
    login(client, "auditor")
    html = client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit"),
                                               "case": played.case.number}).get_data(as_text=True)
    n = html.count('<tr class="row-passed">') - 1  # one row per step, and one for the case as a whole
    assert n > 5
    assert _verdict(html) == f"✔ 核验通过：{n}/{n} 个环节有效"
    # Before anything else on the page: the forms, the root certificate, the tree head.
    assert html.index('class="verdict"') < html.index("核验单个案件") < html.index("本机关根证书")
    english = client.post("/audit/verify?lang=en", data={"csrf_token": csrf_token(client, "/audit"),
                                                          "case": played.case.number}).get_data(as_text=True)
    assert _verdict(english) == f"✔ Valid: {n}/{n} steps valid"


def test_a_tampered_document_makes_the_verdict_name_the_first_failing_step_and_check(exported, client, svc):
    from sqlalchemy import select, update

    from engine.db.document_tables import DocumentRow

    played, _, _ = exported
    with svc.uow.read() as session:
        doc = session.scalars(select(DocumentRow).where(DocumentRow.case_id == played.case.id)
                              .order_by(DocumentRow.id)).all()[-1]
        pdf, doc_id = bytearray(doc.pdf), doc.id
    pdf[len(pdf) // 2] ^= 0x01
    with svc.uow() as work:
        work.session.execute(update(DocumentRow).where(DocumentRow.id == doc_id).values(pdf=bytes(pdf)))
        work.commit()
    login(client, "auditor")
    form = {"csrf_token": csrf_token(client, "/audit"), "case": played.case.number}
    html = client.post("/audit/verify", data=form).get_data(as_text=True)
    verdict = _verdict(html)
    assert re.fullmatch(r"✖ 核验未通过：第一个未通过的是第 \d+ 步「[^」]+」的执法文书", verdict), verdict
    seq = int(re.search(r"第 (\d+) 步", verdict).group(1))
    total = html.count("row-passed") + html.count("row-failed") - 1
    assert f"{total - 1}/{total} 个环节有效" in html  # every other step still adds up
    assert "altered" in html[html.index("first-failure"):]  # the library's reason, below the verdict
    english = _verdict(client.post("/audit/verify?lang=en", data=form).get_data(as_text=True))
    assert english.startswith(f"✖ Invalid: the first failing step is step {seq}, ")
    assert english.endswith("check: Documents") and "执法文书" not in english


def test_every_check_the_verifier_reports_has_a_name_in_both_languages():
    from signatures.report import Check
    from web.messages import MESSAGES

    for check in Check:
        zh, en = MESSAGES[f"check.{check.value}"]
        assert zh and en and zh != en and not re.search(r"[\u4e00-\u9fff]", en), check


def test_the_root_certificate_is_downloadable_with_the_fingerprint_the_cli_prints(app, client, svc):
    import hashlib

    from click.testing import CliRunner
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from engine.cli import main

    login(client, "auditor")
    page = client.get("/audit").get_data(as_text=True)
    shown = re.search(r'<dd class="mono" id="root-fingerprint">([0-9a-f]{64})</dd>', page).group(1)
    pem = client.get("/audit/root.pem")
    der = client.get("/audit/root.der")
    assert pem.status_code == der.status_code == 200
    assert "agency-root.pem" in pem.headers["Content-Disposition"]
    assert x509.load_pem_x509_certificate(pem.data).public_bytes(Encoding.DER) == der.data
    assert hashlib.sha256(der.data).hexdigest() == shown
    printed = CliRunner().invoke(main, ["ca", "root", "--fingerprint"], obj={"svc": svc}, catch_exceptions=False)
    assert printed.exit_code == 0 and printed.output.strip() == shown
    assert "casetrail ca root --fingerprint" in page
    assert "casetrail verify-bundle case-&lt;N&gt;.zip --trust agency-root.pem" in page  # the README's command
    login(client, "officer1")
    assert client.get("/audit/root.pem").status_code == 403


def test_the_auditor_verifies_the_cases_of_one_agency_and_the_agencies_below_it(exported, client, svc):
    from engine.db.tables import AgencyRow

    played, _, _ = exported
    with svc.uow() as work:
        work.session.add(AgencyRow(code="czdx", name="呈州市东县卫生健康局", short="东卫", parent_code="cz", level="county",
                                   case_number_prefix="东卫投", penalty_number_prefix="东卫罚", created_at=T0))
        work.commit()
    login(client, "auditor")
    page = client.get("/audit").get_data(as_text=True)
    assert '<select id="agency" name="agency">' in page and '<option value="czdx">呈州市东县卫生健康局 (czdx)' in page

    def verify_all(agency: str) -> str:
        return client.post("/audit/verify", data={"csrf_token": csrf_token(client, "/audit"), "scope": "all",
                                                  "agency": agency}).get_data(as_text=True)

    assert 'class="card report' not in verify_all("czdx")  # the district has no case yet: nothing verified
    home = verify_all("cz")  # the home agency's subtree: its case, verified green with its seal
    assert home.count('class="card report ok"') == 1 and "核验通过" in home and "row-failed" not in home
