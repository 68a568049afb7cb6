"""The database as portable rows: a consistent snapshot read table by table, and rows written back (issue 17).

Why a logical dump through SQLAlchemy and not the SQLite backup API or `pg_dump`: one format for both backends,
so a backup taken on the embedded SQLite can be restored into PostgreSQL when an agency grows (and back, for a
test copy); it needs no server tool of the right major version on the machine that runs `casetrail backup`; and
each value goes through the column's own type (UTC datetimes, JSON, bytes), so what is restored reads back the
same in either dialect. The price — slower than a page copy for a large database — is paid once a night; the
point-in-time recovery of PostgreSQL (docs/operations.md) covers the minutes in between.

Consistency: every table is read in one read-only transaction. On PostgreSQL it is SERIALIZABLE READ ONLY
DEFERRABLE: it waits for a snapshot no concurrent serializable transaction can invalidate, then never blocks
writers nor is cancelled. On SQLite (WAL) a read transaction sees the database as of its first read while writers
go on; the checkpointer does not overwrite pages a reader still needs.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    Numeric,
    Table,
    column,
    exists,
    insert,
    inspect,
    select,
    table,
    text,
)
from sqlalchemy.types import Boolean, String, TypeDecorator, TypeEngine

from engine.db.evidence_tables import EvidenceFileRow
from engine.db.faults import database_faults
from engine.db.schema import METADATA
from engine.db.session import MIGRATIONS_DIR
from engine.db.tables import CertificateRow
from engine.errors import BackupRefused, ConfigurationError
from signatures.pki import CertRole

__all__ = ["ColumnSpec", "TableSpec", "agency_fingerprints", "blob_digests", "dump_rows", "head_revision",
           "known_revision", "load_rows", "refuse_unless_empty", "reset_counters", "snapshot", "table_specs",
           "target_revision"]

# Tables a migration fills when it makes them (0002: the log's one state row, size 0): a freshly migrated
# database holds these rows and is still empty; a restore replaces them with the backup's.
SEEDED_BY_MIGRATIONS = frozenset({"log_state", "agencies"})  # agencies: the home agency (0017)
AGENCY_ROLES = (CertRole.CA, CertRole.SEAL, CertRole.LOG)  # the agency's own certificates (engine/journal.py)
_BATCH = 500  # rows per INSERT round trip, and per fetch from a server-side cursor


ColumnSpec = tuple[str, str]  # (column name, how its values are written: plain, bytes, datetime, date, json, decimal)
TableSpec = tuple[str, list[ColumnSpec]]


def _kind(type_: TypeEngine[Any]) -> str:
    """How a column's values are written in JSON. A type not named here is refused: a new column type must say
    how it is written before a backup can lose it."""
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if isinstance(base, JSON):
        return "json"
    if isinstance(base, LargeBinary):
        return "bytes"
    if isinstance(base, DateTime):
        return "datetime"
    if isinstance(base, Date):
        return "date"
    if isinstance(base, Numeric) and not isinstance(base, Integer):
        return "decimal" if base.asdecimal else "plain"
    if isinstance(base, Integer | String | Boolean):
        return "plain"
    raise ConfigurationError(f"备份不支持的列类型 (the backup cannot write columns of type {type_!r})")


def table_specs() -> list[TableSpec]:
    """Every table of this release with its columns, parents before children (foreign keys)."""
    return [(t.name, [(c.name, _kind(c.type)) for c in t.columns]) for t in METADATA.sorted_tables]


def encode(kind: str, value: Any) -> Any:
    if value is None or kind in ("plain", "json"):
        return value
    if kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if kind in ("datetime", "date"):
        return value.isoformat()
    return str(value)  # decimal


def decode(kind: str, value: Any) -> Any:
    if value is None or kind in ("plain", "json"):
        return value
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return Decimal(value)


def head_revision() -> str:
    """The newest migration of this release."""
    head = _scripts().get_current_head()
    assert head is not None, "no migrations"
    return head


def known_revision(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _scripts() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg)


def target_revision(conn: Connection) -> str | None:
    """The migration the database is at (None: never migrated)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection on one consistent snapshot of the whole database (the module's docstring says how)."""
    with database_faults(engine.url), engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="SERIALIZABLE", postgresql_readonly=True,
                                          postgresql_deferrable=True)
        elif engine.dialect.name == "sqlite":
            conn = conn.execution_options(casetrail_readonly=True)  # a deferred BEGIN (engine/db/session.py)
        else:
            raise ConfigurationError(f"不支持备份此数据库 (no backup for {engine.dialect.name} databases)")
        with conn.begin():
            revision = target_revision(conn)  # the snapshot starts with this first read
            if revision != head_revision():
                raise ConfigurationError(f"数据库未迁移到最新版本 (the database is at migration {revision}, this "
                                         f"release at {head_revision()}: start casetrail once to migrate it)")
            unknown = set(inspect(conn).get_table_names()) - set(METADATA.tables) - {"alembic_version"}
            if unknown:
                raise BackupRefused(f"数据库含本版本不认识的表 (the database holds tables this release does not "
                                         f"know, which a backup would leave out): {', '.join(sorted(unknown))}")
            yield conn


def dump_rows(conn: Connection, spec: TableSpec) -> Iterator[list[Any]]:
    """The table's rows in primary-key order, each a list of JSON values in the spec's column order."""
    name, columns = spec
    source = METADATA.tables[name]
    order = list(source.primary_key.columns) or list(source.columns)
    query = select(*(source.c[c] for c, _ in columns)).order_by(*order)
    result = conn.execution_options(yield_per=_BATCH).execute(query)
    for row in result:
        yield [encode(kind, value) for (_, kind), value in zip(columns, row, strict=True)]


def blob_digests(conn: Connection) -> list[str]:
    """The SHA-256 of every stored file an evidence row of the snapshot names."""
    return list(conn.scalars(select(EvidenceFileRow.sha256).distinct().order_by(EvidenceFileRow.sha256)))


def agency_fingerprints(conn: Connection) -> set[str]:
    """The certificates of the agency's root, seal and log keys that the snapshot holds (empty until the first
    officer's key is issued): the key files backed up beside the rows must be these."""
    return set(conn.scalars(select(CertificateRow.fingerprint).where(
        CertificateRow.user_id.is_(None), CertificateRow.role.in_([r.value for r in AGENCY_ROLES]))))


def refuse_unless_empty(engine: Engine) -> str | None:
    """The migration an empty target is at (None: never migrated); BackupRefused if it holds any row a restore
    would clash with (the rows migrations make do not count). Reads only."""
    with database_faults(engine.url), engine.connect() as conn:
        revision = target_revision(conn)
        present = set(inspect(conn).get_table_names())
        holding = [t.name for t in METADATA.sorted_tables
                   if t.name in present and t.name not in SEEDED_BY_MIGRATIONS
                   and conn.execute(select(exists().select_from(t))).scalar()]
    if holding:
        raise BackupRefused(f"目标数据库不是空的，未写入任何内容 (the target database is not empty — rows in "
                            f"{', '.join(holding[:5])}{'…' if len(holding) > 5 else ''}; nothing was written): "
                            "restore only into a new, empty database")
    return revision


def load_rows(conn: Connection, spec: TableSpec, rows: Iterable[list[Any]]) -> int:
    """Insert a table's backed-up rows (in the caller's transaction); the number inserted.

    The statement names only the backup's columns, typed as this release types them, and carries no Python-side
    defaults: a backup of an older migration, restored at that migration, inserts exactly what it holds. A JSON
    None is written as SQL NULL — the backup cannot tell it from a JSON null, and no query asks which it is."""
    name, columns = spec
    known = METADATA.tables.get(name)
    missing = [c for c, _ in columns if known is None or c not in known.c]
    if missing:
        raise BackupRefused(f"备份含本版本不认识的表或列 (the backup holds {name}.{', '.join(missing)}, which "
                                 "this release does not know): restore it with the release that made it")
    assert known is not None
    typed = [column(c, JSON(none_as_null=True) if kind == "json" else known.c[c].type) for c, kind in columns]
    statement = insert(table(name, *typed))
    if name in SEEDED_BY_MIGRATIONS:
        conn.execute(known.delete())  # the migration's row; the backup's takes its place
    rows = _parents_first(known, [c for c, _ in columns], rows)
    count, batch = 0, []
    for row in rows:
        batch.append({c: decode(kind, value) for (c, kind), value in zip(columns, row, strict=True)})
        if len(batch) == _BATCH:
            conn.execute(statement, batch)
            count, batch = count + len(batch), []
    if batch:
        conn.execute(statement, batch)
        count += len(batch)
    return count


def _parents_first(source: Table, names: list[str], rows: Iterable[list[Any]]) -> Iterable[list[Any]]:
    """A table whose rows point at rows of itself (agencies.parent_code): its rows ordered so that each comes
    after the row it points at, whatever order the backup holds them in (a parent's code may sort after its
    child's), so every insert finds its parent. Other tables' rows pass as they are, streamed."""
    links = [(fk.column.name, fk.parent.name) for fk in source.foreign_keys if fk.column.table is source]
    if len(links) != 1 or not set(links[0]) <= set(names):
        return rows
    at_key, at_parent = names.index(links[0][0]), names.index(links[0][1])
    pending = list(rows)
    placed: set[Any] = set()
    ordered: list[list[Any]] = []
    while pending:
        ready = [r for r in pending if r[at_parent] is None or r[at_parent] in placed
                 or r[at_parent] == r[at_key]]
        if not ready:  # a loop or a missing parent: the database's constraint names it
            ready = pending
        ordered.extend(ready)
        placed.update(r[at_key] for r in ready)
        ready_ids = {id(r) for r in ready}
        pending = [r for r in pending if id(r) not in ready_ids]
    return ordered


def reset_counters(conn: Connection) -> None:
    """PostgreSQL: move each table's id sequence past the restored ids (rows inserted with their ids leave it at
    its start, and the next insert would clash). SQLite takes the next id from the rows themselves."""
    if conn.dialect.name != "postgresql":
        return
    for source in METADATA.sorted_tables:
        key = _serial_key(source)
        if key is not None:
            conn.execute(text(f'SELECT setval(pg_get_serial_sequence(:table, :column), '
                              f'COALESCE((SELECT MAX("{key}") FROM "{source.name}"), 0) + 1, false)'),
                         {"table": f'"{source.name}"', "column": key})


def _serial_key(source: Table) -> str | None:
    keys = list(source.primary_key.columns)
    if len(keys) == 1 and isinstance(keys[0].type, Integer) and keys[0].autoincrement in (True, "auto"):
        return keys[0].name
    return None

