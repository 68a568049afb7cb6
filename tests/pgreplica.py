"""A PostgreSQL primary and its streaming replica, started for a test on 127.0.0.1 (issue 17: read replicas).

The shared test server cannot be given a replica (its pg_hba.conf allows no replication connections, and it is
not ours to reconfigure), so this starts a cluster of its own: `initdb`, then `pg_basebackup -R` of it into a
hot standby on another port that streams the primary's WAL — what a deployment's replica does, on one machine.
PostgreSQL will not run as root: as root the servers run as the `postgres` account.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.served import free_port


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found is None:
        return None
    bindir = Path(found).resolve().parent
    return bindir if all((bindir / tool).exists() for tool in ("initdb", "pg_basebackup", "postgres")) else None


def unavailable() -> str | None:
    """Why no pair can be started here (None: it can)."""
    if _bindir() is None:
        return "PostgreSQL's server programs (initdb, pg_ctl, pg_basebackup) are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres account to run the servers as"
    return None


@dataclass
class ReplicatedPair:
    root: Path
    primary_port: int
    replica_port: int

    def url(self, port: int, database: str = "casetrail") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def _run(self, *argv: str) -> None:
        bindir = _bindir()
        assert bindir is not None
        command = [str(bindir / argv[0]), *argv[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=self.root)
        assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-2000:])

    def _ctl(self, data: str, port: int, action: str) -> None:
        options = f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.root / data), "-l", str(self.root / f"{data}.log"), "-o", options,
                  "-w", "-t", "240", *(["-m", "fast"] if action == "stop" else []), action)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.root / "primary"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # initdb's pg_hba.conf trusts replication connections from 127.0.0.1
        with (self.root / "primary" / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 4\nfsync = off\nfull_page_writes = off\n")
        self._ctl("primary", self.primary_port, "start")
        with create_engine(self.url(self.primary_port, "postgres"), isolation_level="AUTOCOMMIT").connect() as c:
            c.execute(text("CREATE DATABASE casetrail"))
        # -R: standby.signal and primary_conninfo, so the copy starts as a hot standby streaming from the primary
        self._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres",
                  "-D", str(self.root / "replica"), "-R", "-X", "stream",
                  "--checkpoint=fast", "--no-sync")  # a spread checkpoint would wait minutes for nothing
        with (self.root / "replica" / "postgresql.conf").open("a") as conf:
            # what docs/deployment.md asks of a replica that serves pages: the primary keeps the rows its queries
            # read, and a query is not cancelled for the WAL it holds back (nor is a paused replay's resume)
            conf.write("hot_standby_feedback = on\nmax_standby_streaming_delay = -1\n")
        self.start_replica()

    def start_replica(self) -> None:
        self._ctl("replica", self.replica_port, "start")

    def stop_replica(self) -> None:
        self._ctl("replica", self.replica_port, "stop")

    def stop(self) -> None:
        for data, port in (("replica", self.replica_port), ("primary", self.primary_port)):
            if (self.root / data / "postmaster.pid").exists():
                self._ctl(data, port, "stop")

    def replica_sql(self, sql: str) -> object:
        engine = create_engine(self.replica_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def caught_up(self, timeout: float = 120) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        engine = create_engine(self.url(self.primary_port, "postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                target = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar()
        finally:
            engine.dispose()
        deadline = time.monotonic() + timeout
        while not self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"):
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.1)

    def pause_replay(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 60
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline, "the replica did not pause"
            time.sleep(0.05)

    def resume_replay(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_resume()")


def replicated_pair(root: Path) -> ReplicatedPair:
    root.mkdir(parents=True, exist_ok=True)
    return ReplicatedPair(root, free_port(), free_port())
