"""Database engines, the unit of work, and migrations.

SQLite (WAL) in the data directory is the embedded default; PostgreSQL for real deployments.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from engine.db.faults import check_database_url, database_faults
from engine.db.queue_tables import EVERYONE, QUEUE_TABLES, SCOPES_OPTION, bump_versions, changed_scopes
from engine.db.repositories import Cases, Tasks, Users
from engine.errors import Conflict

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def data_dir() -> Path:
    return Path(os.environ.get("CASETRAIL_DATA_DIR", "instance")).resolve()


def database_url() -> str:
    """CASETRAIL_DATABASE_URL, else SQLite in the data directory. A variable set but blank is refused later
    (check_database_url): a deployment whose URL went missing must not fall back to a local file silently."""
    url = os.environ.get("CASETRAIL_DATABASE_URL")
    if url is not None:
        return url
    return f"sqlite:///{data_dir() / 'casetrail.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str | None = None, *, connect_timeout: int = 10) -> Engine:
    """An engine for `url` (default: database_url()); an empty or incomplete URL is refused before connecting.
    A PostgreSQL server that does not answer is reported after `connect_timeout` seconds."""
    url = database_url() if url is None else url
    parsed = check_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        with database_faults(parsed, files=True):
            if url.startswith("sqlite:///") and ":memory:" not in url:
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, record: Any) -> None:
            # pysqlite defers BEGIN; we issue it ourselves (see _begin).
            dbapi_connection.isolation_level = None
            _sqlite_pragmas(dbapi_connection, record)

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the lock up front (BEGIN IMMEDIATE) so two of them queue instead of one failing
            # half-way with SQLITE_BUSY_SNAPSHOT; read-only units keep WAL's concurrent readers.
            readonly = conn.get_execution_options().get("casetrail_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A server that does not answer is reported after a while rather than after libpq's wait without end.
        connect_args["connect_timeout"] = connect_timeout
    with database_faults(parsed):
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=connect_args)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _serial_queries)
    return engine


def _serial_queries(dbapi_connection: Any, _record: Any) -> None:
    # Our queries read a few thousand index entries at most. A parallel plan's workers cost more to start
    # than they save, and on a server of a few cores they take the cores other requests are waiting for
    # (measured: the task page's counts 18 ms in parallel, 9 ms serial, docs/performance.md).
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    dbapi_connection.commit()  # a SET inside a transaction that is rolled back would be undone


QUEUE_SCOPES = "casetrail.queue_scopes"  # session.info: the audiences whose task pages this unit changes


def note_queue_change(session: Session, scopes: Iterable[str]) -> None:
    """Mark the task pages of `scopes` changed by this unit (its commit moves their versions): for rows written
    by a table's statement, which neither a flush nor an ORM statement sees."""
    session.info.setdefault(QUEUE_SCOPES, set()).update(scopes)


def _note_queue_change(session: Session, _context: Any, _instances: Any) -> None:
    # Before each flush: afterwards the rows' previous values (who was assigned before) are gone.
    note_queue_change(session, changed_scopes(session))


def _note_statement(state: ORMExecuteState) -> None:
    # UPDATE / DELETE statements bypass the flush: they name their audiences, or concern everyone.
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.local_table.name in QUEUE_TABLES:
        note_queue_change(state.session, state.execution_options.get(SCOPES_OPTION, (EVERYONE,)))


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (the only way tables are made)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database_faults(engine.url), engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


class Work:
    """One business action's transaction: its session, the repositories over it, and `commit()`, which the
    use case calls once, at its end. Leaving the `with` block without it writes nothing."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cases = Cases(session)
        self.tasks = Tasks(session)
        self.users = Users(session)
        self.committed = False

    def commit(self) -> None:
        if self.committed:
            raise RuntimeError("a unit of work commits once")  # a second commit would be a second transaction
        self.session.flush()
        # Last, so the row locks are held only for the commit (engine/db/queue_tables.py).
        bump_versions(self.session, self.session.info.pop(QUEUE_SCOPES, ()))
        self.session.commit()
        self.committed = True


log = logging.getLogger("casetrail.db")

# A replica that failed is not asked again for this long: each page that tolerates lag would otherwise wait for
# its connect timeout first. Then it is tried again, and used as soon as it answers.
REPLICA_RETRY_S = 30.0
# Seconds a replica may take to accept a connection before its pages are read from the primary.
REPLICA_CONNECT_TIMEOUT_S = 2


class UnitOfWork:
    """One business action, one transaction: the use case commits it once at the end (`Work.commit`);
    an exception, or a block left without the commit, rolls everything back.

    With a `replica` (a streaming replica of the database), `read(lagging=True)` reads from it: for pages that
    show what was committed a moment ago as well as now (the indicators, the public page, case lists). Writes,
    and reads that must see the caller's own write, always use the primary. A replica that cannot be reached is
    logged and the read goes to the primary."""

    def __init__(self, engine: Engine, replica: Engine | None = None) -> None:
        self.engine = engine
        self.replica = replica
        self.replica_retry_s = REPLICA_RETRY_S
        self._factory = sessionmaker(engine, expire_on_commit=False)
        event.listen(self._factory, "before_flush", _note_queue_change)
        event.listen(self._factory, "do_orm_execute", _note_statement)
        self._read_factory = sessionmaker(
            engine.execution_options(casetrail_readonly=True), expire_on_commit=False
        )
        self._replica_factory = None if replica is None else sessionmaker(
            replica.execution_options(casetrail_readonly=True), expire_on_commit=False)
        self._replica_failed_at: float | None = None
        self._replica_lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[Work]:
        session = self._factory()
        try:
            with database_faults(self.engine.url):
                try:
                    yield Work(session)
                except OperationalError as exc:
                    session.rollback()
                    if any(word in str(exc).lower() for word in ("locked", "could not serialize", "deadlock detected")):
                        raise Conflict("案件正被他人修改，请刷新后重试 (the case is being changed by someone else)") from exc
                    raise
                except BaseException:
                    session.rollback()
                    raise
                # Not committed (or something ran after the commit): none of it is written.
                session.rollback()
        finally:
            session.close()

    @contextmanager
    def read(self, *, lagging: bool = False) -> Iterator[Session]:
        """A read-only session on the primary; with `lagging`, on the replica when there is one and it answers."""
        session, url = (self._replica_session() if lagging else None), self.engine.url
        if session is None:
            session = self._read_factory()
        else:
            url = self.replica.url  # type: ignore[union-attr]
        try:
            with database_faults(url):
                yield session
        finally:
            # close() ends the transaction without expiring what was loaded, so rows stay readable after.
            session.close()

    def _replica_session(self) -> Session | None:
        failed = self._replica_failed_at
        if self._replica_factory is None or (failed is not None and time.monotonic() < failed + self.replica_retry_s):
            return None
        session = self._replica_factory()
        try:
            session.connection()  # connect now: a replica that is down is found here, not half-way through a page
        except DBAPIError as exc:
            session.close()
            with self._replica_lock:  # one line per failure seen, not one per page (threads race here)
                first = self._replica_failed_at is None or time.monotonic() >= self._replica_failed_at + self.replica_retry_s
                self._replica_failed_at = time.monotonic()
            if first:
                log.warning("read replica unreachable, reading from the primary for %.0f s: %s", self.replica_retry_s,
                            str(exc.orig or exc).strip().splitlines()[0][:300],
                            extra={"replica": self.replica.url.render_as_string(hide_password=True)})  # type: ignore[union-attr]
            return None
        self._replica_failed_at = None
        return session

    def dispose(self) -> None:
        """Close every pooled connection (before a fork: none may cross it)."""
        self.engine.dispose()
        if self.replica is not None:
            self.replica.dispose()
