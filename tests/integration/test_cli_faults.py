"""Database faults through every CLI command: exit 2, one line naming the cause, no traceback, no password,
nothing written — and `verify` says "unusable" (2), never "invalid" (1). The web answers 503."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from engine.demo_files import demo_photo
from engine.demo_users import DEMO_PIN
from engine.spiff.driving import intake_data
from engine.values import fixed_clock
from tests.conftest import POSTGRES_URL, at
from tests.integration.cli_surface import casetrail_commands, command_of
from web.cli import main

SECRET = "s3cret-pw-42"  # in every faulty URL: it must never be printed
CASETRAIL = Path(sys.executable).with_name("casetrail")
CLOCK = fixed_clock(at("2026-11-02 09:00"))


def invoke(args: list[str], env: dict[str, str]) -> Result:
    """The command in this process; CASETRAIL_DATABASE_URL is unset unless `env` gives it."""
    obj: dict = {"clock": CLOCK}
    try:
        return CliRunner().invoke(main, args, env={"CASETRAIL_DATABASE_URL": None, **env}, obj=obj)
    finally:
        if "svc" in obj:
            obj["svc"].engine.dispose()  # no connection kept open across a fault set up by the next test


def every_command(files: dict[str, str]) -> list[list[str]]:
    """One invocation of each command (but `serve`, run in a process of its own: it would block here)."""
    task, case = files["task"], files["case"]
    return [
        ["init"],
        ["user", "add", "newcomer", "--name", "新人", "--role", "officer", "--password", "pw-lantern-2026", "--pin", DEMO_PIN],
        ["user", "list"],
        ["user", "rekey", "officer2", "--pin", "654321"],
        ["user", "revoke", "officer2", "--reason", "密钥遗失"],
        ["user", "pin-state", "officer1"],
        ["user", "unblock-pin", "officer1", "--by", "head", "--reason", "本人确认"],
        ["user", "rewrap-keys", "--new-kek-file", files["kek"]],
        ["user", "end-sessions", "officer1", "--by", "admin", "--reason", "电脑遗失"],
        ["user", "set-password", "officer1", "--password", "lantern-quay-2027"],
        ["user", "set-cert", "officer1", "--cert-no", "呈卫执 2026-0001", "--cert-valid-until", "2031-06-30"],
        ["user", "eligible", "--role", "officer"],
        ["agency", "add", "cz-bh", "--name", "北湖区卫生健康局", "--short", "北卫", "--parent", "cz", "--level", "county",
         "--case-prefix", "北卫投", "--penalty-prefix", "北卫罚", "--user", "admin"],
        ["agency", "list"],
        ["agency", "show", "cz"],
        ["agency", "edit", "cz-bh", "--court", "北湖区人民法院", "--user", "admin"],
        ["agency", "set", "cz-bh", "--setting", "legal_review.all_general_procedure=false", "--user", "admin"],
        ["agency", "areas", "cz-bh", "--set", "北湖区", "--user", "admin"],
        ["user", "set-agency", "officer1", "--agency", "cz-bh"],
        ["agency", "deactivate", "cz-bh", "--reason", "区划调整", "--user", "admin"],
        ["case", "open", "--data", files["complaint"], "--user", "clerk", "--pin", DEMO_PIN],
        ["case", "list", "--json"],
        ["case", "show", case],
        ["task", "list", "--user", "head"],
        ["task", "show", task, "--json"],
        ["task", "claim", task, "--user", "head"],
        ["task", "unclaim", task, "--user", "head"],
        ["task", "assign", task, "--to", "head", "--by", "head", "--pin", DEMO_PIN],
        ["task", "complete", task, "--user", "head", "--data", files["form"], "--pin", DEMO_PIN],
        ["timers", "run"],
        ["worker", "--once"],
        ["notifications", "list", "--user", "head", "--json"],
        ["notifications", "send"],
        ["notifications", "prune"],
        ["ca", "root", "--out", files["out"] + ".pem"],
        ["ca", "seal", "cz", "--replace"],
        ["indicators", "--format", "json"],
        ["indicators", "rebuild", "--json"],
        ["supervise", "flag", case, "--user", "supervisor", "--instructions", "依法查处", "--due", "2099-12-31",
         "--pin", DEMO_PIN],
        ["supervise", "list", "--user", "supervisor"],
        ["log", "head", "--json"],
        ["log", "prove", "--from", "1"],
        ["verify", case],
        ["verify", "--all"],
        ["export", case, "--out", files["out"] + ".zip"],
        ["dossier", case, "--out", files["out"] + ".pdf"],
        ["repair", "--dry-run"],
        ["evidence", "add", case, files["photo"], "--user", "officer1", "--task", task, "--note", "门口"],
        ["evidence", "list", case, "--json"],
        ["evidence", "gc"],
        ["calendar", "coverage"],
        ["calendar", "schedule", "2027", "--reference", "测试 TEST", "--off", "2027-01-01", "--user", "admin"],
        ["demo", "--seed-only"],
        ["keys", "status"],
        ["keys", "encrypt"],
        ["keys", "rewrap", "--new-kek-file", files["kek"]],
        ["backup", "--out", files["out"] + "-backup"],
        ["restore", files["out"] + "-backup"],  # the target database is reached before the backup is read
        ["migrate"],
    ]


def _write_inputs(folder: Path, task: str = "00000000-0000-0000-0000-000000000000", case: str = "1") -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    complaint, form = folder / "complaint.json", folder / "form.json"
    complaint.write_text(json.dumps(intake_data(now=at("2026-11-02 09:00")), ensure_ascii=False), encoding="utf-8")
    form.write_text(json.dumps(ACCEPT, ensure_ascii=False), encoding="utf-8")
    (folder / "new-kek.bin").write_bytes(bytes(range(32)))
    photo = demo_photo(folder / "photo.jpg", taken=at("2026-11-02 09:00"), lat=31.2, lon=121.4)
    return {"photo": str(photo), "complaint": str(complaint), "form": str(form), "task": task, "case": case, "out": str(folder / "out"),
            "kek": str(folder / "new-kek.bin")}


ACCEPT = {"acceptance_decision": "accept", "acceptance_opinion": "同意受理", "case_summary": "美容店无证经营",
          "unit": "公共场所卫生监督科", "case_officers": ["officer1", "officer2"]}


def assert_clean_failure(result: Result, args: list[str], *causes: str) -> str:
    """Exit 2, exactly one line on stderr naming one of `causes`, no traceback, the password nowhere."""
    shown = f"{args}: exit {result.exit_code}\n{result.output}"
    assert result.exit_code == 2, shown
    assert isinstance(result.exception, SystemExit), shown  # not an exception that escaped the command
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    assert any(cause in lines[0] for cause in causes), shown
    assert "Traceback" not in result.output and SECRET not in result.output, shown
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_server() -> tuple[str, int]:
    assert POSTGRES_URL
    parts = urlsplit(POSTGRES_URL.replace("postgresql+psycopg", "http", 1))
    return parts.hostname or "127.0.0.1", parts.port or 5432


# (fault, URL, causes the one line may name); the PostgreSQL server's answers need a server.
UNREACHABLE = ("unreachable", lambda: f"postgresql+psycopg://casetrail:{SECRET}@127.0.0.1:{_closed_port()}/casetrail",
               ("cannot reach the database server",))
BAD_URLS = [
    ("empty", lambda: "", ("database URL is empty",)),
    ("no host, no database", lambda: "postgresql+psycopg://", ("incomplete database URL",)),
    ("no database", lambda: f"postgresql+psycopg://casetrail:{SECRET}@127.0.0.1", ("incomplete database URL",)),
    ("unknown driver", lambda: f"postgres+nosuchdriver://casetrail:{SECRET}@127.0.0.1/casetrail",
     ("unknown database kind",)),
    ("not a URL", lambda: f"casetrail:{SECRET}@127.0.0.1", ("not a database URL",)),
]
SERVER_ANSWERS = [
    ("unknown database", lambda: f"postgresql+psycopg://postgres:{SECRET}@{_postgres_server()[0]}:{_postgres_server()[1]}/no_such_casetrail_db", ("no such database",)),
    ("login refused", lambda: f"postgresql+psycopg://no_such_role:{SECRET}@{_postgres_server()[0]}:{_postgres_server()[1]}/postgres", ("refused the login",)),
]
FAULTS = [pytest.param(*UNREACHABLE, id="unreachable")] + [pytest.param(*f, id=f[0]) for f in BAD_URLS] + [
    pytest.param(*f, id=f[0], marks=pytest.mark.skipif(not POSTGRES_URL, reason="needs CASETRAIL_TEST_POSTGRES_URL"))
    for f in SERVER_ANSWERS]


def test_the_fault_matrix_covers_every_command(tmp_path):
    covered = {command_of(args) for args in every_command(_write_inputs(tmp_path))} | {("serve",), ("demo",)}
    # verify-bundle reads no database, nor does the upload receiver (its faults, the app unreachable and the disk
    # not writable: tests/web/test_receiver.py)
    assert covered == casetrail_commands() - {("verify-bundle",), ("receiver",)}


@pytest.mark.parametrize("fault, make_url, causes", FAULTS)
def test_every_command_refuses_a_database_it_cannot_use_in_one_line(fault, make_url, causes, tmp_path):
    url = make_url()
    data_dir = tmp_path / "data"
    env = {"CASETRAIL_DATABASE_URL": url, "CASETRAIL_DATA_DIR": str(data_dir)}
    for args in every_command(_write_inputs(tmp_path / "inputs")):
        line = assert_clean_failure(invoke(args, env), args, *causes)
        assert line.startswith("error: ")
    assert not data_dir.exists()  # nothing written: not even the agency keys


def _run_serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "CASETRAIL_DATABASE_URL"}
    return subprocess.run([str(CASETRAIL), "serve", "--port", str(_closed_port())], env={**environ, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("fault, make_url, causes", [pytest.param(*UNREACHABLE, id="unreachable"),
                                                     pytest.param(*BAD_URLS[1], id="incomplete")])
def test_serve_does_not_come_up_on_a_database_it_cannot_use(fault, make_url, causes, tmp_path):
    data_dir = tmp_path / "data"
    done = _run_serve({"CASETRAIL_DATABASE_URL": make_url(), "CASETRAIL_DATA_DIR": str(data_dir)})
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and any(c in done.stderr for c in causes), done.stderr
    assert SECRET not in done.stdout + done.stderr and not data_dir.exists()


# --- a SQLite installation whose data directory cannot be written -------------------------------------
@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> dict[str, str]:
    """A data directory with users, one case and an open task, made by the commands themselves."""
    folder = tmp_path_factory.mktemp("installation")
    env = {"CASETRAIL_DATA_DIR": str(folder / "data")}
    files = _write_inputs(folder / "inputs")
    assert invoke(["init"], env).exit_code == 0
    for user_id, role in (("clerk", "intake"), ("head", "head"), ("officer1", "officer"), ("officer2", "officer")):
        added = invoke(["user", "add", user_id, "--name", user_id, "--role", role, "--password", "pw-lantern-2026",
                        "--pin", DEMO_PIN], env)
        assert added.exit_code == 0, added.output
    opened = invoke(["case", "open", "--data", files["complaint"], "--user", "clerk", "--pin", DEMO_PIN, "--json"], env)
    assert opened.exit_code == 0, opened.output
    [task] = json.loads(invoke(["task", "list", "--user", "head", "--json"], env).output)
    return {**files, "task": task["id"], "case": json.loads(opened.output)["number"], "data": env["CASETRAIL_DATA_DIR"]}


def _fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(folder.rglob("*"))}


@pytest.fixture
def read_only(installation) -> Iterator[Path]:
    """The data directory and its database made unwritable — for root too: `chattr +i` (immutable)."""
    data = Path(installation["data"])
    targets = [data, data / "casetrail.db", data / "keys"]
    if os.geteuid() != 0:
        for target in targets:
            target.chmod(0o555 if target.is_dir() else 0o444)
        undo = [lambda t=t: t.chmod(0o755 if t.is_dir() else 0o644) for t in targets]
    else:
        made = subprocess.run(["chattr", "+i", *map(str, targets)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a directory read-only for root here: {made.stderr.strip()}")
        undo = [lambda: subprocess.run(["chattr", "-i", *map(str, targets)], check=True)]
    try:
        yield data
    finally:
        for step in undo:
            step()


def test_every_command_on_a_read_only_data_directory_fails_in_one_line_and_writes_nothing(installation, read_only):
    before = _fingerprint(read_only)
    env = {"CASETRAIL_DATA_DIR": str(read_only)}
    for args in every_command(installation):
        assert_clean_failure(invoke(args, env), args, "cannot open the database file", "cannot be written")
    done = _run_serve(env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert _fingerprint(read_only) == before


def test_a_read_only_database_file_still_reads_but_refuses_every_write(installation, tmp_path):
    data = Path(installation["data"])
    env = {"CASETRAIL_DATA_DIR": str(data)}
    assert invoke(["log", "head"], env).exit_code == 0  # the tree head is signed now, not by verify below
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(data / "casetrail.db")], check=True)
    else:
        (data / "casetrail.db").chmod(0o444)
    try:
        before = hashlib.sha256((data / "casetrail.db").read_bytes()).hexdigest()
        for args in (["case", "list"], ["verify", installation["case"]], ["task", "show", installation["task"]]):
            assert invoke(args, env).exit_code == 0, args
        for args in (["task", "claim", installation["task"], "--user", "head"],
                     ["case", "open", "--data", installation["complaint"], "--user", "clerk", "--pin", DEMO_PIN],
                     ["user", "add", "newcomer", "--name", "新人", "--role", "officer", "--password", "pw-lantern-2026"]):
            assert_clean_failure(invoke(args, env), args, "cannot be written")
        assert hashlib.sha256((data / "casetrail.db").read_bytes()).hexdigest() == before
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(data / "casetrail.db")], check=True)
        else:
            (data / "casetrail.db").chmod(0o644)


def test_a_database_locked_by_another_process_is_named(installation):
    import sqlite3

    data = Path(installation["data"])
    holder = sqlite3.connect(data / "casetrail.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # as a backup tool or a stuck writer would
    try:
        result = invoke(["case", "list"], {"CASETRAIL_DATA_DIR": str(data)})  # waits out the 10 s busy timeout
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_clean_failure(result, ["case", "list"], "locked")


@pytest.mark.skipif(not POSTGRES_URL, reason="needs CASETRAIL_TEST_POSTGRES_URL")
def test_a_read_only_postgresql_refuses_writes_in_one_line_and_verify_still_reads(db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    files = _write_inputs(tmp_path / "inputs")
    env = {"CASETRAIL_DATABASE_URL": db_url, "CASETRAIL_DATA_DIR": str(tmp_path / "data")}
    assert invoke(["init"], env).exit_code == 0
    assert invoke(["user", "add", "clerk", "--name", "clerk", "--role", "intake", "--password", "pw-lantern-2026",
                   "--pin", DEMO_PIN], env).exit_code == 0
    # A hot standby, or a role whose transactions are read-only: every write is refused by the server.
    replica = {**env, "CASETRAIL_DATABASE_URL": db_url + "%20-cdefault_transaction_read_only%3Don"}
    args = ["case", "open", "--data", files["complaint"], "--user", "clerk", "--pin", DEMO_PIN]
    assert_clean_failure(invoke(args, replica), args, "cannot be written")
    assert json.loads(invoke(["case", "list", "--json"], replica).output) == []
    assert invoke(["user", "list"], replica).exit_code == 0


# --- the web ----------------------------------------------------------------------------------------
def test_the_web_answers_503_with_a_clear_page_when_the_database_is_unreachable(tmp_path):
    from engine.startup import build_services
    from web.app import create_app

    url = f"postgresql+psycopg://casetrail:{SECRET}@127.0.0.1:{_closed_port()}/casetrail"
    svc = build_services(url, upgrade=False, keys_dir=tmp_path / "keys")  # the server went away after start
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False}, services=svc)
    client = app.test_client()
    page = client.get("/public")
    body = page.get_data(as_text=True)
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert "数据库暂时无法访问" in body and "Traceback" not in body
    assert SECRET not in body and "127.0.0.1" not in body  # the cause is for the operator's log
    login = client.post("/login", data={"user_id": "clerk", "password": "pw-lantern-2026"})
    assert login.status_code == 503
    with client.session_transaction() as session:
        session["sid"] = "a-session-id"  # looked up in the database on every request
    api = client.get("/api/me")
    assert api.status_code == 503 and api.get_json()["status"] == 503
