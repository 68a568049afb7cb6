"""The case list under per-case need-to-know: one page of /cases for people who see every case and for people
who see only the cases they take part in, at 100,000 cases.

    python bench/case_list.py [--db URL] [--cases 100000] [--runs 50] [--json]

Fills a throw-away database as bench/engine.py does (the demo's penalty case stopped at each waiting step,
cloned at the row level up to --cases, each clone handled by two of 50 officers), then times
`cases_page` — the count and the first page, what /cases and /api/cases serve — for: the head (every case),
officer1 (a member of about 4 % of the cases, and offered the open group tasks of the officer lane), an
officer with no part in any case, and the clerk who registered every case. Prints the median and p95 in ms
and the number of cases each sees.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import engine.demo as demo  # noqa: E402
from bench._population import analyze, clone_cases, make_officers, prepare_database  # noqa: E402
from bench.engine import BEIJING, TEMPLATE_STOPS, percentile  # noqa: E402
from engine.seed import seed_users  # noqa: E402
from engine.services import build_services  # noqa: E402
from engine.usecases.cases import cases_page  # noqa: E402
from engine.usecases.definitions import store_default_definition  # noqa: E402
from engine.usecases.users import add_user  # noqa: E402
from engine.values import AddUser, fixed_clock  # noqa: E402

READERS = ("head", "officer1", "bench_officer047", "clerk")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    url, cleanup = prepare_database(args.db)
    try:
        svc = build_services(url)
        store_default_definition(svc=svc, clock=fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING)))
        seed_users(svc, fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING)))
        start = dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING)
        for i, stop in enumerate(TEMPLATE_STOPS):
            scenario = demo.SCENARIOS["penalty_waiver"]
            index = [s.spec_id for s in scenario.steps].index(stop)
            demo.play(svc, scenario, start=start + dt.timedelta(days=30, hours=i), stop_before=index)
        # 47 cloning officers; bench_officer047 is made after the cloning and takes part in no case.
        officers = ["officer1", "officer2", *make_officers(svc, 47)]
        clone_cases(svc, args.cases, officers, start)
        add_user(AddUser(user_id="bench_officer047", name="no part", password="bench-password-2026",
                         roles=["officer"]), svc=svc, clock=fixed_clock(start))
        analyze(svc)
        result: dict[str, object] = {"db": url.split(":", 1)[0].split("+")[0], "cases": args.cases}
        for reader in READERS:
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                page = cases_page(svc, viewer_id=reader, per_page=50)
                times.append((time.perf_counter() - began) * 1000)
            result[f"{reader}_ms_p50"] = round(statistics.median(times), 2)
            result[f"{reader}_ms_p95"] = round(percentile(times, 0.95), 2)
            result[f"{reader}_sees"] = page.total
        svc.engine.dispose()
    finally:
        cleanup()
    print(json.dumps(result, indent=None if args.json else 1))


if __name__ == "__main__":
    main()
