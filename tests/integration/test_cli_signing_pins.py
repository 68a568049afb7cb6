"""The signing PIN's retry counter across real `casetrail` processes, and `casetrail user unblock-pin`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.cli import main
from engine.demo_users import DEMO_PIN
from engine.spiff.driving import intake_data
from engine.usecases.signing_pins import signing_pin
from engine.values import fixed_clock
from tests.conftest import at

REPO = Path(__file__).resolve().parents[2]
NOW = at("2026-09-20 10:00")
TRIES_LEFT = re.compile(r"(\d+) (?:try|tries) left")


@pytest.fixture
def data_dir(ready_svc, tmp_path) -> Path:
    """A data directory whose keys (agency keys and the officers' KEK) are the test database's."""
    directory = tmp_path / "process-data"
    directory.mkdir()
    (directory / "keys").symlink_to(ready_svc.agency_keys.directory)
    return directory


@pytest.fixture
def complaint(tmp_path) -> str:
    path = tmp_path / "complaint.json"
    path.write_text(json.dumps(intake_data(now=NOW), ensure_ascii=False), encoding="utf-8")
    return str(path)


def _start(ready_svc, data_dir: Path, *args: str) -> subprocess.Popen[str]:
    """`casetrail …` in a new process (as the console script runs it) on the test's database and keys."""
    env = {**os.environ, "CASETRAIL_DATABASE_URL": ready_svc.engine.url.render_as_string(hide_password=False),
           "CASETRAIL_DATA_DIR": str(data_dir), "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen([sys.executable, "-m", "tests.integration.cli_process", NOW.isoformat(), "--", *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _both(ready_svc, data_dir: Path, *args: str) -> list[tuple[int, str]]:
    """The same command in two processes at once: (exit status, stderr) of each."""
    running = [_start(ready_svc, data_dir, *args) for _ in range(2)]
    results = []
    for process in running:
        _, err = process.communicate(timeout=180)
        results.append((process.returncode, err))
    return results


def test_wrong_pins_in_two_processes_at_once_are_all_counted_and_block_the_key(ready_svc, data_dir, complaint):
    wrong = ("case", "open", "--data", complaint, "--user", "clerk", "--pin", "000000")
    left: list[int] = []
    for _ in range(2):
        for status, err in _both(ready_svc, data_dir, *wrong):
            assert status == 2 and len(err.strip().splitlines()) == 1, err
            left.extend(int(n) for n in TRIES_LEFT.findall(err))
    assert sorted(left) == [1, 2, 3, 4]  # each process saw the other's tries: one count for both
    for status, err in _both(ready_svc, data_dir, *wrong):
        assert status == 2 and "blocked" in err and "被锁定" in err, err
    right = _start(ready_svc, data_dir, "case", "open", "--data", complaint, "--user", "clerk", "--pin", DEMO_PIN)
    _, err = right.communicate(timeout=180)
    assert right.returncode == 2 and "blocked" in err and "unblock-pin clerk" in err
    state = signing_pin(ready_svc, "clerk")
    assert state.blocked and state.failures >= 5
    with ready_svc.uow.read() as session:
        assert session.execute(text("SELECT count(*) FROM cases")).scalar() == 0


@pytest.fixture
def cli(ready_svc, data_dir, monkeypatch):
    monkeypatch.setenv("CASETRAIL_DATABASE_URL", ready_svc.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(data_dir))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False, obj={"clock": fixed_clock(NOW)})

    return run


def test_unblock_pin_exit_codes(ready_svc, cli, complaint):
    refused = cli("user", "unblock-pin", "officer1", "--by", "head", "--reason", "核实")
    assert refused.exit_code == 2 and "not blocked" in refused.output
    for _ in range(5):
        wrong = cli("case", "open", "--data", complaint, "--user", "clerk", "--pin", "000000")
        assert wrong.exit_code == 2
    state = cli("user", "pin-state", "clerk", "--json")
    assert state.exit_code == 0 and json.loads(state.output)["blocked"] is True
    no_reason = cli("user", "unblock-pin", "clerk", "--by", "head")
    assert no_reason.exit_code == 2 and "reason" in no_reason.output
    by_officer = cli("user", "unblock-pin", "clerk", "--by", "officer1", "--reason", "帮同事")
    assert by_officer.exit_code == 2 and "only a head or an administrator" in by_officer.output
    unknown = cli("user", "unblock-pin", "nobody", "--reason", "核实")
    assert unknown.exit_code == 2 and "no such user" in unknown.output
    assert signing_pin(ready_svc, "clerk").blocked
    done = cli("user", "unblock-pin", "clerk", "--by", "head", "--reason", "本人确认", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["by"] == "head" and json.loads(done.output)["failures"] == 5
    assert cli("case", "open", "--data", complaint, "--user", "clerk", "--pin", DEMO_PIN).exit_code == 0
    text = cli("user", "pin-state", "clerk")
    assert text.exit_code == 0 and "0 wrong PINs in a row, 5 tries left" in text.output
