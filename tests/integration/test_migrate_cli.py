"""`casetrail migrate`: the one step an upgrade runs before it starts the new release's servers (docs/deployment.md).
A database a release behind is named pending by `--check` (exit 1, nothing changed) and brought to this release's
schema by `migrate`; run again, it has nothing to do."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli import main
from engine.db.session import make_engine, migrate
from engine.health import current_heads, expected_heads


def _run(url: str, *args: str):
    return CliRunner().invoke(main, ["migrate", *args, "--json"], env={"CASETRAIL_DATABASE_URL": url})


def test_migrate_brings_a_database_a_release_behind_to_this_releases_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate(engine, "0013")  # the schema of the release before people, drafts and notifications
    engine.dispose()
    wanted = sorted(expected_heads())

    checked = _run(url, "--check")
    assert checked.exit_code == 1, checked.output
    assert json.loads(checked.output) == {"before": ["0013"], "after": ["0013"], "wanted": wanted, "pending": True}
    engine = make_engine(url)
    assert current_heads(engine) == {"0013"}  # --check changes nothing
    engine.dispose()

    done = _run(url)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"before": ["0013"], "after": wanted, "wanted": wanted, "pending": False}
    again = _run(url, "--check")
    assert again.exit_code == 0 and json.loads(again.output)["pending"] is False


def test_migrate_refuses_an_unreachable_database_in_one_line():
    refused = CliRunner().invoke(main, ["migrate"], env={
        "CASETRAIL_DATABASE_URL": "postgresql+psycopg://casetrail:secret-pw@127.0.0.1:1/nowhere"})
    assert refused.exit_code == 2 and "secret-pw" not in refused.output and "Traceback" not in refused.output
