"""The audit CLI: ca root, user revoke/rekey, log head/prove, verify, export, verify-bundle and their exit codes."""

from __future__ import annotations

import json
import zipfile

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from engine.demo_users import DEMO_PIN
from engine.startup import build_services
from engine.usecases.users import SERVER_OPERATOR, account_history
from tests.conftest import at
from tests.integration.test_cli import _open
from tests.integration.test_cli import cli as cli  # noqa: F401  (the fixture)


def test_verify_export_and_offline_bundle_round_trip(cli, tmp_path):
    opened = _open(cli, tmp_path)
    root = tmp_path / "root.pem"
    assert cli("ca", "root", "--out", str(root)).exit_code == 0
    assert root.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    head = cli("log", "head", "--json")
    assert head.exit_code == 0 and json.loads(head.output)["tree_head"]["size"] == 1
    result = cli("verify", opened["number"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["ok"] is True
    assert cli("verify", "--all").exit_code == 0
    bundle = tmp_path / "case.zip"
    assert cli("export", opened["number"], "--out", str(bundle)).exit_code == 0
    # The auditor has no database: the command must not need one.
    offline = CliRunner().invoke(_main(), ["verify-bundle", str(bundle), "--trust", str(root), "--json"],
                                 env={"CASETRAIL_DATABASE_URL": "sqlite:////nonexistent/dir/x.db"})
    assert offline.exit_code == 0, offline.output
    altered = tmp_path / "altered.zip"
    altered.write_bytes(bundle.read_bytes().replace(b"treehead.json", b"treehead.jsoN"))
    assert CliRunner().invoke(_main(), ["verify-bundle", str(altered), "--trust", str(root)]).exit_code == 1
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip")
    assert CliRunner().invoke(_main(), ["verify-bundle", str(garbage), "--trust", str(root)]).exit_code == 2


def test_tampered_record_makes_verify_exit_1_naming_the_step(cli, tmp_path, db_url):
    opened = _open(cli, tmp_path)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE step_records SET canonical = :c WHERE seq = 1"),
                     {"c": conn.execute(text("SELECT canonical FROM step_records WHERE seq = 1")).scalar()
                      .replace(b"hotline", b"hotlinf", 1)})
    engine.dispose()
    result = cli("verify", opened["number"], "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)[0]
    assert report["first_failure"]["seq"] == 1
    assert cli("verify", "呈卫投〔2026〕9999号").exit_code == 2


def test_revoke_then_rekey_through_the_cli(cli, tmp_path, db_url):
    assert cli("user", "revoke", "clerk", "--reason", "密钥遗失").exit_code == 0
    path = tmp_path / "complaint.json"
    from engine.spiff.driving import intake_data

    path.write_text(json.dumps(intake_data(now=at("2026-11-02 09:00")), ensure_ascii=False), encoding="utf-8")
    refused = cli("case", "open", "--data", str(path), "--user", "clerk", "--pin", DEMO_PIN)
    assert refused.exit_code == 2 and "revoked" in refused.output
    assert cli("user", "rekey", "clerk", "--pin", "fresh-pin-1").exit_code == 0
    wrong = cli("case", "open", "--data", str(path), "--user", "clerk", "--pin", DEMO_PIN)
    assert wrong.exit_code == 2 and "wrong signing PIN" in wrong.output
    assert cli("case", "open", "--data", str(path), "--user", "clerk", "--pin", "fresh-pin-1").exit_code == 0
    assert json.loads(cli("case", "list", "--json").output)[0]["number"].endswith("0001号")
    svc = build_services(db_url, upgrade=False, keys_dir=tmp_path / "data" / "keys")
    try:
        with_reason, without = account_history(svc, "clerk")[::-1]  # oldest first
    finally:
        svc.engine.dispose()
    assert (with_reason.kind, with_reason.actor, with_reason.reason) == ("key_revoked", SERVER_OPERATOR, "密钥遗失")
    assert (without.kind, without.actor, without.reason) == ("key_reissued", SERVER_OPERATOR, "")


def test_log_prove_from_an_older_head(cli, tmp_path):
    _open(cli, tmp_path)
    assert cli("log", "head").exit_code == 0
    _open(cli, tmp_path)
    result = cli("log", "prove", "--from", "1", "--json")
    assert result.exit_code == 0, result.output
    proof = json.loads(result.output)
    assert proof["old"]["tree_head"]["size"] == 1 and proof["new"]["tree_head"]["size"] == 2


def _main():
    from engine.cli import main

    return main


def test_export_for_the_auditor_seals_the_complainant_and_disclose_needs_an_entitled_user(cli, tmp_path):
    from signatures.__main__ import main as library_main

    opened = _open(cli, tmp_path)
    root = tmp_path / "root.pem"
    assert cli("ca", "root", "--out", str(root)).exit_code == 0
    bundle = tmp_path / "case.zip"
    assert cli("export", opened["number"], "--out", str(bundle)).exit_code == 0
    with zipfile.ZipFile(bundle) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    for secret in ("张三".encode(), b"13800000000", "呈州市和平路1号".encode()):  # intake_data's complainant
        assert not [name for name, data in members.items() if secret in data]
    assert library_main(["verify", str(bundle), "--trust", str(root)]) == 0  # python -m signatures verify
    refused = cli("export", opened["number"], "--out", str(tmp_path / "x.zip"), "--disclose", "--by", "auditor")
    assert refused.exit_code == 2 and "identity" in refused.output
    assert cli("export", opened["number"], "--out", str(tmp_path / "x.zip"), "--disclose").exit_code == 2
    disclosing = tmp_path / "disclosed.zip"
    assert cli("export", opened["number"], "--out", str(disclosing), "--disclose", "--by", "clerk").exit_code == 0
    with zipfile.ZipFile(disclosing) as zf:
        assert "张三".encode() in zf.read("disclosures/0001.json")
    offline = CliRunner().invoke(_main(), ["verify-bundle", str(disclosing), "--trust", str(root)])
    assert offline.exit_code == 0, offline.output
