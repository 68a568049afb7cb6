"""Serving the workbench with gunicorn, started from Python (`casetrail serve`, `casetrail demo`)."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import tempfile
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from engine import Services, settle_heap
from web.logs import json_request_log


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self) -> Flask:
        return self.application


def default_workers() -> int:
    return min(2 * multiprocessing.cpu_count() + 1, 8)


def serve(services: Services, host: str = "127.0.0.1", port: int = 5000, *, workers: int | None = None,
          threads: int = 4, config: dict[str, Any] | None = None) -> None:
    """Run the app under gunicorn until stopped. The app is built once, before the workers fork, so they
    share one session secret (set CASETRAIL_SECRET_KEY to keep sessions across restarts)."""
    multiprocess_metrics()
    json_request_log()
    from web.app import create_app

    cfg = dict(config or {})
    cfg.setdefault("SECRET_KEY", os.environ.get("CASETRAIL_SECRET_KEY") or secrets.token_hex(32))
    app = create_app(cfg, services=services)
    services.uow.dispose()  # no pooled connection may cross the fork (the replica's neither)
    settle_heap()  # last before the fork: what the master built is shared by every worker and never collected
    _Gunicorn(app, {
        "bind": f"{host}:{port}", "workers": workers or default_workers(), "threads": threads,
        "worker_class": "gthread", "preload_app": True, "timeout": 60, "child_exit": _child_exit,
        # No access log of gunicorn's own: web/ops.py writes one JSON line per request, with its request id.
        "accesslog": None,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        # Which proxy to believe about HTTPS is the app's decision (CASETRAIL_TRUSTED_PROXIES, ProxyFix), not
        # gunicorn's: by default it would take X-Forwarded-Proto from anything on 127.0.0.1.
        "secure_scheme_headers": {},
    }).run()


def multiprocess_metrics() -> None:
    """Let every worker write its metrics where a scrape of any worker reads them all (prometheus_client's
    multi-process mode): PROMETHEUS_MULTIPROC_DIR as given (the operator empties it between runs), else a fresh
    directory of this run. Before prometheus_client is first imported: it picks its mode then."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="casetrail-metrics-")


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # its live gauges go; its counters still count
