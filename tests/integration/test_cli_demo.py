"""The demo in its documented orders: `demo` alone on an empty data directory, and a demo refused where it would
mix with signed data. Afterwards `verify --all` exits 0 and every bundle verifies offline. (`init` then
`demo --seed-only` in a plain install: test_cli_plain_install.py.)"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from engine.demo_users import DEMO_PIN
from engine.usecases.cases import show_case
from engine.values import fixed_clock
from tests.conftest import at, link_font_cache
from tests.dbtemplates import open_services
from web.cli import main as casetrail

TODAY = at("2026-11-23 09:00")


def _cli(args: list[str]):
    obj: dict = {"clock": fixed_clock(TODAY)}
    try:
        return CliRunner().invoke(casetrail, args, obj=obj)
    finally:
        if "svc" in obj:
            obj["svc"].engine.dispose()


def assert_everything_verifies(folder: Path) -> None:
    """`verify --all` exits 0 and every case's exported bundle passes `verify-bundle --trust root.pem`."""
    root = folder / "root.pem"
    assert _cli(["ca", "root", "--out", str(root)]).exit_code == 0
    verified = _cli(["verify", "--all"])
    assert verified.exit_code == 0, verified.output[-3000:]
    for case in json.loads(_cli(["case", "list", "--json"]).output):
        bundle = folder / f"case-{case['id']}.zip"
        assert _cli(["export", case["number"], "--out", str(bundle)]).exit_code == 0
        offline = _cli(["verify-bundle", str(bundle), "--trust", str(root)])
        assert offline.exit_code == 0, offline.output[-3000:]


def test_demo_alone_reaches_every_outcome_and_every_case_verifies(monkeypatch, tmp_path, font_cache):
    # The embedded default: SQLite in the data directory.
    monkeypatch.delenv("CASETRAIL_DATABASE_URL", raising=False)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "instance"))
    link_font_cache(tmp_path / "instance", font_cache)
    # Seeded over the default database and key directory at the tests' password and PIN-key costs (a few hundred
    # signed steps; the production costs are the plain install's, test_cli_plain_install.py); every command after
    # it finds the cases through the CLI's own default services.
    svc = open_services(f"sqlite:///{tmp_path / 'instance' / 'casetrail.db'}", tmp_path / "instance" / "keys",
                        upgrade=True)
    try:
        result = CliRunner().invoke(casetrail, ["demo", "--seed-only"], obj={"clock": fixed_clock(TODAY), "svc": svc})
    finally:
        svc.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "re-created" not in result.output  # no keys before it: made at the start of the history
    cases = json.loads(_cli(["case", "list", "--json"]).output)
    outcomes = {c["outcome"] for c in cases}
    assert outcomes == {"open", "not_accepted", "transferred", "not_filed", "summary_penalty", "penalty_published",
                        "no_penalty", "referred_judicial"}
    open_stages = {c["stage"] for c in cases if c["outcome"] == "open"}
    assert len(open_stages) >= 5
    _across_agencies(tmp_path / "instance", cases)
    again = _cli(["demo", "--seed-only"])
    assert again.exit_code == 0 and "not seeded again" in again.output
    assert len(json.loads(_cli(["case", "list", "--json"]).output)) == len(cases)
    assert (tmp_path / "instance" / "casetrail.db").exists()
    # The steps that take evidence took real files: photos with EXIF, a PDF where no photo is taken.
    files = [f for c in cases for f in json.loads(_cli(["evidence", "list", c["number"], "--json"]).output)]
    assert {f["media_type"] for f in files} == {"image/jpeg", "application/pdf"}
    assert all(f["state"] == "attached" and f["seq"] for f in files if f["case_id"] in
               {c["id"] for c in cases if c["outcome"] != "open"})
    assert any(f["exif"] and f["exif"].get("gps") for f in files)
    blobs = tmp_path / "instance" / "blobs"
    assert {f["sha256"] for f in files} <= {p.name for p in blobs.rglob("*") if p.is_file()}
    assert_everything_verifies(tmp_path)


def _snapshot(url: str, keys: Path) -> tuple[dict[str, list], dict[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')))) for t in
                    inspect(conn).get_table_names()}
    finally:
        engine.dispose()
    return rows, {p.relative_to(keys).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                  for p in sorted(keys.rglob("*")) if p.is_file()}  # each agency's seal too: keys/agencies/<code>/


def test_demo_refuses_an_installation_that_has_signed_something_and_writes_nothing(monkeypatch, tmp_path, db_url):
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", db_url)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "data"))
    assert _cli(["init"]).exit_code == 0
    added = _cli(["user", "add", "officer9", "--name", "钱承办", "--role", "officer", "--password", "pw-lantern-2026",
                  "--pin", DEMO_PIN])
    assert added.exit_code == 0, added.output
    before = _snapshot(db_url, tmp_path / "data" / "keys")
    refused = _cli(["demo", "--seed-only"])
    assert refused.exit_code == 2
    [line] = refused.stderr.splitlines()
    assert "the demo needs an installation that has signed nothing" in line and "1 officer certificates" in line
    assert _snapshot(db_url, tmp_path / "data" / "keys") == before


def _across_agencies(instance: Path, cases: list[dict]) -> None:
    """The README's cases across agencies (issue 16): a 和平区 case under 挂牌督办 by the city's supervisor with one
    report made and the next not yet due, and a complaint 和平区 handed over to 西山区 and received there."""
    [supervised] = json.loads(_cli(["supervise", "list", "--user", "supervisor", "--json"]).output)
    assert (supervised["handling_agency_code"], supervised["supervising_agency_code"], supervised["open"],
            supervised["reports"], supervised["overdue"]) == ("cz-hp", "cz", True, 1, False)
    assert supervised["case_number"].startswith("和卫投")
    svc = open_services(f"sqlite:///{instance / 'casetrail.db'}", instance / "keys")
    try:
        opened = {c["number"]: show_case(svc, c["number"]).to_json(detail=True) for c in cases
                  if c["number"].startswith("西卫投")}
    finally:
        svc.engine.dispose()
    arrived = {n: v["events"][0]["detail"]["form_data"].get("transferred_from") for n, v in opened.items()}
    [(received, origin)] = [(n, link) for n, link in arrived.items() if link]
    assert origin["agency"] == "cz-hp"
    assert [t["spec_id"] for t in opened[received]["open_tasks"]] == ["acceptance_review"]
    assert {c["number"]: c["outcome"] for c in cases}[origin["case_number"]] == "transferred"
