"""Database faults as one-line errors: the one place that says why the database could not be used.

A command whose database is unreachable, refuses the login, does not exist, cannot be written or is
locked must stop with exit 2 and one line naming the cause (the CLI), or answer 503 (the web) — never a
driver traceback, never a verdict: `verify` that could not read the data says "unusable", not "invalid".
Messages show the URL with its password masked, and never the driver's full text (it may quote the URL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from engine.errors import CasetrailError, ConfigurationError, DatabaseUnavailable

__all__ = ["check_database_url", "database_error", "database_faults", "mask_url"]

# (pattern in the driver's message, 中文, English): the first that matches names the cause.
_CAUSES: tuple[tuple[str, str, str], ...] = (
    (r"password authentication failed|role \"[^\"]*\" does not exist|no password supplied|"
     r"authentication failed|pg_hba\.conf", "数据库拒绝登录", "the database refused the login"),
    (r"database \"[^\"]*\" does not exist", "数据库不存在", "no such database"),
    (r"connection refused|could not connect|failed to resolve host|could not translate host name|"
     r"name or service not known|timeout expired|timed out|no route to host|network is unreachable|"
     r"server closed the connection|connection is closed|terminating connection|the database system is",
     "无法连接数据库服务器", "cannot reach the database server"),
    (r"database is locked|database table is locked", "数据库被其他进程锁定", "the database is locked by another process"),
    (r"readonly database|read-only|permission denied|insufficient privilege|must be owner",
     "数据库只读或无写入权限", "the database cannot be written"),
    (r"unable to open database file|disk i/o error|no such file or directory|not a directory",
     "无法打开数据库文件", "cannot open the database file"),
    (r"disk is full|no space left|database or disk is full|could not extend file",
     "数据库磁盘已满", "the database disk is full"),
    (r"file is not a database|database disk image is malformed", "数据库文件已损坏或不是数据库",
     "the file is not a usable database"),
)


def mask_url(url: str | URL | None) -> str:
    """The URL as it may be shown: any password replaced by ***."""
    if url is None:
        return ""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Not parseable, so there is no telling which part is a password: only what precedes the first colon.
        return f"{url.split(':', 1)[0]}:…" if ":" in url else "…"


def _password(url: str | URL | None) -> str | None:
    try:
        parsed = url if isinstance(url, URL) else make_url(url or "")
    except (ArgumentError, ValueError):
        return None
    return parsed.password or None


def check_database_url(url: str) -> URL:
    """Refuse an empty or incomplete URL before connecting: `postgresql+psycopg://` with no host or no
    database would otherwise reach whatever the local socket offers and run the migrations there."""
    shown = mask_url(url)
    if not url or not url.strip():
        raise ConfigurationError("数据库地址为空 (the database URL is empty: unset CASETRAIL_DATABASE_URL to use "
                                 "SQLite in CASETRAIL_DATA_DIR, or give a full URL)")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"数据库地址无效 (not a database URL: {shown}; sqlite:///path/to/casetrail.db or "
                                 "postgresql+psycopg://user@host:5432/casetrail)") from exc
    try:
        parsed.get_dialect()
    except ArgumentError as exc:  # NoSuchModuleError: an unknown database kind or driver
        raise ConfigurationError(f"数据库类型未知 (unknown database kind or driver in {shown}: "
                                 "use sqlite:///… or postgresql+psycopg://…)") from exc
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise ConfigurationError(f"数据库地址不完整：缺少数据库文件 (incomplete database URL {shown}: "
                                     "no database file; sqlite:///path/to/casetrail.db)")
        return parsed
    missing = [(zh, en) for zh, en, present in (
        ("主机", "host", bool(parsed.host or parsed.query.get("host"))),
        ("数据库名", "database name", bool(parsed.database))) if not present]
    if missing:
        raise ConfigurationError(
            f"数据库地址不完整：缺少{'和'.join(zh for zh, _ in missing)} (incomplete database URL {shown}: no "
            f"{' and no '.join(en for _, en in missing)}; e.g. postgresql+psycopg://user@host:5432/casetrail)")
    return parsed


def _driver_text(exc: BaseException) -> str:
    """The driver's own message, first line, without the FATAL: prefixes of PostgreSQL."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    # psycopg: 'connection failed: connection to server at "h", port p failed: FATAL:  the reason'
    reason = first.rsplit(" failed: ", 1)[-1] if " failed: " in first else first
    return re.sub(r"^(FATAL|ERROR):\s+", "", reason).strip()


def database_error(exc: BaseException, url: str | URL | None) -> CasetrailError | None:
    """The exception as a one-line DatabaseUnavailable naming its cause, or None when it is no database fault
    (a programming error stays a traceback: hiding it would hide a bug)."""
    if isinstance(exc, CasetrailError):
        return exc
    alembic_error = _alembic_error(exc)
    if alembic_error is not None:
        return alembic_error
    if isinstance(exc, ArgumentError):  # includes NoSuchModuleError: an unknown dialect or driver
        return ConfigurationError(f"数据库地址无效 (invalid database URL {mask_url(url)}: {_hide(str(exc), url)})")
    if not isinstance(exc, DBAPIError):
        return None
    detail = _hide(_driver_text(exc), url)
    for pattern, zh, en in _CAUSES:
        if re.search(pattern, detail, re.IGNORECASE):
            return DatabaseUnavailable(f"{zh} ({en}: {detail}) [{mask_url(url)}]")
    if exc.connection_invalidated or type(exc).__name__ in ("OperationalError", "InterfaceError"):
        return DatabaseUnavailable(f"数据库不可用 (the database is unavailable: {detail}) [{mask_url(url)}]")
    return None


def _alembic_error(exc: BaseException) -> CasetrailError | None:
    from alembic.util.exc import CommandError

    if isinstance(exc, CommandError):
        # e.g. "Can't locate revision identified by '0009'": the database was migrated by a newer casetrail.
        return ConfigurationError(f"数据库结构与本版本不符 (the database schema does not match this casetrail: {exc})")
    return None


def _hide(text: str, url: str | URL | None) -> str:
    password = _password(url)
    return text.replace(password, "***") if password else text


@contextmanager
def database_faults(url: str | URL | None, *, files: bool = False) -> Iterator[None]:
    """Re-raise database faults inside the block as DatabaseUnavailable / ConfigurationError. With `files`,
    an OSError is one too (creating the SQLite file's directory); elsewhere it is not the database's."""
    try:
        yield
    except OSError as exc:
        if not files:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        raise DatabaseUnavailable(f"无法创建数据库文件 (cannot create the database file{where}: "
                                  f"{exc.strerror or exc}) [{mask_url(url)}]") from exc
    except SQLAlchemyError as exc:
        error = database_error(exc, url)
        if error is None or error is exc:
            raise
        raise error from exc
    except Exception as exc:
        error = _alembic_error(exc)
        if error is None:
            raise
        raise error from exc
