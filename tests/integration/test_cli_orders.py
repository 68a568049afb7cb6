"""The documented commands in the documented orders: the README's sequences verbatim, `demo` alone, and a demo
refused where it would mix with signed data. Afterwards `verify --all` exits 0 and every bundle verifies offline."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, text

from engine.demo_users import DEMO_PIN
from engine.spiff.driving import intake_data
from engine.values import fixed_clock, system_clock
from tests.conftest import at
from web.cli import main as casetrail

README = Path(__file__).resolve().parents[2] / "README.md"
BIN = Path(sys.executable).parent  # where this environment's `casetrail` console script is
TASK_ID = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s", re.M)
# The forms the README's `--data form.json` may stand for, by the task it completes.
FORMS = {"acceptance_review": {"acceptance_decision": "accept", "acceptance_opinion": "同意受理，转公共场所科办理",
                               "case_summary": "美容店无证经营", "unit": "公共场所卫生监督科",
                               "case_officers": ["officer1", "officer2"]}}


def readme_command_lines() -> list[str]:
    """Every line of the ```sh blocks in the README's "Using it from the command line" section, in order."""
    section = README.read_text(encoding="utf-8").split("## Using it from the command line", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


class Shell:
    """Runs README lines through bash one at a time, as a reader pasting them would, keeping `export`s."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env = cwd, env
        self.tasks: list[str] = []
        self.case: str | None = None
        self.task_spec: str | None = None
        self.ran: list[str] = []

    def substitute(self, line: str) -> str:
        if re.search(r"\bTASK\b", line):
            assert self.tasks, f"no task listed before: {line}"
            line = re.sub(r"\bTASK\b", self.tasks[0], line)
        if re.search(r"\bCASE\b", line):
            assert self.case, f"no case listed before: {line}"
            line = re.sub(r"\bCASE\b", shlex.quote(self.case), line)
        if "form.json" in line:
            assert self.task_spec in FORMS, f"no form for task {self.task_spec}"
            (self.cwd / "form.json").write_text(json.dumps(FORMS[self.task_spec], ensure_ascii=False), encoding="utf-8")
        return line

    def run(self, line: str) -> subprocess.CompletedProcess:
        exported = re.match(r"export (\w+)=(\S+)", line)
        if exported:
            self.env[exported[1]] = exported[2]
            return subprocess.CompletedProcess(line, 0, "", "")
        command = self.substitute(line)
        done = subprocess.run(["bash", "-c", command], cwd=self.cwd, env=self.env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        self.ran.append(command)
        if re.search(r"casetrail task list\b", command):
            self.tasks = TASK_ID.findall(done.stdout)
        if "casetrail case list --json" in command:
            self.case = json.loads(done.stdout)[0]["number"]
        if re.search(r"casetrail task show \S+ --json", command):
            self.task_spec = json.loads(done.stdout)["spec_id"]
        return done


def _environment(tmp_path: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRAIL_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    if db_url.startswith("postgresql"):
        env["CASETRAIL_DATABASE_URL"] = db_url  # the README's "or CASETRAIL_DATABASE_URL=…"
    return env


def test_the_readme_command_line_sequences_run_verbatim_and_everything_verifies(tmp_path, db_url):
    lines = readme_command_lines()
    assert lines[0].startswith("export CASETRAIL_DATA_DIR=") and any("verify-bundle" in line for line in lines)
    (tmp_path / "complaint.json").write_text(json.dumps(intake_data(now=system_clock()), ensure_ascii=False),
                                             encoding="utf-8")
    shell = Shell(tmp_path, _environment(tmp_path, db_url))
    outputs = {line: shell.run(line) for line in lines}
    assert "officer2" in outputs[next(line for line in lines if "task assign" in line)].stdout
    assert (tmp_path / "dossier.pdf").read_bytes().startswith(b"%PDF")
    assert "consistent" in outputs[next(line for line in lines if "log prove --known" in line)].stdout
    # Afterwards: the whole database verifies, and so does every case's bundle, offline, against root.pem.
    assert shell.run("casetrail verify --all").returncode == 0
    cases = json.loads(shell.run("casetrail case list --json").stdout)
    assert len(cases) == 1
    for case in cases:
        shell.run(f"casetrail export {shlex.quote(case['number'])} --out every.zip")
        offline = subprocess.run([str(BIN / "casetrail"), "verify-bundle", "every.zip", "--trust", "root.pem"],
                                 cwd=tmp_path, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
        assert offline.returncode == 0, offline.stdout + offline.stderr


# --- the demo ---------------------------------------------------------------------------------------
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


def test_demo_alone_reaches_every_outcome_and_every_case_verifies(monkeypatch, tmp_path):
    # The embedded default: SQLite in the data directory.
    monkeypatch.delenv("CASETRAIL_DATABASE_URL", raising=False)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "instance"))
    result = _cli(["demo", "--seed-only"])
    assert result.exit_code == 0, result.output
    assert "re-created" not in result.output  # no keys before it: made at the start of the history
    cases = json.loads(_cli(["case", "list", "--json"]).output)
    outcomes = {c["outcome"] for c in cases}
    assert outcomes == {"open", "not_accepted", "transferred", "not_filed", "summary_penalty", "penalty_published",
                        "no_penalty", "referred_judicial"}
    open_stages = {c["stage"] for c in cases if c["outcome"] == "open"}
    assert len(open_stages) >= 5
    again = _cli(["demo", "--seed-only"])
    assert again.exit_code == 0 and "not seeded again" in again.output
    assert len(json.loads(_cli(["case", "list", "--json"]).output)) == len(cases)
    assert (tmp_path / "instance" / "casetrail.db").exists()
    assert_everything_verifies(tmp_path)


def _snapshot(url: str, keys: Path) -> tuple[dict[str, list], dict[str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')))) for t in
                    inspect(conn).get_table_names()}
    finally:
        engine.dispose()
    return rows, {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(keys.iterdir())}


def test_demo_refuses_an_installation_that_has_signed_something_and_writes_nothing(monkeypatch, tmp_path, db_url):
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", db_url)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(tmp_path / "data"))
    assert _cli(["init"]).exit_code == 0
    added = _cli(["user", "add", "officer9", "--name", "钱承办", "--role", "officer", "--password", "pw-123456789",
                  "--pin", DEMO_PIN])
    assert added.exit_code == 0, added.output
    before = _snapshot(db_url, tmp_path / "data" / "keys")
    refused = _cli(["demo", "--seed-only"])
    assert refused.exit_code == 2
    [line] = refused.stderr.splitlines()
    assert "the demo needs an installation that has signed nothing" in line and "1 officer certificates" in line
    assert _snapshot(db_url, tmp_path / "data" / "keys") == before
