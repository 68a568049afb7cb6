"""Engine benchmark: task completions through `complete_task`, and task lists over 100,000 cases.

    python bench/engine.py --json [--db URL] [--cases 40] [--list-cases 100000]

Prints JSON with completions_per_s, complete_ms_p50, complete_ms_p95 (each completion is one full
`complete_task`: authorisation, form validation, gates, workflow restore/advance/serialize, task rows,
journal, commit) and task_list_ms_p95 (an officer's task list; also a head's). Cases for the task-list
part are cloned in bulk from cases the engine drove to different stages, so the tables hold realistic
rows (states, open and finished tasks, named candidates) without driving 100,000 cases step by step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine.demo as demo  # noqa: E402
from engine.db.tables import CaseRow, TaskRow, TaskUserRow, UserRoleRow, UserRow  # noqa: E402
from engine.seed import seed_users  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.usecases.definitions import store_default_definition  # noqa: E402
from engine.usecases.tasks import list_tasks  # noqa: E402
from engine.values import fixed_clock  # noqa: E402

BEIJING = dt.timezone(dt.timedelta(hours=8))
TEMPLATE_STOPS = ("preliminary_check", "onsite_inspection", "investigation_report", "panel_vote",
                  "await_party_response", "legal_review", "make_decision", "release_publication")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _timing(module, name: str, into: list[float]):
    original = getattr(module, name)

    def measured(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - began)

    setattr(module, name, measured)
    return lambda: setattr(module, name, original)


def timed_completions(svc, cases: int, start: dt.datetime) -> tuple[list[float], float, float]:
    """Drive `cases` general-procedure cases; return the seconds of each complete_task call, and the total
    seconds of it spent producing the step's 文书 and unlocking the officer's key (the PIN's scrypt)."""
    import engine.journal as journal
    import engine.usecases.tasks as tasks

    timings: list[float] = []
    documents: list[float] = []
    unlocks: list[float] = []
    restore = [_timing(demo, "complete_task", timings), _timing(tasks, "documents_for_step", documents),
               _timing(journal, "unlock_signer", unlocks)]
    try:
        for i in range(cases):
            demo.play(svc, demo.SCENARIOS["penalty_waiver"], start=start + dt.timedelta(hours=i))
    finally:
        for undo in restore:
            undo()
    # open_case unlocks a key too (its documents are not counted here): charge the mean unlock per completion
    return timings, sum(documents), statistics.mean(unlocks) * len(timings)


def make_officers(svc, count: int) -> list[str]:
    with svc.uow() as session:
        ids = []
        for i in range(count):
            uid = f"bench_officer{i:03d}"
            row = UserRow(id=uid, name=f"承办{i}", password_hash="!", unit="", active=True,
                          created_at=dt.datetime.now(dt.UTC))
            row.roles = [UserRoleRow(role="officer")]
            session.add(row)
            ids.append(uid)
    return ids


def clone_cases(svc, total: int, officers: list[str], start: dt.datetime, seed: int = 7) -> int:
    """Clone the template cases (and their task rows) until the database holds `total` cases."""
    rng = random.Random(seed)
    cols_case = [c.name for c in CaseRow.__table__.columns]
    cols_task = [c.name for c in TaskRow.__table__.columns]
    with svc.uow.read() as session:
        templates = [{c: getattr(r, c) for c in cols_case} for r in session.scalars(select(CaseRow))]
        tasks = {
            c["id"]: [{k: getattr(t, k) for k in cols_task}
                      for t in session.scalars(select(TaskRow).where(TaskRow.case_id == c["id"]))]
            for c in templates
        }
        existing = len(templates)
        next_id = max(c["id"] for c in templates) + 1
    made = 0
    batch_cases: list[dict] = []
    batch_tasks: list[dict] = []
    batch_users: list[dict] = []

    def flush() -> None:
        with svc.uow() as session:
            if batch_cases:
                session.execute(insert(CaseRow.__table__), batch_cases)
            if batch_tasks:
                session.execute(insert(TaskRow.__table__), batch_tasks)
            if batch_users:
                session.execute(insert(TaskUserRow.__table__), batch_users)
        batch_cases.clear()
        batch_tasks.clear()
        batch_users.clear()

    while existing + made < total:
        template = templates[made % len(templates)]
        case_id = next_id + made
        row = dict(template)
        row.update(id=case_id, number=f"呈卫投〔2025〕B{case_id:07d}号", version=1,
                   created_at=start - dt.timedelta(minutes=made), updated_at=start)
        batch_cases.append(row)
        pair = rng.sample(officers, 2)
        for task in tasks[template["id"]]:
            trow = dict(task)
            trow.update(id=str(uuid.uuid4()), case_id=case_id,
                        due_at=(task["due_at"] + dt.timedelta(hours=rng.randint(-200, 200))) if task["due_at"] else None)
            if trow["completed_by"] in ("officer1", "officer2"):
                trow["completed_by"] = pair[0]
            if trow["assignee"] in ("officer1", "officer2"):
                trow["assignee"] = pair[0]
            batch_tasks.append(trow)
            if task["status"] == "ready" and task["restricted"]:
                batch_users.extend({"task_id": trow["id"], "user_id": u, "kind": "candidate"} for u in pair)
        made += 1
        if len(batch_cases) >= 2000:
            flush()
    flush()
    return existing + made


def time_task_lists(svc, user_id: str, runs: int) -> tuple[list[float], int]:
    timings = []
    count = 0
    for _ in range(runs):
        began = time.perf_counter()
        count = len(list_tasks(svc, user_id=user_id, limit=50))
        timings.append(time.perf_counter() - began)
    return timings, count


def prepare_database(url: str | None) -> tuple[str, callable]:
    if url is None:
        folder = tempfile.mkdtemp(prefix="casetrail-bench-")
        return f"sqlite:///{folder}/bench.db", lambda: None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in url else "?"

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

        return f"{url}{sep}options=-csearch_path%3D{schema}", drop
    return url, lambda: None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=40, help="cases driven through the general procedure")
    parser.add_argument("--list-cases", type=int, default=100_000, help="cases in the database for task lists")
    parser.add_argument("--list-runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    url, cleanup = prepare_database(args.db)
    try:
        svc = build_services(url)
        clock = fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING))
        store_default_definition(svc, clock=clock)
        seed_users(svc, clock)
        start = dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING)
        completions, documents_s, unlock_s = timed_completions(svc, args.cases, start)
        engine_s = sum(completions) - documents_s - unlock_s
        for i, stop in enumerate(TEMPLATE_STOPS):
            scenario = demo.SCENARIOS["penalty_waiver"]
            index = [s.spec_id for s in scenario.steps].index(stop)
            demo.play(svc, scenario, start=start + dt.timedelta(days=30, hours=i), stop_before=index)
        officers = ["officer1", "officer2", *make_officers(svc, 48)]
        began = time.perf_counter()
        total = clone_cases(svc, args.list_cases, officers, start)
        clone_s = time.perf_counter() - began
        officer_lists, officer_count = time_task_lists(svc, "officer1", args.list_runs)
        head_lists, head_count = time_task_lists(svc, "head", args.list_runs)
        result = {
            "db": url.split(":", 1)[0].split("+")[0],
            "cases_driven": args.cases,
            "completions": len(completions),
            "completions_per_s": round(len(completions) / sum(completions), 1),
            "complete_ms_p50": round(statistics.median(completions) * 1000, 2),
            "complete_ms_p95": round(percentile(completions, 0.95) * 1000, 2),
            "documents_ms_mean": round(documents_s / len(completions) * 1000, 2),
            "pin_unlock_ms_mean": round(unlock_s / len(completions) * 1000, 2),
            "engine_only_completions_per_s": round(len(completions) / engine_s, 1),
            "cases_in_db": total,
            "task_list_ms_p95": round(percentile(officer_lists, 0.95) * 1000, 2),
            "task_list_ms_p50": round(statistics.median(officer_lists) * 1000, 2),
            "task_list_rows": officer_count,
            "head_task_list_ms_p95": round(percentile(head_lists, 0.95) * 1000, 2),
            "head_task_list_rows": head_count,
            "clone_s": round(clone_s, 1),
        }
        svc.engine.dispose()
    finally:
        cleanup()
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
