"""The README's command-line sequences run verbatim, one bash line at a time; afterwards `verify --all` exits 0 and
every case's bundle verifies offline. (`demo` alone and the refused demo: test_cli_demo.py.)"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from engine.spiff.driving import intake_data
from engine.values import system_clock
from tests.conftest import link_font_cache

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


def test_the_readme_command_line_sequences_run_verbatim_and_everything_verifies(tmp_path, db_url, font_cache):
    lines = readme_command_lines()
    assert lines[0].startswith("export CASETRAIL_DATA_DIR=./instance") and any("verify-bundle" in line for line in lines)
    link_font_cache(tmp_path / "instance", font_cache)  # the subset font, already built (documents/fonts.py)
    (tmp_path / "complaint.json").write_text(json.dumps(intake_data(now=system_clock()), ensure_ascii=False),
                                             encoding="utf-8")
    shell = Shell(tmp_path, _environment(tmp_path, db_url))
    outputs = {line: shell.run(line) for line in lines}
    assert "officer2" in outputs[next(line for line in lines if "task assign" in line)].stdout
    assert (tmp_path / "dossier.pdf").read_bytes().startswith(b"%PDF")
    assert "consistent" in outputs[next(line for line in lines if "log prove --known" in line)].stdout
    # Afterwards: the whole database verifies, and so does every case's bundle, offline, against agency-root.pem.
    assert shell.run("casetrail verify --all").returncode == 0
    cases = json.loads(shell.run("casetrail case list --json").stdout)
    assert len(cases) == 1
    for case in cases:
        shell.run(f"casetrail export {shlex.quote(case['number'])} --out every.zip")
        offline = subprocess.run([str(BIN / "casetrail"), "verify-bundle", "every.zip", "--trust", "agency-root.pem"],
                                 cwd=tmp_path, env={"PATH": os.environ["PATH"]}, capture_output=True, text=True)
        assert offline.returncode == 0, offline.stdout + offline.stderr


