"""What one request costs: the task list and the case page served one at a time, in-process.

    python bench/web_requests.py --json --schema NAME [--db URL] [--runs 30]

Runs the workbench app (Flask test client, no HTTP server, no other load) on a schema filled and kept by
`python bench/web.py --keep` (100,000 cases). For an officer (officer1) and a head (head) it times their
first task page twice over: `kept` as a repeated request is served while nothing the reader sees changed,
and `fresh` with the process's kept pages dropped before each request (as after a write that concerns
the reader: engine/usecases/readcache.py); then the case pages of the first 10 cases on the officer's
list. Prints the median and p95 of each in ms, and the queries a case page sends.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench._population import schema_url  # noqa: E402
from bench.web import CASE_LINK, DEFAULT_DB, percentile  # noqa: E402
from engine.services import Services  # noqa: E402
from engine.startup import build_services  # noqa: E402
from engine.usecases.readcache import ReadCache  # noqa: E402
from engine.usecases.sessions import start_session  # noqa: E402
from engine.values import system_clock  # noqa: E402
from web.app import create_app  # noqa: E402
from web.security import SESSION_ID  # noqa: E402


def timed(runs: int, request: Callable[[], Any], before: Callable[[], None] = lambda: None) -> list[float]:
    """Milliseconds of each of `runs` requests (`before` runs first, untimed)."""
    times = []
    for _ in range(runs):
        before()
        began = time.perf_counter()
        response = request()
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
    return times


def p50_p95(times: list[float]) -> tuple[float, float]:
    return round(statistics.median(times), 2), round(percentile(times, 0.95), 2)


def logged_in(app: Flask, svc: Services, who: str) -> FlaskClient:
    """A client with a session of `who` started in the database: the login itself (argon2) is not measured."""
    with svc.uow() as work:
        session_id = start_session(work.session, who, now=system_clock(), security=svc.settings.security)
        work.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie[SESSION_ID] = session_id
    return client


def measure(svc: Services, runs: int) -> dict[str, Any]:
    app = create_app({"WTF_CSRF_ENABLED": False}, services=svc)
    out: dict[str, Any] = {}

    def drop_kept() -> None:
        svc.reads = ReadCache()

    for who in ("officer1", "head"):
        client = logged_in(app, svc, who)
        client.get("/tasks")  # warm: templates compiled, definition parsed
        role = "officer" if who == "officer1" else "head"
        for kind, before in (("kept", lambda: None), ("fresh", drop_kept)):
            times = timed(runs, lambda c=client: c.get("/tasks"), before)
            out[f"task_list_{kind}_ms_p50_{role}"], out[f"task_list_{kind}_ms_p95_{role}"] = p50_p95(times)
    client = logged_in(app, svc, "officer1")
    cases = CASE_LINK.findall(client.get("/tasks").get_data(as_text=True))[:10]
    if not cases:
        raise RuntimeError("officer1 has no tasks in this schema")
    for case in cases:
        client.get(f"/cases/{case}")  # each case's first request also parses its definition's forms
    pages = [t for case in cases for t in timed(max(3, runs // 10), lambda c=case: client.get(f"/cases/{c}"))]
    out["case_page_ms_p50"], out["case_page_ms_p95"] = p50_p95(pages)
    queries: list[str] = []
    listener = lambda *args: queries.append(args[2])  # noqa: E731  (the statement)
    event.listen(svc.engine, "before_cursor_execute", listener)
    client.get(f"/cases/{cases[0]}")
    event.remove(svc.engine, "before_cursor_execute", listener)
    out["case_page_queries"] = len(queries)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL holding the kept schema")
    parser.add_argument("--schema", required=True, help="a schema kept by `bench/web.py --keep`")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="casetrail-web-requests-") as tmp:
        svc = build_services(schema_url(args.db, args.schema), upgrade=True, keys_dir=Path(tmp) / "keys")
        try:
            result = measure(svc, args.runs)
        finally:
            svc.engine.dispose()
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:40} {value}")


if __name__ == "__main__":
    main()
