"""What an operator's probes and dashboards ask of a running process: is it ready, and how much waits.

`/readyz` (web/ops.py) calls `readiness`: a server behind a load balancer takes requests only while the database
answers with the schema this code expects, the agency keys are loaded and the blob store takes writes. `backlog`
is read at each `/metrics` scrape from the database, so it says the same whichever server or worker is asked
(several run at once on a platform; a counter in one process's memory would not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select, text

from engine.db.faults import database_faults
from engine.db.session import MIGRATIONS_DIR
from engine.db.tables import CaseRow
from engine.enums import CaseStatus
from engine.services import Services


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str  # why not, in one line (no secrets: a URL's password never appears)


@dataclass(frozen=True)
class Readiness:
    probes: tuple[Probe, ...]

    @property
    def ready(self) -> bool:
        return all(p.ok for p in self.probes)


def expected_heads() -> set[str]:
    """The migration heads this code was written for."""
    return set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def current_heads(engine: Engine) -> set[str]:
    """The migration heads the database is at (none: an empty database)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def readiness(svc: Services) -> Readiness:
    """Database reachable, migrations current, agency keys loaded, blob store writable: each probe named with
    what failed. Never raises."""
    probes = []
    try:
        with database_faults(svc.engine.url), svc.engine.connect() as conn:  # its messages mask the password
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
        probes.append(Probe("database", True, ""))
        wanted = expected_heads()
        probes.append(Probe("migrations", current == wanted, "" if current == wanted else
                            f"database at {sorted(current) or 'no revision'}, this code needs {sorted(wanted)}: "
                            "run `casetrail migrate`"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database makes the server not ready
        probes.append(Probe("database", False, _one_line(exc)))
        probes.append(Probe("migrations", False, "database unreachable"))
    try:
        loaded = svc.agency_keys.certificates()
        probes.append(Probe("keys", "root" in loaded and "seal" in loaded, "" if loaded else
                            "no agency keys: run `casetrail init`"))
    except Exception as exc:  # noqa: BLE001
        probes.append(Probe("keys", False, _one_line(exc)))
    try:
        svc.blobs.check_writable()
        probes.append(Probe("blobs", True, ""))
    except Exception as exc:  # noqa: BLE001
        probes.append(Probe("blobs", False, _one_line(exc)))
    return Readiness(tuple(probes))


@dataclass(frozen=True)
class Backlog:
    timers_due: int  # open cases whose next timer is due and has not fired
    oldest_due_seconds: float  # how late the most overdue of them is (0: none due)


def backlog(svc: Services, now: dt.datetime) -> Backlog:
    """What waits for the workers now (one query)."""
    with svc.uow.read() as session:
        due, oldest = session.execute(
            select(func.count(), func.min(CaseRow.next_timer_at))
            .where(CaseRow.status == CaseStatus.OPEN, CaseRow.next_timer_at <= now)).one()
    late = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=dt.UTC)
        late = max(0.0, (now - oldest).total_seconds())
    return Backlog(timers_due=int(due), oldest_due_seconds=late)


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text_[:300]


__all__ = ["Backlog", "Probe", "Readiness", "backlog", "current_heads", "expected_heads", "readiness"]
