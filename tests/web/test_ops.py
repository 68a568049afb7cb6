"""What operators' tools ask of a server (issue 17): /healthz, /readyz naming what is wrong, /metrics to whom
may scrape it, and a request id on every response and log line."""

from __future__ import annotations

import dataclasses
import json
import logging

from sqlalchemy import text

from engine.blobs import DirectoryStore
from engine.db.session import UnitOfWork, make_engine
from engine.health import expected_heads
from tests.web.webhelpers import login
from web.app import create_app


def _app(svc, clock):
    return create_app({"TESTING": True, "SECRET_KEY": "t", "CASETRAIL_CLOCK": clock}, services=svc)


def test_healthz_and_readyz_answer_without_a_login(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json() == {"ok": True, "checks": {n: {"ok": True}
                                                          for n in ("database", "migrations", "keys", "blobs")}}


def test_readyz_is_503_naming_the_probe_that_failed(svc, clock, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    no_blobs = dataclasses.replace(svc, blob_store=DirectoryStore(blocked / "blobs"))
    answer = _app(no_blobs, clock).test_client().get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert not checks["blobs"]["ok"] and checks["blobs"]["detail"] and checks["database"]["ok"]

    with svc.engine.begin() as conn:  # a database one migration behind this code
        conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    behind = _app(svc, clock).test_client().get("/readyz").get_json()
    assert behind["ok"] is False and not behind["checks"]["migrations"]["ok"]
    assert "casetrail migrate" in behind["checks"]["migrations"]["detail"]
    assert sorted(expected_heads())[0] in behind["checks"]["migrations"]["detail"]

    gone = make_engine("postgresql+psycopg://casetrail:secret-pw@127.0.0.1:1/nowhere")
    down = _app(dataclasses.replace(svc, uow=UnitOfWork(gone)), clock).test_client().get("/readyz")
    body = down.get_json()
    assert down.status_code == 503 and not body["checks"]["database"]["ok"]
    assert "secret-pw" not in json.dumps(body)


def test_metrics_count_requests_by_route_and_status_and_read_the_backlog(client, svc):
    client.get("/healthz")
    client.get("/no-such-page")
    login(client, "officer1")
    client.get("/tasks")
    scraped = client.get("/metrics")
    assert scraped.status_code == 200 and scraped.mimetype == "text/plain"
    body = scraped.get_data(as_text=True)
    assert 'casetrail_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'route="(unmatched)",status="404"' in body
    assert 'casetrail_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/tasks"' in body
    assert "casetrail_timers_due 0.0" in body and "casetrail_database_up 1.0" in body


def test_metrics_only_to_loopback_or_the_bearer_of_the_token(client, monkeypatch):
    far = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=far).status_code == 404
    monkeypatch.setenv("CASETRAIL_METRICS_TOKEN", "scrape-token-1")
    assert client.get("/metrics").status_code == 404  # a token configured: loopback alone is not enough
    assert client.get("/metrics", environ_base=far, headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base=far,
                      headers={"Authorization": "Bearer scrape-token-1"}).status_code == 200


def test_every_response_and_log_line_carries_the_request_id(client, caplog):
    caplog.set_level(logging.INFO, logger="casetrail.request")
    given = client.get("/healthz", headers={"X-Request-Id": "proxy-req-12345"})
    assert given.headers["X-Request-Id"] == "proxy-req-12345"
    made = client.get("/login", headers={"X-Request-Id": "bad id; X-Evil: 1"})  # not a sane id: a new one
    assert made.headers["X-Request-Id"] != "bad id; X-Evil: 1" and len(made.headers["X-Request-Id"]) == 32
    lines = [r for r in caplog.records if r.name == "casetrail.request"]
    assert [(r.request_id, r.route, r.status) for r in lines] == [
        ("proxy-req-12345", "/healthz", 200), (made.headers["X-Request-Id"], "/login", 200)]


def test_a_scrape_of_any_gunicorn_worker_counts_the_requests_of_all_and_each_is_logged_as_json(svc, tmp_path):
    """`casetrail serve --workers 2` as a real process: requests go to both workers (a new connection each, sent
    until the log shows both pids), yet one scrape counts them all (prometheus_client's multi-process mode), and
    stderr holds one JSON line per request with its id."""
    import http.client
    import threading

    from tests.served import free_port, serve_environment, start_server, stop_server, wait_until_serving

    environment = serve_environment(svc, tmp_path)
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    port = free_port()
    server = start_server(environment, port, workers=2)
    logged: list[dict] = []
    reader = threading.Thread(target=lambda: logged.extend(
        json.loads(x) for x in server.stderr if x.startswith("{")), daemon=True)
    reader.start()

    def get(path: str, request_id: str | None = None) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers={"X-Request-Id": request_id} if request_id else {})
        response = conn.getresponse()
        assert response.status == 200, (path, response.status)
        body = response.read().decode()
        conn.close()
        return body

    try:
        wait_until_serving(f"http://127.0.0.1:{port}", server)
        sent = 0
        while sent < 400 and len({x["pid"] for x in list(logged) if x.get("route") == "/healthz"}) < 2:
            for _ in range(20):
                get("/healthz", f"probe-{sent:04d}-req")
                sent += 1
        body = get("/metrics")
    finally:
        stop_server(server)
        reader.join(timeout=10)
    healthz = [x for x in logged if x.get("route") == "/healthz"]
    assert len({x["pid"] for x in healthz}) == 2, "the requests never reached the second worker"
    line = next(x for x in body.splitlines() if x.startswith("casetrail_http_requests_total{") and '"/healthz"' in x)
    assert float(line.rsplit(" ", 1)[1]) == sent, line
    assert {x["request_id"] for x in healthz} == {f"probe-{i:04d}-req" for i in range(sent)}
    assert all(x["logger"] == "casetrail.request" and x["level"] == "INFO" and x["status"] == 200 for x in healthz)
