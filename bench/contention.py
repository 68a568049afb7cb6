"""Write contention on SQLite: officers completing steps while others claim tasks and log in.

    python bench/contention.py --json [--completers 4] [--claimers 4] [--duration 60] [--warmup 10]

One SQLite database (WAL), every person a process of their own, as gunicorn workers would be: --completers
processes each play general-procedure cases step by step through `complete_task` (PIN, 文书, signed record), and
--claimers processes each loop: claim a group task, give it back, log in (argon2 at the production cost). Both
write, so they compete for SQLite's one write lock: how long a completion holds it is what the claimers and
the logins wait. Prints completions_per_s, claim_ms_p50/p95, login_ms_p50/p95 and conflicts (409s: a write
that waited out the busy timeout, or a claim that lost a race) over the --duration after --warmup.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BEIJING = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING)


def _services(url: str, keys: Path):
    from engine.startup import build_services

    return build_services(url, keys_dir=keys, upgrade=False)


def _completer(url: str, keys: str, index: int, stop_at: float, out: multiprocessing.Queue) -> None:
    import engine.demo as demo

    svc = _services(url, Path(keys))
    done: list[tuple[float, float]] = []
    original = demo.complete_task

    def timed(*args, **kwargs):
        began = time.perf_counter()
        result = original(*args, **kwargs)
        done.append((time.time(), time.perf_counter() - began))
        return result

    demo.complete_task = timed
    conflicts = 0
    n = 0
    while time.time() < stop_at:
        try:
            demo.play(svc, demo.SCENARIOS["penalty_waiver"], start=START + dt.timedelta(days=index, hours=n))
        except Exception as exc:  # a 409 mid-case: count it, start another case
            if type(exc).__name__ in ("Conflict", "StepMoved", "NumberTaken", "RecordsMoved"):
                conflicts += 1
            else:
                raise
        n += 1
    out.put({"kind": "complete", "times": done, "conflicts": conflicts})


def _claimer(url: str, keys: str, task_ids: list[str], stop_at: float, out: multiprocessing.Queue) -> None:
    from engine.demo_users import DEMO_PASSWORD
    from engine.errors import Conflict
    from engine.usecases.logins import LoginRefused, log_in
    from engine.usecases.tasks import claim_task, unclaim_task
    from engine.values import ClaimTask, LogIn, UnclaimTask, system_clock

    svc = _services(url, Path(keys))
    claims: list[tuple[float, float]] = []
    logins: list[tuple[float, float]] = []
    conflicts = 0
    i = 0
    while time.time() < stop_at:
        task = task_ids[i % len(task_ids)]
        i += 1
        began = time.perf_counter()
        try:
            claim_task(ClaimTask(task, "officer2"), svc=svc, clock=system_clock)
            unclaim_task(UnclaimTask(task, "officer2"), svc=svc, clock=system_clock)
            claims.append((time.time(), time.perf_counter() - began))
        except Conflict:
            conflicts += 1
        began = time.perf_counter()
        try:
            log_in(LogIn(user_id="officer2", password=DEMO_PASSWORD, source="127.0.0.1"),
                   svc=svc, clock=system_clock)
            logins.append((time.time(), time.perf_counter() - began))
        except (Conflict, LoginRefused):
            conflicts += 1
    out.put({"kind": "claim", "claims": claims, "logins": logins, "conflicts": conflicts})


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000, 1) if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--completers", type=int, default=4)
    parser.add_argument("--claimers", type=int, default=4)
    parser.add_argument("--claim-tasks", type=int, default=20, help="group tasks the claimers share out")
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import engine.demo as demo
    from engine.seed import seed_users
    from engine.spiff.scenarios import WAITING
    from engine.startup import build_services
    from engine.usecases.definitions import store_default_definition
    from engine.usecases.tasks import list_tasks
    from engine.values import fixed_clock

    with tempfile.TemporaryDirectory(prefix="casetrail-contention-") as tmp:
        url, keys = f"sqlite:///{tmp}/casetrail.db", Path(tmp) / "keys"
        svc = build_services(url, keys_dir=keys)
        clock = fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING))
        store_default_definition(svc=svc, clock=clock)
        seed_users(svc, clock)
        scenario = demo.SCENARIOS["penalty_waiver"]
        waits_at = WAITING["claimable"][1]  # a claimable group task (engine/spiff/scenarios.py)
        stop = [s.spec_id for s in scenario.steps].index(waits_at)
        for i in range(args.claim_tasks):
            demo.play(svc, scenario, start=START - dt.timedelta(days=1, minutes=i), stop_before=stop)
        group = [t.id for t in list_tasks(svc, include_done=False, limit=10_000) if t.spec_id == waits_at]
        svc.engine.dispose()

        begin = time.time() + 5  # processes start and import first
        measured_from, stop_at = begin + args.warmup, begin + args.warmup + args.duration
        out: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_completer, args=(url, str(keys), i, stop_at, out)) for i in range(args.completers)]
        # Each claimer its own share of the group tasks: they compete for the lock, not for the tasks.
        procs += [ctx.Process(target=_claimer, args=(url, str(keys), group[i::args.claimers], stop_at, out))
                  for i in range(args.claimers)]
        for p in procs:
            p.start()
        results = [out.get(timeout=args.warmup + args.duration + 600) for _ in procs]
        for p in procs:
            p.join()

    def window(pairs: list[tuple[float, float]]) -> list[float]:
        return [seconds for at, seconds in pairs if measured_from <= at <= stop_at]

    completes = [s for r in results if r["kind"] == "complete" for s in window(r["times"])]
    claims = [s for r in results if r["kind"] == "claim" for s in window(r["claims"])]
    logins = [s for r in results if r["kind"] == "claim" for s in window(r["logins"])]
    result = {
        "db": "sqlite", "completers": args.completers, "claimers": args.claimers, "duration_s": args.duration,
        "completions_per_s": round(len(completes) / args.duration, 2),
        "complete_ms_p50": _p(completes, 0.5), "complete_ms_p95": _p(completes, 0.95),
        "claims": len(claims), "claim_ms_p50": _p(claims, 0.5), "claim_ms_p95": _p(claims, 0.95),
        "logins": len(logins), "login_ms_p50": _p(logins, 0.5), "login_ms_p95": _p(logins, 0.95),
        "conflicts": sum(r["conflicts"] for r in results),
        "complete_ms_mean": round(statistics.mean(completes) * 1000, 1) if completes else 0.0,
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k:20} {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
