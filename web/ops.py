"""What operators and their tools ask of a server: `/healthz`, `/readyz`, `/metrics`, and one JSON log line per
request carrying its request id.

- `/healthz`: the process answers (a load balancer's liveness probe; touches nothing).
- `/readyz`: 200 only while the database answers with the schema this code needs, the agency keys are loaded and
  the blob store takes writes (engine/health.py); 503 with the failing probe named otherwise.
- `/metrics`: Prometheus text. Requests by route and status with their duration, step completion latency and
  verification failures are counted in each process; under gunicorn (`casetrail serve`) every worker writes them
  to PROMETHEUS_MULTIPROC_DIR and a scrape of any worker sums them all. What waits for the timer workers (due
  timers, how late the oldest is) is read from the database at each scrape, so every server says the same.
  Served to loopback only unless CASETRAIL_METRICS_TOKEN is set, then to `Authorization: Bearer <token>`.
- Each request gets an id (a sane incoming `X-Request-Id` from the proxy, else a new one), returned in the
  response's `X-Request-Id` and logged with method, route, status and duration by the `casetrail.request` logger
  (`casetrail serve` formats it as JSON lines on stderr).
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from engine import backlog, readiness

bp = Blueprint("ops", __name__)
log = logging.getLogger("casetrail.request")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_LOOPBACK = {"127.0.0.1", "::1"}

# prometheus_client chose its mode when first imported, from this variable (`casetrail serve` sets it first).
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
# Created unregistered: each scrape gathers them into a registry of its own (with the database's figures), or,
# under gunicorn, reads every worker's values from the multi-process directory instead.
REQUESTS = Counter("casetrail_http_requests", "HTTP requests by route, method and status",
                   ("route", "method", "status"), registry=None)
DURATION = Histogram("casetrail_http_request_duration_seconds", "Time to answer a request, by route",
                     ("route", "method"), registry=None)
COMPLETION = Histogram("casetrail_step_completion_seconds",
                       "Time to complete a step (PIN, 文书 rendered and signed, record, commit), by outcome",
                       ("outcome",), registry=None,
                       buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0))
VERIFY_FAILURES = Counter("casetrail_verification_failures", "Cases that failed verification on this server",
                          registry=None)
_OWN = (REQUESTS, DURATION, COMPLETION, VERIFY_FAILURES)


@contextmanager
def timed_completion() -> Iterator[None]:
    """Observe a step completion's latency (outcome `ok` or the error's class)."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except Exception as exc:
        outcome = type(exc).__name__
        raise
    finally:
        COMPLETION.labels(outcome).observe(time.perf_counter() - started)


def count_verification_failures(failed: int) -> None:
    if failed:
        VERIFY_FAILURES.inc(failed)


@bp.get("/healthz")
def healthz() -> Any:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> Any:
    state = readiness(current_app.extensions["casetrail.services"])
    body = {"ok": state.ready, "checks": {p.name: {"ok": p.ok, **({"detail": p.detail} if p.detail else {})}
                                             for p in state.probes}}
    return jsonify(body), 200 if state.ready else 503


@bp.get("/metrics")
def metrics() -> Any:
    if not _may_scrape():
        return Response("not found\n", 404, mimetype="text/plain")
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        for metric in _OWN:
            registry.register(metric)
    registry.register(_Backlog())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class _Backlog:
    """The timer workers' backlog, read from the database at the scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = current_app.extensions["casetrail.clock"]()
        try:
            waiting = backlog(current_app.extensions["casetrail.services"], now)
        except Exception:  # noqa: BLE001 - a scrape during an outage still gives the process's own figures
            up = GaugeMetricFamily("casetrail_database_up", "Whether the database answered this scrape")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("casetrail_database_up", "Whether the database answered this scrape")
        up.add_metric([], 1)
        yield up
        due = GaugeMetricFamily("casetrail_timers_due", "Open cases whose next timer is due and has not fired")
        due.add_metric([], waiting.timers_due)
        yield due
        late = GaugeMetricFamily("casetrail_timer_lateness_seconds",
                                 "How late the most overdue unfired timer is (0: none due)")
        late.add_metric([], waiting.oldest_due_seconds)
        yield late


def _may_scrape() -> bool:
    token = os.environ.get("CASETRAIL_METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode())
    return request.remote_addr in _LOOPBACK


@bp.before_app_request
def _start() -> None:
    incoming = request.headers.get("X-Request-Id", "")
    g.request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


@bp.after_app_request
def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    elapsed = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    DURATION.labels(route, request.method).observe(elapsed)
    response.headers["X-Request-Id"] = g.request_id
    user = g.get("user")
    log.info("request", extra={"request_id": g.request_id, "method": request.method, "path": request.path,
                               "route": route, "status": response.status_code, "ms": round(elapsed * 1000, 1),
                               "user": getattr(user, "id", None), "remote": request.remote_addr})
    return response
