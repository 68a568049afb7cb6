"""`serve()` builds a gunicorn application around the workbench (the CLI's `casetrail serve`)."""

from __future__ import annotations

import prometheus_client  # noqa: F401  (chooses its mode at first import: here, before the test sets the variable)

from web import serve as serve_module


def test_serve_runs_the_app_under_gunicorn_with_shared_settings(svc, monkeypatch, tmp_path):
    started = {}
    # What serve() sets up for the processes it starts, kept out of this test process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(serve_module, "json_request_log", lambda: None)

    def fake_run(self):
        started["options"] = self.options
        started["app"] = self.load()
        started["bind"] = self.cfg.bind

    monkeypatch.setattr(serve_module._Gunicorn, "run", fake_run)
    serve_module.serve(svc, "127.0.0.1", 5099, workers=2)
    assert started["bind"] == ["127.0.0.1:5099"]
    assert started["options"]["preload_app"] is True
    assert started["options"]["secure_scheme_headers"] == {}  # HTTPS is the app's to judge (trusted proxies)
    assert started["options"]["accesslog"] is None  # web/ops.py logs each request as JSON, with its id
    assert started["app"].config["SECRET_KEY"]
    assert started["app"].extensions["casetrail.services"] is svc
