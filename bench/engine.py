"""Engine benchmark: task completions through `complete_task`, and task lists over 100,000 cases.

    python bench/engine.py --json [--db URL] [--cases 40] [--list-cases 100000]
    python bench/engine.py --json [--db URL] --long-case 300

With --long-case N: one case driven through N signed steps (the model's loops: evidence registered again and
again, 法制审核 sent back for 补正 again and again; engine/spiff/scenarios.py `long_case`) and a fresh case, both up
to their decision; prints the next completion of each (the decision), the long case's state size, restore
time and verify time, with their ratios to the fresh case's (issue: ≤ 1.5× for the completion).

Prints JSON with completions_per_s, complete_ms_p50, complete_ms_p95 (each completion is one full
`complete_task`: authorisation, form validation, gates, workflow restore/advance/serialize, the PIN, the 文书,
task rows, journal, commit), engine_only_completions_per_s (all but the 文书 and the PIN's KDF),
write_lock_ms_p50/p95 (how long each completion holds the write lock: the write of a prepared step) and task_list_ms_p95 (an officer's task list; also a head's), and task_page_ms_p95_officer /
task_page_ms_p95_head (the workbench's task page: first page with every facet count and the total, read
afresh; task_page_kept_ms_p95_* the same page repeated while nothing changed). Cases for the task-list
part are cloned in bulk from cases the engine drove to different stages, so the tables hold realistic
rows (states, open and finished tasks, named candidates) without driving 100,000 cases step by step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine.demo as demo  # noqa: E402
from bench._population import clone_cases, make_officers, prepare_database  # noqa: E402
from engine.seed import seed_users  # noqa: E402
from engine.spiff.clocks import MutableClock  # noqa: E402
from engine.spiff.instance import ProcessInstance  # noqa: E402
from engine.spiff.scenarios import BENCH_STOPS, SCENARIOS, long_case  # noqa: E402
from engine.startup import build_services, settle_heap  # noqa: E402
from engine.usecases.definitions import store_default_definition  # noqa: E402
from engine.usecases.readcache import ReadCache  # noqa: E402
from engine.usecases.taskpage import task_page  # noqa: E402
from engine.usecases.tasks import list_tasks  # noqa: E402
from engine.values import fixed_clock  # noqa: E402

BEIJING = dt.timezone(dt.timedelta(hours=8))
BENCH_NOW = dt.datetime(2027, 3, 1, 9, tzinfo=BEIJING)  # after every case the long-case part plays
TEMPLATE_STOPS = BENCH_STOPS  # the model's scenarios name the steps (engine/spiff/scenarios.py)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _timing(module, name: str, into: list[float], cpu: list[float] | None = None):
    """Wrap `module.name` to append each call's wall seconds to `into` (and its CPU seconds, this process's,
    to `cpu`: on a shared machine the CPU time is what compares before and after)."""
    original = getattr(module, name)

    def measured(*args, **kwargs):
        began, began_cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            into.append(time.perf_counter() - began)
            if cpu is not None:
                cpu.append(time.process_time() - began_cpu)

    setattr(module, name, measured)
    return lambda: setattr(module, name, original)


def timed_completions(svc, cases: int, start: dt.datetime) -> tuple[list[float], float, float, list[float], dict]:
    """Drive `cases` general-procedure cases; return the seconds of each complete_task call, the total
    seconds of it spent producing the step's 文书 and unlocking the officer's key (the PIN's scrypt), the
    seconds of each write under the lock (engine/usecases/completion.py: the rest is prepared before it), and
    the same parts in CPU seconds (totals: complete, documents, unlock per completion as charged, write)."""
    import engine.journal as journal
    import engine.usecases.completion as completion

    timings: list[float] = []
    documents: list[float] = []
    unlocks: list[float] = []
    writes: list[float] = []
    cpu: dict[str, list[float]] = {"complete": [], "documents": [], "unlock": [], "write": []}
    restore = [_timing(demo, "complete_task", timings, cpu["complete"]),
               _timing(completion, "prepare_step_documents", documents, cpu["documents"]),
               _timing(journal, "unlock_signer", unlocks, cpu["unlock"]), _timing(completion, "_write", writes, cpu["write"])]
    try:
        for i in range(cases):
            demo.play(svc, demo.SCENARIOS["penalty_waiver"], start=start + dt.timedelta(hours=i))
    finally:
        for undo in restore:
            undo()
    # open_case unlocks a key too (its documents are not counted here): charge the mean unlock per completion
    cpu_s = {"complete": sum(cpu["complete"]), "documents": sum(cpu["documents"]),
             "unlock": statistics.mean(cpu["unlock"]) * len(timings), "write": sum(cpu["write"])}
    return timings, sum(documents), statistics.mean(unlocks) * len(timings), writes, cpu_s


def time_task_lists(svc, user_id: str, runs: int) -> tuple[list[float], int]:
    timings = []
    count = 0
    for _ in range(runs):
        began = time.perf_counter()
        count = len(list_tasks(svc, user_id=user_id, limit=50))
        timings.append(time.perf_counter() - began)
    return timings, count


def time_task_pages(svc, user_id: str, runs: int, now: dt.datetime, *, kept: bool = False) -> tuple[list[float], int]:
    """The first page of the user's task page, with its facet counts and total (what /tasks shows): read
    afresh each time (the process's kept pages dropped first), or with `kept` as a repeated request is
    served while nothing changed (engine/usecases/readcache.py)."""
    timings = []
    total = 0
    for _ in range(runs):
        if not kept:
            svc.reads = ReadCache()
        began = time.perf_counter()
        total = task_page(svc, user_id=user_id, now=now).total
        timings.append(time.perf_counter() - began)
    return timings, total


def _case_figures(svc, number: str, runs: int = 5) -> dict[str, float]:
    """The stored state's size (as written, and its JSON), the mean restore time, and one verify of the case."""
    import zlib

    from engine.db.tables import CaseRow
    from engine.spiff.serialization import COMPRESSED
    from engine.usecases.audit import verify_cases

    with svc.uow.read() as session:
        case = session.query(CaseRow).filter(CaseRow.number == number).one()
        definition = svc.definition(session, case.definition_id)
        state = bytes(case.state)
    began = time.perf_counter()
    for _ in range(runs):
        ProcessInstance.restore(definition, state, clock=lambda: BENCH_NOW, settings=svc.settings,
                                calendar=svc.calendar)
    restore_s = (time.perf_counter() - began) / runs
    raw = zlib.decompress(state[len(COMPRESSED):]) if state.startswith(COMPRESSED) else state
    began = time.perf_counter()
    report = verify_cases(svc, [number], clock=fixed_clock(BENCH_NOW))[0]
    verify_s = time.perf_counter() - began
    return {"state_bytes": len(state), "state_json_bytes": len(raw), "restore_ms": round(restore_s * 1000, 2),
            "verify_ms": round(verify_s * 1000, 1), "verified": bool(report.ok),
            **({} if report.ok else {"first_failure": str(report.first_failure)})}


def _next_completion(svc, scenario, index: int, start: dt.datetime) -> tuple[str, float]:
    """Play the scenario up to step `index`, then time that step's `complete_task` (all in: 文书, PIN, write;
    not the demo driver's own read of the case that picks the form data)."""
    played = demo.play(svc, scenario, start=start, stop_before=index)
    clock = MutableClock(start + dt.timedelta(hours=index + 1))
    timings: list[float] = []
    undo = _timing(demo, "complete_task", timings)
    try:
        demo.play_step(svc, played.case.number, scenario.steps[index], clock)
    finally:
        undo()
    return played.case.number, sum(timings)


def long_case_figures(svc, steps: int, start: dt.datetime, repeats: int = 3) -> dict[str, object]:
    """A fresh case and a case of `steps` steps, each completing its decision; `repeats` pairs, medians."""
    long_scenario, long_index = long_case(steps)
    fresh_scenario = SCENARIOS["penalty_waiver"]
    fresh_index = [s.spec_id for s in fresh_scenario.steps].index(long_scenario.steps[long_index].spec_id)
    fresh_s, long_s, build_s = [], [], []
    for i in range(repeats):
        began = time.perf_counter()
        long_number, seconds = _next_completion(svc, long_scenario, long_index, start + dt.timedelta(days=40 * i))
        build_s.append(time.perf_counter() - began)
        long_s.append(seconds)
        # after the long case, not interleaved with it: each case's steps (and 文号) follow in time
        fresh_number, seconds = _next_completion(svc, fresh_scenario, fresh_index,
                                                 start + dt.timedelta(days=40 * i + 20))
        fresh_s.append(seconds)
    fresh, long = _case_figures(svc, fresh_number), _case_figures(svc, long_number)
    return {
        "long_case_steps": steps + 1, "fresh_case_steps": fresh_index + 1,  # the recorded steps, the intake's too
        "repeats": repeats,
        "build_long_case_s": round(statistics.median(build_s), 1),
        "next_completion_ms_fresh": round(statistics.median(fresh_s) * 1000, 1),
        "next_completion_ms_long": round(statistics.median(long_s) * 1000, 1),
        "next_completion_ratio": round(statistics.median(long_s) / statistics.median(fresh_s), 2),
        **{f"{key}_fresh": value for key, value in fresh.items()},
        **{f"{key}_long": value for key, value in long.items()},
        "restore_ratio": round(long["restore_ms"] / fresh["restore_ms"], 2),
        "verify_ratio": round(long["verify_ms"] / fresh["verify_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=40, help="cases driven through the general procedure")
    parser.add_argument("--list-cases", type=int, default=100_000, help="cases in the database for task lists")
    parser.add_argument("--list-runs", type=int, default=200)
    parser.add_argument("--long-case", type=int, default=None, metavar="N",
                        help="only the long-case figures: a case of N signed steps against a fresh one")
    parser.add_argument("--repeats", type=int, default=3, help="with --long-case: pairs of cases timed")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.long_case is not None:
        _print(run_long_case(args.db, args.long_case, args.repeats), as_json=args.json)
        return

    url, cleanup = prepare_database(args.db)
    try:
        svc = build_services(url)
        clock = fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING))
        store_default_definition(svc=svc, clock=clock)
        seed_users(svc, clock)
        settle_heap()  # as `casetrail serve` and `casetrail worker` do once they have started
        start = dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING)
        completions, documents_s, unlock_s, writes, cpu_s = timed_completions(svc, args.cases, start)
        engine_s = sum(completions) - documents_s - unlock_s
        per_completion_cpu_ms = {key: round(seconds / len(completions) * 1000, 2) for key, seconds in cpu_s.items()}
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
        page_now = start + dt.timedelta(days=7)  # among the cloned deadlines: some overdue, some due soon
        officer_pages, officer_total = time_task_pages(svc, "officer1", args.list_runs, page_now)
        head_pages, head_total = time_task_pages(svc, "head", args.list_runs, page_now)
        officer_kept, _ = time_task_pages(svc, "officer1", args.list_runs, page_now, kept=True)
        head_kept, _ = time_task_pages(svc, "head", args.list_runs, page_now, kept=True)
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
            "write_lock_ms_p50": round(statistics.median(writes) * 1000, 2),
            "write_lock_ms_p95": round(percentile(writes, 0.95) * 1000, 2),
            # CPU time of this process per completion: compares runs on a shared machine
            "complete_cpu_ms_mean": per_completion_cpu_ms["complete"],
            "documents_cpu_ms_mean": per_completion_cpu_ms["documents"],
            "pin_unlock_cpu_ms_mean": per_completion_cpu_ms["unlock"],
            "engine_only_cpu_ms_mean": round(per_completion_cpu_ms["complete"] - per_completion_cpu_ms["documents"]
                                             - per_completion_cpu_ms["unlock"], 2),
            "write_lock_cpu_ms_mean": per_completion_cpu_ms["write"],
            "cases_in_db": total,
            "task_list_ms_p95": round(percentile(officer_lists, 0.95) * 1000, 2),
            "task_list_ms_p50": round(statistics.median(officer_lists) * 1000, 2),
            "task_list_rows": officer_count,
            "head_task_list_ms_p95": round(percentile(head_lists, 0.95) * 1000, 2),
            "head_task_list_rows": head_count,
            "task_page_ms_p95_officer": round(percentile(officer_pages, 0.95) * 1000, 2),
            "task_page_ms_p95_head": round(percentile(head_pages, 0.95) * 1000, 2),
            "task_page_kept_ms_p95_officer": round(percentile(officer_kept, 0.95) * 1000, 2),
            "task_page_kept_ms_p95_head": round(percentile(head_kept, 0.95) * 1000, 2),
            "task_page_total_officer": officer_total,
            "task_page_total_head": head_total,
            "clone_s": round(clone_s, 1),
        }
        svc.engine.dispose()
    finally:
        cleanup()
    _print(result, as_json=args.json)


def run_long_case(db: str | None, steps: int, repeats: int) -> dict[str, object]:
    url, cleanup = prepare_database(db)
    try:
        svc = build_services(url)
        clock = fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING))
        store_default_definition(svc=svc, clock=clock)
        seed_users(svc, clock)
        result = {"db": url.split(":", 1)[0].split("+")[0],
                  **long_case_figures(svc, steps, dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING), repeats)}
        svc.engine.dispose()
    finally:
        cleanup()
    return result


def _print(result: dict[str, object], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")


if __name__ == "__main__":
    main()
