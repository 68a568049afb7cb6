"""Web benchmark: the workbench under gunicorn on PostgreSQL, many cases, many concurrent users.

    python bench/web.py --json [--db URL] [--cases 100000] [--users 50] [--workers 4] [--think-ms 1000]
                               [--duration 60] [--warmup 15] [--writes-per-s 0.5] [--keep | --schema NAME]

Fills a fresh PostgreSQL schema (dropped at the end): the demo cases played through the engine (signed
steps, 文书), then cloned at the row level up to --cases, each clone with its tasks, events and 文书 rows
(bench/_population.py), so any case a task list links to opens. Starts `casetrail serve` (gunicorn,
gthread) as a subprocess on that schema with a temporary data directory, logs every virtual user in
through the real /login form (CSRF token, argon2), then each user loops: their task list (/tasks, now and
then page 2 or a facet filter), one case page of a task on it (/cases/<id>), a think time between requests
(--think-ms randomised ±50 %; 0 saturates). Meanwhile one more officer claims a task and gives it back,
--writes-per-s times a second (Poisson): every such write makes the server's kept task pages stale, so the
figures include reading them afresh. Requests that start in the --duration window after --warmup are
counted; any answer but 200 is an error. Prints task_list_p95_ms, case_page_p95_ms, requests_per_s …
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import html
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench._population import (  # noqa: E402
    analyze,
    clone_cases,
    make_users,
    prepare_database,
    schema_of,
    schema_url,
)
from engine.db.tables import CaseRow  # noqa: E402
from engine.demo_users import DEMO_PASSWORD  # noqa: E402
from engine.seed import seed_demo  # noqa: E402
from engine.services import Services  # noqa: E402
from engine.startup import build_services  # noqa: E402
from engine.usecases.users import list_users  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CASE_LINK = re.compile(r'href="/cases/(\d+)"')
CLAIM_FORM = re.compile(r'action="/tasks/([^"/]+)/claim"')
FILTER_LINK = re.compile(r'href="(/tasks\?[^"]+)"')
# The clones' work is spread over this many officers whatever --users is (as in bench/engine.py).
OFFICERS = 50
DEMO_OFFICERS = ("officer1", "officer2")  # the demo cases' officers (engine.demo_users), with DEMO_PASSWORD
DEMO_HEADS = ("head", "head2")


@dataclass(frozen=True)
class Sample:
    kind: str  # "task_list" | "case_page"
    started: float  # time.monotonic() when the request was sent
    ms: float  # until the whole body was read
    status: int  # HTTP status; 0 for a request that failed without an answer (timeout, reset)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (the definition bench/engine.py uses), so the figures compare."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def summarise(samples: list[Sample], window_start: float, window_end: float) -> dict[str, Any]:
    """Latency percentiles of the successful requests sent inside [window_start, window_end), the rate
    of all of them, and the errors (every answer but 200, and requests that got none)."""
    counted = [s for s in samples if window_start <= s.started < window_end]
    result: dict[str, Any] = {}
    for kind in ("task_list", "case_page"):
        ok = [s.ms for s in counted if s.kind == kind and s.status == 200]
        result[f"{kind}_p95_ms"] = round(percentile(ok, 0.95), 1) if ok else None
        result[f"{kind}_p50_ms"] = round(percentile(ok, 0.50), 1) if ok else None
        result[f"{kind}_requests"] = len([s for s in counted if s.kind == kind])
    failed = [s for s in counted if s.status != 200]
    result["requests_per_s"] = round(len(counted) / (window_end - window_start), 2)
    result["errors"] = len(failed)
    result["error_statuses"] = {str(k): v for k, v in sorted(Counter(s.status for s in failed).items())}
    return result


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- the database ------------------------------------------------------------------------------------
def populate(url: str, data_dir: Path, cases: int, officers: int, heads: int) -> None:
    """The demo cases and users, bench officers and heads who can log in, clones up to `cases`."""
    svc = build_services(url, keys_dir=data_dir / "keys")
    try:
        today = dt.datetime.now(dt.UTC)
        seed_demo(svc, today=today)
        make_users(svc, "officer", max(0, officers - len(DEMO_OFFICERS)), password=DEMO_PASSWORD)
        make_users(svc, "head", max(0, heads - len(DEMO_HEADS)), password=DEMO_PASSWORD)
        # Due dates spread ±200 h around the templates' own: some overdue, some due soon, most later.
        clone_cases(svc, cases, [*DEMO_OFFICERS, *bench_users(svc, "officer")], today, history=True)
        analyze(svc)
    finally:
        svc.engine.dispose()


def bench_users(svc: Services, role: str) -> list[str]:
    return [u.id for u in list_users(svc) if u.id.startswith(f"bench_{role}")]


def population(url: str, data_dir: Path) -> tuple[list[str], list[str], int]:
    """Who can log in (officers, heads: the demo ones first) and how many cases there are."""
    svc = build_services(url, upgrade=False, keys_dir=data_dir / "keys")
    try:
        with svc.uow.read() as session:
            cases = session.scalar(select(func.count()).select_from(CaseRow)) or 0
        return ([*DEMO_OFFICERS, *bench_users(svc, "officer")], [*DEMO_HEADS, *bench_users(svc, "head")], cases)
    finally:
        svc.engine.dispose()


# --- the server --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, data_dir: Path, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """`casetrail serve` as deployed (web/serve.py): gunicorn, gthread, the app preloaded before the fork."""
    env = dict(os.environ, CASETRAIL_DATABASE_URL=url, CASETRAIL_DATA_DIR=str(data_dir))
    with log.open("wb") as err:
        # Its own process group, so the master and its workers are stopped together, and only they.
        return subprocess.Popen(
            [sys.executable, "-m", "web.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )


async def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(base) as http:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}")
            try:
                async with http.get("/login") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the server did not answer within {timeout_s:.0f} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)  # gunicorn's graceful stop; the group is the one started above
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


# --- the virtual users -------------------------------------------------------------------------------
async def log_in(http: aiohttp.ClientSession, user_id: str, password: str) -> None:
    """Through the form, as a person does: the CSRF token from the page, then the POST."""
    async with http.get("/login") as resp:
        page = await resp.text()
    token = CSRF_FIELD.search(page)
    if token is None:
        raise RuntimeError("no CSRF token on /login")
    form = {"csrf_token": html.unescape(token.group(1)), "user_id": user_id, "password": password}
    async with http.post("/login", data=form, allow_redirects=False) as resp:
        await resp.read()
        if resp.status != 302 or "/login" in resp.headers.get("Location", ""):
            raise RuntimeError(f"login of {user_id} refused: HTTP {resp.status}")


async def timed_get(http: aiohttp.ClientSession, kind: str, path: str, samples: list[Sample]) -> str | None:
    began = time.monotonic()
    try:
        # No redirects followed: a bounce to /login (lost session) is an error, not a fast page.
        async with http.get(path, allow_redirects=False) as resp:
            body = await resp.text()
            status = resp.status
    except (TimeoutError, aiohttp.ClientError):
        body, status = None, 0
    samples.append(Sample(kind, began, (time.monotonic() - began) * 1000, status))
    return body if status == 200 else None


def task_list_path(rng: random.Random, filters: list[str]) -> str:
    """Mostly the first page; sometimes page 2 or one of the facet filters the page itself offers."""
    roll = rng.random()
    if roll < 0.2:
        return "/tasks?page=2"
    if roll < 0.4 and filters:
        return rng.choice(filters)
    return "/tasks"


async def virtual_user(http: aiohttp.ClientSession, rng: random.Random, think_ms: float, stop_at: float,
                       samples: list[Sample]) -> None:
    async def think() -> None:
        if think_ms > 0:
            await asyncio.sleep(think_ms * rng.uniform(0.5, 1.5) / 1000)

    filters: list[str] = []
    await think()  # users do not all click at the same instant
    while time.monotonic() < stop_at:
        body = await timed_get(http, "task_list", task_list_path(rng, filters), samples)
        cases: list[str] = []
        if body is not None:
            cases = CASE_LINK.findall(body)
            filters = [html.unescape(link) for link in FILTER_LINK.findall(body) if "page=" not in link] or filters
        await think()
        if cases and time.monotonic() < stop_at:
            await timed_get(http, "case_page", f"/cases/{rng.choice(cases)}", samples)
            await think()


async def post_form(http: aiohttp.ClientSession, page: str, action: str) -> int:
    """POST an empty form to `action` with the CSRF token of `page`, as the page's button does."""
    token = CSRF_FIELD.search(page)
    if token is None:
        return 0
    async with http.post(action, data={"csrf_token": html.unescape(token.group(1))}, allow_redirects=False) as resp:
        await resp.read()
        return resp.status


async def writer(http: aiohttp.ClientSession, rng: random.Random, writes_per_s: float, stop_at: float,
                 writes: list[tuple[float, int]]) -> None:
    """An officer claiming a task from their list and giving it back, `writes_per_s` times a second: each
    one a real transaction on the task table, so every worker's kept task pages go stale
    (engine/usecases/readcache.py) and the readers' next pages are read afresh."""
    claimed: str | None = None
    while time.monotonic() < stop_at:
        await asyncio.sleep(rng.expovariate(writes_per_s))
        if time.monotonic() >= stop_at:
            break
        async with http.get("/tasks", allow_redirects=False) as resp:
            page = await resp.text()
        if claimed is None:
            offered = CLAIM_FORM.findall(page)
            if not offered:
                continue
            claimed = rng.choice(offered)
            action = f"/tasks/{claimed}/claim"
        else:
            action, claimed = f"/tasks/{claimed}/unclaim", None
        writes.append((time.monotonic(), await post_form(http, page, action)))


async def drive(base: str, logins: list[str], password: str, *, think_ms: float, warmup_s: float,
                duration_s: float, seed: int, writer_login: str | None = None,
                writes_per_s: float = 0) -> tuple[list[Sample], list[tuple[float, int]], float, float]:
    """Log everyone in, run the users (and the writer) for warm-up + duration; returns the samples, the
    writes (when sent, HTTP status) and the counted window."""
    timeout = aiohttp.ClientTimeout(total=300)
    jar = lambda: aiohttp.CookieJar(unsafe=True)  # noqa: E731  (unsafe: keep cookies of an IP-address host)
    sessions = [aiohttp.ClientSession(base, timeout=timeout, cookie_jar=jar()) for _ in logins]
    writing = aiohttp.ClientSession(base, timeout=timeout, cookie_jar=jar())
    try:
        await asyncio.gather(*(log_in(http, user, password) for http, user in zip(sessions, logins, strict=True)))
        if writes_per_s > 0 and writer_login:
            await log_in(writing, writer_login, password)
        samples: list[Sample] = []
        writes: list[tuple[float, int]] = []
        began = time.monotonic()
        window_start, window_end = began + warmup_s, began + warmup_s + duration_s
        jobs = [virtual_user(http, random.Random(seed + i), think_ms, window_end, samples)
                for i, http in enumerate(sessions)]
        if writes_per_s > 0 and writer_login:
            jobs.append(writer(writing, random.Random(seed - 1), writes_per_s, window_end, writes))
        await asyncio.gather(*jobs)
        return samples, writes, window_start, window_end
    finally:
        await asyncio.gather(*(http.close() for http in [*sessions, writing]))


def virtual_logins(users: int, officers: list[str], heads: list[str]) -> list[str]:
    """One head in ten (at least one), the rest officers."""
    n_heads = max(1, users // 10)
    return heads[:n_heads] + officers[:users - n_heads]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL; the bench works in a schema of its own")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50, help="concurrent virtual users")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (4 threads each)")
    parser.add_argument("--think-ms", type=float, default=1000, help="pause between requests, ±50 %%; 0 saturates")
    parser.add_argument("--duration", type=float, default=60, help="seconds measured, after the warm-up")
    parser.add_argument("--warmup", type=float, default=15, help="seconds run before measuring")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--writes-per-s", type=float, default=0.5,
                        help="an officer outside the readers claims or gives back a task this often (0: none)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the filled schema (its name goes to stderr) for later runs with --schema")
    parser.add_argument("--schema", help="measure a schema kept by --keep instead of filling a new one "
                        "(--cases is then what it holds; it is not dropped)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.db.startswith("postgresql"):
        parser.error("--db must be a PostgreSQL URL (the bench creates and drops a schema in it)")
    if args.users > OFFICERS + 5:
        parser.error(f"--users: at most {OFFICERS + 5}")
    n_heads = max(1, args.users // 10)

    load_start = load_average()
    if args.schema:
        url, drop_schema = schema_url(args.db, args.schema), lambda: None
    else:
        url, drop_schema = prepare_database(args.db)
    with tempfile.TemporaryDirectory(prefix="casetrail-web-bench-") as tmp:
        # The agency keys made while filling live here: a kept schema serves reads, not signed steps.
        data_dir = Path(tmp)
        server = None
        populate_s = 0.0
        try:
            if not args.schema:
                began = time.perf_counter()
                populate(url, data_dir, args.cases, officers=OFFICERS, heads=max(2, n_heads))
                populate_s = time.perf_counter() - began
            officers, heads, total = population(url, data_dir)
            port = free_port()
            server = start_server(url, data_dir, port, args.workers, data_dir / "server.log")
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_until_up(base, server))
            load_before = load_average()
            cpu_before = time.process_time()
            logins = virtual_logins(args.users, officers, heads)
            samples, writes, window_start, window_end = asyncio.run(drive(
                base, logins, DEMO_PASSWORD, think_ms=args.think_ms, warmup_s=args.warmup,
                duration_s=args.duration, seed=args.seed, writes_per_s=args.writes_per_s,
                writer_login=next((o for o in reversed(officers) if o not in logins), None)))
            client_cpu_s = time.process_time() - cpu_before
            load_end = load_average()
        except BaseException:
            log = data_dir / "server.log"
            if log.exists():
                print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
            raise
        finally:
            if server is not None:
                stop_server(server)
            if args.keep and not args.schema:
                print(f"kept schema {schema_of(url)} (--schema {schema_of(url)}; drop it when done)", file=sys.stderr)
            else:
                drop_schema()
    result = {
        **summarise(samples, window_start, window_end),
        "cases": total, "users": args.users, "workers": args.workers, "threads_per_worker": 4,
        "think_ms": args.think_ms, "duration_s": args.duration, "warmup_s": args.warmup,
        "load_avg_start": load_start, "load_avg_before_load": load_before, "load_avg_end": load_end,
        "client_cpu_s": round(client_cpu_s, 1), "populate_s": round(populate_s, 1), "cpus": os.cpu_count(),
        "writes_per_s": args.writes_per_s,
        "writes": len([w for w in writes if window_start <= w[0] < window_end]),
        "write_errors": len([w for w in writes if window_start <= w[0] < window_end and w[1] != 302]),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{total} cases, {args.users} users, {args.workers} workers, think {args.think_ms:.0f} ms ±50 %, "
          f"{args.duration:.0f} s measured after {args.warmup:.0f} s warm-up")
    print(f"task list  p50 {result['task_list_p50_ms']} ms  p95 {result['task_list_p95_ms']} ms  "
          f"({result['task_list_requests']} requests)")
    print(f"case page  p50 {result['case_page_p50_ms']} ms  p95 {result['case_page_p95_ms']} ms  "
          f"({result['case_page_requests']} requests)")
    print(f"{result['requests_per_s']} requests/s, {result['errors']} errors {result['error_statuses'] or ''}")
    print(f"load average {load_start} at start, {load_end} at the end ({os.cpu_count()} cpus)")


if __name__ == "__main__":
    main()
