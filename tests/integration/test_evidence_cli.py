"""`casetrail evidence` across processes: a file added by one `casetrail` process is listed in the signed
record of the step another process completes; a refused file is one line, exit 2, nothing kept."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.blobs import DirectoryStore
from engine.db.evidence_tables import EvidenceFileRow
from engine.demo import SCENARIOS, pick_actor
from engine.demo_files import demo_pdf, demo_photo
from engine.demo_users import DEMO_PIN
from engine.journal import EVIDENCE_KEY
from engine.rules.drawn_images import DATA_URL_PREFIX, reference
from engine.spiff.driving import Context, resolve, sample_form_data
from engine.usecases.audit import verify_cases
from engine.usecases.cases import case_data
from tests.conftest import at
from tests.integration.test_signed_records import LATER, _opened_files, _records, _stop_at

REPO = Path(__file__).resolve().parents[2]
MOMENT = at("2026-09-16 10:00")


@pytest.fixture
def casetrail(ready_svc, tmp_path):
    """Runs `casetrail …` in a new process on the test's database, agency keys and evidence store."""
    data_dir = tmp_path / "process-data"
    data_dir.mkdir()
    (data_dir / "keys").symlink_to(ready_svc.agency_keys.directory)
    ready_svc.blobs = DirectoryStore(data_dir / "blobs")  # the store the processes use (the default)
    env = {**os.environ, "CASETRAIL_DATABASE_URL": ready_svc.engine.url.render_as_string(hide_password=False),
           "CASETRAIL_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
    env.pop("CASETRAIL_BLOB_STORE", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "tests.integration.cli_process", MOMENT.isoformat(), "--", *args],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=180)

    return run


def test_a_file_added_in_one_process_is_signed_into_the_step_another_process_completes(ready_svc, casetrail,
                                                                                       tmp_path):
    case, task = _stop_at(ready_svc, "penalty_waiver", "onsite_inspection")
    step = next(s for s in SCENARIOS["penalty_waiver"].steps if s.spec_id == "onsite_inspection")
    actor = pick_actor(task, step)
    photo = demo_photo(tmp_path / "现场照片.jpg", taken=at("2026-09-16 09:40"), lat=31.2304, lon=121.4737)
    added = casetrail("evidence", "add", case.number, str(photo), "--user", actor, "--task", task.id,
                      "--note", "经营场所内景", "--json")
    assert added.returncode == 0, added.stderr
    [staged] = json.loads(added.stdout)
    assert staged["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest() and staged["state"] == "staged"
    assert staged["exif"]["gps"] == {"lat": 31.2304, "lon": 121.4737}

    ctx = Context(MOMENT, case_data(ready_svc, case.number), ready_svc.settings, ready_svc.calendar)
    form = tmp_path / "form.json"
    # A copy: the scenario's values are shared with every other test of this process.
    data = copy.deepcopy(sample_form_data(task.form_schema, resolve(step.overrides, ctx), now=MOMENT))
    # The party's signature drawn on a tablet, handed to the CLI as a PNG file for its field.
    signature = tmp_path / "被检查人签名.png"
    signature.write_bytes(base64.b64decode(data["party_signature"].pop("image").removeprefix(DATA_URL_PREFIX)))
    form.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    done = casetrail("task", "complete", task.id, "--user", actor, "--data", str(form), "--pin", DEMO_PIN,
                     "--drawn", f"party_signature/image={signature}")
    assert done.returncode == 0, done.stderr

    record = _records(ready_svc, case.id)[-1].record
    drawn = reference(signature.read_bytes())
    assert record.form_data["party_signature"]["image"] == drawn  # by digest, not the picture itself
    assert [(e["sha256"], e["name"], e.get("note")) for e in record.form_data[EVIDENCE_KEY]] == \
        [(staged["sha256"], "现场照片.jpg", "经营场所内景"), (drawn["sha256"], "被检查人签名.png", None)]
    listed = casetrail("evidence", "list", case.number, "--json")  # as an auditor: files in signed records
    assert listed.returncode == 0, listed.stderr
    # The party's signature is a file of the record, but no evidence: not in the case's evidence list.
    assert [(f["sha256"], f["state"], f["seq"], f["purpose"]) for f in json.loads(listed.stdout)] == [
        (staged["sha256"], "attached", record.seq, "evidence")]
    signed = casetrail("evidence", "list", case.number, "--signatures", "--json")
    assert signed.returncode == 0, signed.stderr
    assert [(f["sha256"], f["name"], f["seq"], f["purpose"]) for f in json.loads(signed.stdout)] == [
        (drawn["sha256"], "被检查人签名.png", record.seq, "party_signature")]
    [report] = verify_cases(ready_svc, [case.number], clock=LATER)
    assert report.ok, report.to_text()
    assert ready_svc.blobs.exists(staged["sha256"]) and ready_svc.blobs.exists(drawn["sha256"])


def test_a_refused_file_is_one_line_exit_2_and_nothing_is_kept(ready_svc, casetrail, tmp_path):
    case, task = _stop_at(ready_svc, "penalty_waiver", "onsite_inspection")
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(600))  # a Linux program named like a photo
    run = casetrail("evidence", "add", case.number, str(fake), "--user", task.assignee or task.candidates[0],
                    "--task", task.id)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "不接受" in lines[0] and "Traceback" not in run.stderr
    assert list(ready_svc.blobs.digests()) == []
    outsider = casetrail("evidence", "list", case.number, "--user", "officer3")
    assert outsider.returncode == 2 and "未参与本案" in outsider.stderr
    gc = casetrail("evidence", "gc", "--json")
    assert gc.returncode == 0 and json.loads(gc.stdout) == {"rows": 0, "blobs": 0}


def test_case_open_with_files_signs_them_into_the_registration_and_a_refusal_keeps_none(ready_svc, casetrail,
                                                                                      tmp_path):
    intake = tmp_path / "intake.json"
    intake.write_text(json.dumps(SCENARIOS["penalty_waiver"].intake_data(now=MOMENT), ensure_ascii=False),
                      encoding="utf-8")
    photo = demo_photo(tmp_path / "来信附图.jpg", taken=at("2026-09-15 18:00"), lat=31.2304, lon=121.4737)
    letter = tmp_path / "举报信.pdf"
    letter.write_bytes(demo_pdf(tmp_path / "scan.pdf").read_bytes())
    opened = casetrail("case", "open", "--data", str(intake), "--user", "clerk", "--pin", DEMO_PIN,
                       "--file", str(photo), "--file", str(letter), "--json")
    assert opened.returncode == 0, opened.stderr
    case = json.loads(opened.stdout)
    assert [(e["name"], e["sha256"]) for e in _opened_files(ready_svc, case["id"])] == [
        ("来信附图.jpg", hashlib.sha256(photo.read_bytes()).hexdigest()),
        ("举报信.pdf", hashlib.sha256(letter.read_bytes()).hexdigest())]
    listed = casetrail("evidence", "list", case["number"], "--user", "clerk", "--json")
    assert [(f["name"], f["state"], f["seq"]) for f in json.loads(listed.stdout)] == \
        [("来信附图.jpg", "attached", 1), ("举报信.pdf", "attached", 1)]
    assert json.loads(casetrail("evidence", "list", case["number"], "--json").stdout) == []  # as an auditor
    verified = casetrail("verify", case["number"], "--rehash")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    # A refused registration (wrong PIN) or file (a program) registers nothing and keeps none of the files.
    program = tmp_path / "附件.jpg"
    program.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(600))
    for args in (("--pin", "000000", "--file", str(photo)), ("--pin", DEMO_PIN, "--file", str(letter), "--file",
                                                             str(program))):
        refused = casetrail("case", "open", "--data", str(intake), "--user", "clerk", *args)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    with ready_svc.uow.read() as session:
        rows = list(session.scalars(select(EvidenceFileRow)))
    assert sorted((r.name, r.state) for r in rows) == [("举报信.pdf", "attached"), ("来信附图.jpg", "attached")]
    assert len(json.loads(casetrail("case", "list", "--json").stdout)) == 1
