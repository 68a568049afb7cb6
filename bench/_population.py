"""Filling a benchmark database: a throw-away schema, bench users, and cases cloned in bulk at the row level.

Shared by bench/engine.py and bench/web.py. Driving 100,000 cases through the engine would take hours; a
few real cases (played step by step, signed, with their 文书) are cloned instead, so the tables hold
realistic rows without the wait.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from engine.db.document_tables import DocumentRow
from engine.db.tables import (
    Base,
    CaseEventRow,
    CaseRow,
    StepRecordRow,
    TaskRow,
    TaskUserRow,
    UserRoleRow,
    UserRow,
)
from engine.services import Services
from engine.usecases.users import add_user
from engine.values import AddUser, system_clock

# The demo cases are played by these two officers; clones hand their part to one of the bench officers.
TEMPLATE_OFFICERS = ("officer1", "officer2")
BATCH_CASES = 2000


def make_users(svc: Services, role: str, count: int, *, password: str | None = None) -> list[str]:
    """`count` users `bench_<role>NNN` holding `role`. Without `password` they cannot log in (no argon2
    hash to compute: fast); with it they are added through the engine like any other user."""
    ids = [f"bench_{role}{i:03d}" for i in range(count)]
    if password is not None:
        for i, uid in enumerate(ids):
            add_user(AddUser(user_id=uid, name=f"{role}{i}", password=password, roles=[role]), svc=svc,
                     clock=system_clock)
        return ids
    with svc.uow() as work:
        for i, uid in enumerate(ids):
            row = UserRow(id=uid, name=f"{role}{i}", password_hash="!", unit="", active=True,
                          agency_code=svc.settings.agency.code, created_at=dt.datetime.now(dt.UTC))
            row.roles = [UserRoleRow(role=role)]
            work.session.add(row)
        work.commit()
    return ids


def make_officers(svc: Services, count: int, *, password: str | None = None) -> list[str]:
    return make_users(svc, "officer", count, password=password)


def _rows(session: Session, table: Table, *where: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(select(table).where(*where).order_by(*table.primary_key)).mappings()]


def clone_cases(svc: Services, total: int, officers: list[str], start: dt.datetime, seed: int = 7, *,
                history: bool = False) -> int:
    """Clone the cases in the database (and their task rows) until it holds `total` cases.

    With `history`, a clone also gets its template's events, 文书 rows and signed step records, re-pointed at
    its own tasks: what the case page reads (it shows the steps done from their signed records). A cloned 文书
    row has no PDF bytes (the page lists documents, it never reads the PDF; 100,000 copies would be
    gigabytes), and a cloned record still names its template case and is in no log, so downloading a clone's
    文书 or verifying its records is not possible.
    Case ids are given explicitly: PostgreSQL's id sequence is not advanced, so a case opened afterwards
    would collide — these databases are for reading.
    """
    rng = random.Random(seed)
    with svc.uow.read() as session:
        templates = _rows(session, CaseRow.__table__)
        by_case = {c["id"]: {
            "tasks": _rows(session, TaskRow.__table__, TaskRow.case_id == c["id"]),
            "events": _rows(session, CaseEventRow.__table__, CaseEventRow.case_id == c["id"]) if history else [],
            "documents": _rows(session, DocumentRow.__table__, DocumentRow.case_id == c["id"]) if history else [],
            "records": _rows(session, StepRecordRow.__table__, StepRecordRow.case_id == c["id"]) if history else [],
        } for c in templates}
        next_log_index = (session.scalar(select(func.max(StepRecordRow.log_index))) or 0) + 1
    if not templates:
        raise ValueError("no case to clone: play some cases through the engine first")
    existing = len(templates)
    next_id = max(c["id"] for c in templates) + 1
    made = 0
    batches: dict[str, list[dict]] = {"cases": [], "tasks": [], "task_users": [], "case_events": [],
                                      "documents": [], "step_records": []}
    tables = {"cases": CaseRow.__table__, "tasks": TaskRow.__table__, "task_users": TaskUserRow.__table__,
              "case_events": CaseEventRow.__table__, "documents": DocumentRow.__table__,
              "step_records": StepRecordRow.__table__}

    def flush() -> None:
        with svc.uow() as work:
            for name, rows in batches.items():  # parents first: the dict keeps that order
                if rows:
                    work.session.execute(insert(tables[name]), rows)
                rows.clear()
            work.commit()

    while existing + made < total:
        template = templates[made % len(templates)]
        parts = by_case[template["id"]]
        case_id = next_id + made
        row = dict(template)
        row.update(id=case_id, number=f"呈卫投〔2025〕B{case_id:07d}号", version=1,
                   created_at=start - dt.timedelta(minutes=made), updated_at=start)
        batches["cases"].append(row)
        pair = rng.sample(officers, 2)

        def person(user: str | None, pair: list[str] = pair) -> str | None:
            return pair[0] if user in TEMPLATE_OFFICERS else user

        new_task_ids: dict[str, str] = {}
        for task in parts["tasks"]:
            trow = dict(task)
            trow.update(id=str(uuid.uuid4()), case_id=case_id, completed_by=person(task["completed_by"]),
                        assignee=person(task["assignee"]),
                        due_at=(task["due_at"] + dt.timedelta(hours=rng.randint(-200, 200))) if task["due_at"] else None)
            new_task_ids[task["id"]] = trow["id"]
            batches["tasks"].append(trow)
            if task["status"] == "ready" and task["restricted"]:
                batches["task_users"].extend({"task_id": trow["id"], "user_id": u, "kind": "candidate"} for u in pair)
        for event in parts["events"]:
            erow = {k: v for k, v in event.items() if k != "id"}
            erow.update(case_id=case_id, task_id=new_task_ids.get(event["task_id"], event["task_id"]),
                        actor=person(event["actor"]))
            batches["case_events"].append(erow)
        for document in parts["documents"]:
            drow = {k: v for k, v in document.items() if k != "id"}
            drow.update(case_id=case_id, task_id=new_task_ids.get(document["task_id"], document["task_id"]),
                        signed_by=person(document["signed_by"]), pdf=b"")
            batches["documents"].append(drow)
        for record in parts["records"]:
            rrow = {k: v for k, v in record.items() if k != "id"}
            rrow.update(case_id=case_id, task_id=new_task_ids.get(record["task_id"], record["task_id"]),
                        log_index=next_log_index)  # unique, past the real log: these records are in no log
            next_log_index += 1
            batches["step_records"].append(rrow)
        made += 1
        if len(batches["cases"]) >= BATCH_CASES:
            flush()
    flush()
    return existing + made


def analyze(svc: Services) -> None:
    """After a bulk load, the state autovacuum keeps a live database in (PostgreSQL): planner statistics,
    and the visibility map without which an index-only scan still visits every row it finds. Table by
    table, so only this schema."""
    if svc.engine.dialect.name != "postgresql":
        return
    with svc.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # VACUUM needs it
        for table in Base.metadata.sorted_tables:
            conn.execute(text(f'VACUUM ANALYZE "{table.name}"'))


def prepare_database(url: str | None) -> tuple[str, Callable[[], None]]:
    """A URL for an empty database (a temporary SQLite file, or a fresh PostgreSQL schema reached through
    the search_path) and the function that drops it again."""
    if url is None:
        folder = tempfile.mkdtemp(prefix="casetrail-bench-")
        return f"sqlite:///{folder}/bench.db", lambda: shutil.rmtree(folder, ignore_errors=True)
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        return schema_url(url, schema), drop
    return url, lambda: None


def schema_url(url: str, schema: str) -> str:
    """The PostgreSQL `url` with every connection's search_path set to `schema` (as tests/conftest.py)."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def schema_of(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1]
