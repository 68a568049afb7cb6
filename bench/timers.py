"""Timers on time under load: how late `casetrail worker` processes fire a burst of due timers while officers
complete steps at a target rate.

    python bench/timers.py --json [--db URL] [--timers 60] [--workers 3] [--rate 20] [--completers 4]

--timers cases are opened so that the model's 督办 of their first step comes due at one moment (the model's
timers fall on day boundaries: engine/rules/deadlines.py, so they come due together — the hardest case, a burst).
Every process — the --workers `casetrail worker` processes and the --completers load processes, which play the
general procedure through `complete_task` (PIN, 文书, signed record) paced to --rate completions/s between them
— runs on one clock moved to --lead seconds before that moment, so the burst comes while the load runs. Prints
JSON: lateness_s_p50/p95/max (each timer's TIMER event time minus its due moment), fired and timers,
completions_per_s achieved over the load's span, the target rate, and os.getloadavg() before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _shifted(shift: float):  # the clock every process of the run agrees on
    from engine.values import system_clock

    delta = dt.timedelta(seconds=shift)
    return lambda: system_clock() + delta


def _worker_main(shift: float) -> int:
    """`casetrail worker` on the run's clock (this file run with --as-worker SHIFT)."""
    from web.cli import main as casetrail

    try:
        casetrail.main(["worker", "--interval", "5"], obj={"clock": _shifted(shift)}, standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _completer(url: str, keys: str, index: int, start: float, stop: float, per_s: float, shift: float,
               out: multiprocessing.Queue) -> None:
    """Plays general-procedure cases, one completion every 1/per_s seconds (or as fast as it can)."""
    import engine.demo as demo
    from engine.startup import build_services, settle_heap

    svc = build_services(url, keys_dir=Path(keys), upgrade=False)
    settle_heap()  # a server's worker process, as `casetrail serve` leaves it
    done: list[float] = []
    original = demo.complete_task
    slot = [start]

    def paced(*args, **kwargs):
        time.sleep(max(0.0, slot[0] - time.time()))
        slot[0] = max(slot[0], time.time() - 1.0) + 1.0 / per_s
        result = original(*args, **kwargs)
        done.append(time.time())
        return result

    demo.complete_task = paced
    case_start = _shifted(shift)() + dt.timedelta(days=index)
    n = 0
    while time.time() < stop:
        try:
            demo.play(svc, demo.SCENARIOS["penalty_waiver"], start=case_start + dt.timedelta(hours=n))
        except Exception as exc:  # a conflict mid-case: start another
            if type(exc).__name__ not in ("Conflict", "StepMoved", "NumberTaken", "RecordsMoved"):
                raise
        n += 1
    out.put(done)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3) if ordered else 0.0


def _open_timer_cases(svc, count: int, lead: float) -> tuple[list[int], dt.datetime, float]:
    """`count` complaints received now, opened (in this process) so that their 督办 comes due at one moment;
    their ids, that moment, and the clock shift that puts the run `lead` seconds before it."""
    from sqlalchemy import select

    from engine.db.tables import CaseRow
    from engine.demo import INTAKE_USER
    from engine.demo_users import DEMO_PIN
    from engine.spiff.driving import intake_data
    from engine.usecases.cases import open_case
    from engine.values import OpenCase, fixed_clock, system_clock

    received = system_clock()
    probe = open_case(OpenCase(user_id=INTAKE_USER, data=intake_data(now=received), pin=DEMO_PIN), svc=svc,
                      clock=fixed_clock(received))
    with svc.uow.read() as session:
        due = session.scalar(select(CaseRow.next_timer_at).where(CaseRow.id == probe.id))
    opened_at = fixed_clock(due - dt.timedelta(seconds=lead + 60))
    ids = [probe.id] + [open_case(OpenCase(user_id=INTAKE_USER, data=intake_data(now=received), pin=DEMO_PIN),
                                  svc=svc, clock=opened_at).id for _ in range(count - 1)]
    return ids, due, (due - dt.timedelta(seconds=lead) - system_clock()).total_seconds()


def _lateness(svc, ids: list[int]) -> list[float]:
    from sqlalchemy import select

    from engine.db.tables import CaseEventRow
    from engine.enums import CaseEventKind

    with svc.uow.read() as session:
        rows = session.execute(select(CaseEventRow.detail, CaseEventRow.at).where(
            CaseEventRow.kind == CaseEventKind.TIMER, CaseEventRow.case_id.in_(ids))).all()
    return [(at - dt.datetime.fromisoformat(detail["due_at"])).total_seconds() for detail, at in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (a schema of its own is made); default SQLite")
    parser.add_argument("--timers", type=int, default=60)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=20.0, help="target completions/s of the load")
    parser.add_argument("--completers", type=int, default=4)
    parser.add_argument("--lead", type=float, default=60.0, help="seconds from the start of the run to the burst")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load after the burst")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--as-worker", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_worker is not None:
        sys.exit(_worker_main(args.as_worker))

    from bench._population import prepare_database
    from engine.seed import seed_users
    from engine.startup import build_services
    from engine.usecases.definitions import store_default_definition
    from engine.values import fixed_clock, system_clock

    url, drop = prepare_database(args.db)
    load_before = os.getloadavg()
    workers: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory(prefix="casetrail-timers-") as tmp:
            keys = Path(tmp) / "keys"
            svc = build_services(url, keys_dir=keys)
            store_default_definition(svc=svc, clock=fixed_clock(system_clock()))
            seed_users(svc, fixed_clock(system_clock()))
            ids, due, shift = _open_timer_cases(svc, args.timers, args.lead)
            env = {**os.environ, "CASETRAIL_DATABASE_URL": url, "CASETRAIL_DATA_DIR": tmp, "PYTHONWARNINGS": "ignore",
                   "PYTHONPATH": str(ROOT)}
            burst_at = (due - dt.timedelta(seconds=shift)).timestamp()  # when the run's clock reaches it
            logs = [Path(tmp) / f"worker-{i}.log" for i in range(args.workers)]
            workers = [subprocess.Popen([sys.executable, __file__, "--as-worker", repr(shift)], cwd=ROOT, env=env,
                                        stdout=log.open("w"), stderr=subprocess.STDOUT) for log in logs]
            start, stop = time.time() + 5, burst_at + args.after
            ctx = multiprocessing.get_context("spawn")
            out: multiprocessing.Queue = ctx.Queue()
            load = [ctx.Process(target=_completer, args=(url, str(keys), i, start, stop, args.rate / args.completers,
                                                         shift, out)) for i in range(args.completers)]
            for process in load:
                process.start()
            while not all(" started" in log.read_text() for log in logs) and time.time() < burst_at + 60:
                time.sleep(0.2)
            ready_before = burst_at - time.time()  # negative: the workers were not up when the timers came due
            times = [t for _ in load for t in out.get(timeout=stop - time.time() + 600)]
            for process in load:
                process.join()
            deadline = time.time() + 60
            while len(late := _lateness(svc, ids)) < len(ids) and time.time() < deadline:
                time.sleep(0.5)
            window = (burst_at - 10, stop)  # the load around the burst (the load processes have warmed up by then)
            span = [t for t in times if window[0] <= t <= window[1]]
            result = {
                "timers": len(ids), "fired": len(late), "workers": args.workers,
                "lateness_s_min": _p(late, 0.0), "lateness_s_p50": _p(late, 0.5), "lateness_s_p95": _p(late, 0.95), "lateness_s_max": _p(late, 1.0),
                "target_completions_per_s": args.rate,
                "completions_per_s": round(len(span) / (window[1] - window[0]), 2),
                "workers_ready_s_before_due": round(ready_before, 1),
                "completers": args.completers, "loadavg_before": [round(x, 2) for x in load_before],
                "loadavg_after": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
                "due_at": due.isoformat(),
            }
            svc.engine.dispose()
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        drop()
    print(json.dumps(result, ensure_ascii=False) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
