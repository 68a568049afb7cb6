"""A live upgrade (issue 17): a database the previous release populated is migrated by today's `casetrail migrate`
while that release's servers would still be running, and both releases go on reading and writing it.

The previous release is its own code: the commit the session started from (`PREVIOUS`, schema 0013) is taken
from git into a directory and run in a separate process with PYTHONPATH pointing there, so it seeds its demo
cases with its own engine and reads the migrated database with its own models. Today's code then verifies every
case and carries one on; the previous release completes a step after the migration, and today's verifies it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.cli import main as casetrail_admin
from engine.db.session import make_engine
from engine.demo import play_step
from engine.demo_users import DEMO_PIN
from engine.health import current_heads, expected_heads
from engine.spiff.clocks import MutableClock
from engine.spiff.scenarios import SCENARIOS
from engine.values import fixed_clock
from tests.cached import cached_directory, key_of
from tests.conftest import at, link_font_cache
from tests.dbtemplates import open_services
from web.cli import main as casetrail

REPO = Path(__file__).resolve().parents[2]
PREVIOUS = "4964cbc"  # the previous release: lead and main before people, drafts and notifications (0014–0016)
PREVIOUS_HEAD = "0013"
SEEDED_AT = "2026-11-23 09:00"
# The previous release's `casetrail ARGS` at the tests' key costs, on its own Services, in its own process.
RUN_PREVIOUS = """
import sys
from pathlib import Path
from click.testing import CliRunner
from engine.values import fixed_clock
from tests.conftest import at
from tests.dbtemplates import open_services
from web.cli import main
url, keys, when, upgrade, *args = sys.argv[1:]
svc = open_services(url, Path(keys), upgrade=upgrade == "upgrade")
try:
    result = CliRunner().invoke(main, args, obj={"clock": fixed_clock(at(when)), "svc": svc})
finally:
    svc.engine.dispose()
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
if result.exception is not None and not isinstance(result.exception, SystemExit):
    import traceback
    traceback.print_exception(result.exception)
sys.exit(result.exit_code)
"""


def _previous_release(into: Path) -> Path:
    """The previous release's files, as git holds them (no worktree: nothing is left in the repository)."""
    archived = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", PREVIOUS], capture_output=True,
                              timeout=120)
    if archived.returncode != 0:
        pytest.skip(f"the previous release ({PREVIOUS}) is not in this checkout: {archived.stderr.decode()[-300:]}")
    with tarfile.open(fileobj=io.BytesIO(archived.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def _seeded_by_previous(font_cache: Path) -> Path:
    """The previous release's files (source/) and the data directory its `demo --seed-only` wrote at SEEDED_AT
    (instance/: database, keys, evidence), with what the command printed (seeded.txt). The release is a fixed
    commit, so this is built once per machine (tests/cached.py) and copied per run."""
    def seed(into: Path) -> None:
        source = _previous_release(into / "source")
        data_dir = into / "instance"
        link_font_cache(data_dir, font_cache)
        previous = Previous(source, f"sqlite:///{data_dir / 'casetrail.db'}", data_dir)
        (into / "seeded.txt").write_text(previous(SEEDED_AT, "demo", "--seed-only", upgrade=True), encoding="utf-8")
        shutil.rmtree(data_dir / "cache")  # the session's font cache, linked

    return cached_directory(f"live-upgrade-{key_of(PREVIOUS, SEEDED_AT)}", seed)


class Previous:
    """Runs commands of the previous release against one database, data directory and key directory."""

    def __init__(self, source: Path, url: str, data_dir: Path) -> None:
        self.source, self.url, self.data_dir = source, url, data_dir

    def __call__(self, when: str, *args: str, upgrade: bool = False) -> str:
        env = {**os.environ, "PYTHONPATH": str(self.source), "CASETRAIL_DATA_DIR": str(self.data_dir)}
        env.pop("CASETRAIL_DATABASE_URL", None)
        done = subprocess.run([sys.executable, "-c", RUN_PREVIOUS, self.url, str(self.data_dir / "keys"), when,
                               "upgrade" if upgrade else "no", *args], cwd=self.source, env=env, capture_output=True,
                              text=True, timeout=1200)
        assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout


def _today(url: str, data_dir: Path, when: str, *args: str) -> str:
    svc = open_services(url, data_dir / "keys")
    try:
        result = CliRunner().invoke(casetrail, list(args), obj={"clock": fixed_clock(at(when)), "svc": svc})
    finally:
        svc.engine.dispose()
    assert result.exit_code == 0, result.output[-3000:]
    return result.stdout  # the warnings (a year without its holiday schedule) go to stderr


def test_previous_release_database_upgrades_live_and_both_releases_go_on(tmp_path, font_cache, monkeypatch):
    seeded = _seeded_by_previous(font_cache)
    data_dir = tmp_path / "instance"
    shutil.copytree(seeded / "instance", data_dir)
    link_font_cache(data_dir, font_cache)
    monkeypatch.setenv("CASETRAIL_DATA_DIR", str(data_dir))
    url = f"sqlite:///{data_dir / 'casetrail.db'}"
    previous = Previous(seeded / "source", url, data_dir)

    # The previous release seeded its demo at its own schema.
    assert "seeded" in (seeded / "seeded.txt").read_text(encoding="utf-8")
    engine = make_engine(url)
    assert current_heads(engine) == {PREVIOUS_HEAD}
    engine.dispose()
    before = json.loads(previous("2026-11-23 09:05", "case", "list", "--json"))

    # Today's migrate, with the previous release's servers still up: additive only, so they need not stop.
    migrated = CliRunner().invoke(casetrail_admin, ["migrate", "--json"], env={"CASETRAIL_DATABASE_URL": url})
    assert migrated.exit_code == 0, migrated.output
    assert json.loads(migrated.output)["after"] == sorted(expected_heads())

    # Today's code reads what the previous release wrote: the same cases, every one verifies.
    now = json.loads(_today(url, data_dir, "2026-11-23 09:10", "case", "list", "--json"))
    assert {(c["number"], c["outcome"], c["stage"]) for c in now} == \
        {(c["number"], c["outcome"], c["stage"]) for c in before}
    _today(url, data_dir, "2026-11-23 09:10", "verify", "--all")

    # The previous release still reads the migrated database and writes a signed step into it …
    assert {c["number"] for c in json.loads(previous("2026-11-23 09:15", "case", "list", "--json"))} == \
        {c["number"] for c in before}
    tasks = json.loads(previous("2026-11-23 09:15", "task", "list", "--user", "head", "--json"))
    waiver = SCENARIOS["penalty_waiver"]
    first = waiver.steps[0]
    [task] = [t for t in tasks if t["spec_id"] == first.spec_id][:1]
    form = tmp_path / "form.json"
    form.write_text(json.dumps({**first.overrides, "acceptance_opinion": "同意受理，转公共场所科办理",
                                "case_summary": "美容店无证经营"}, ensure_ascii=False), encoding="utf-8")
    previous("2026-11-23 09:20", "task", "claim", task["id"], "--user", "head")
    previous("2026-11-23 09:20", "task", "complete", task["id"], "--user", "head", "--data", str(form),
             "--pin", DEMO_PIN)

    # … which today's code verifies and carries on from: the next step of that case, signed by today's code.
    svc = open_services(url, data_dir / "keys")
    try:
        play_step(svc, task["case_number"], waiver.steps[1], MutableClock(at("2026-11-23 10:30")), pin=DEMO_PIN)
    finally:
        svc.engine.dispose()
    shown = json.loads(_today(url, data_dir, "2026-11-23 10:40", "case", "show", task["case_number"], "--json"))
    signed = [e["spec_id"] for e in shown["events"] if e["seq"] is not None]
    assert signed[-2:] == [first.spec_id, waiver.steps[1].spec_id]
    _today(url, data_dir, "2026-11-23 10:45", "verify", "--all")
    # and the previous release reads the step today's code wrote
    assert task["case_number"] in previous("2026-11-23 10:50", "case", "show", task["case_number"])
