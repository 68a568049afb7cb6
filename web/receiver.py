"""The upload receiver: a lean process that takes the bytes of evidence uploads (tus PATCHes) for the app.

Recorder footage runs to gigabytes and a field officer's connection is slow: a chunk of 8 MiB over a weak mobile
link takes half a minute, and every such request held one of the app's worker threads — twenty officers sending
footage at once would leave no thread for anybody's task list. In a deployment nginx routes `/uploads/<id>` (the
address the app's creation answer gives) here instead (docs/deployment.md), as tus servers are commonly run
beside the application they serve. The process loads no part of the app — no Flask, no SQLAlchemy, no engine: a
2 GB file goes through a process of ~25 MB whose memory does not grow with it (bench/evidence.py).

It decides nothing. For a PATCH it asks the app, forwarding the client's cookie, CSRF token and headers, whether
this session may append at this offset (`POST /uploads/<id>/receive`, web/uploads.py); the app answers with the
same refusal its own PATCH would give (401, 403, 404, 409, 410, 413, 415, 400 for a missing token), which is
passed on before a byte is read. Then the body goes to disk in bounded blocks into the upload store the app's
processes share (web/tus_store.py: state on disk, the writer's flock), and when the last byte is in the app stages
the file (`POST /uploads/<id>/finish`: its type from the content, the SHA-256, the blob store, the row), whose
answer — X-Evidence-Id and X-Evidence-Sha256, or the refusal — is the client's. HEAD, GET and DELETE of an upload
are passed to the app as they are. If the app does not answer, the client gets 503 and nothing is written.

`casetrail receiver` starts it (in a fresh interpreter: the console script has the engine loaded); `python -m
web.receiver --data-dir DIR --app-url URL` is the same.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import logging
import os
import re
import sys
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from web.logs import json_request_log
from web.tus_store import UploadError, UploadStore
from web.upload_messages import upload_message

_ROUTE = re.compile(r"/uploads/([0-9a-f]{32})")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # what the app takes from a proxy (web/ops.py)
log = logging.getLogger("casetrail.receiver")
TUS_VERSION = "1.0.0"  # as web/uploads.py, which answers every request but the PATCH's bytes
# The client's headers the app reads to decide (the session, the CSRF token and the checks flask-wtf makes with
# it, the language, the proxy's account of the client): passed on unchanged, as nginx would pass them to the app.
FORWARDED = ("Cookie", "X-CSRF-Token", "Tus-Resumable", "Accept-Language", "Host", "Origin", "Referer",
             "User-Agent", "X-Request-Id", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host")
# Hop-by-hop headers (RFC 9110 7.6.1) and the length, which the server sets: never relayed from the app.
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "content-length"}
ASK_TIMEOUT = 30.0  # seconds the app may take to say whether a PATCH may go on
STAGE_TIMEOUT = 900.0  # staging reads the whole file twice (type and hash, then the blob store's copy)

StartResponse = Callable[..., Any]


class Receiver:
    """The WSGI application: PATCHes of uploads under `uploads` (the app's `<data dir>/uploads`), every decision
    asked of the app at `app_url`."""

    def __init__(self, app_url: str, uploads: str) -> None:
        parts = urllib.parse.urlsplit(app_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) address: {app_url!r}")
        self.app = parts
        # The lifetime matters only to creating and collecting uploads, which the app does.
        self.store = UploadStore(Path(uploads).resolve(), lifetime=dt.timedelta(0))

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Answer, and log one JSON line (as the app's request log, web/ops.py) under a request id that the app's
        line for the same chunk carries too: the proxy's if it sent a sane one, else a new one passed on."""
        started = time.perf_counter()
        incoming = _header(environ, "X-Request-Id") or ""
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        environ["HTTP_X_REQUEST_ID"] = request_id
        answered: dict[str, int] = {}

        def answering(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            answered["status"] = int(status.split(" ", 1)[0])
            if not any(name.lower() == "x-request-id" for name, _ in headers):
                headers = [*headers, ("X-Request-Id", request_id)]
            return start_response(status, headers, *exc_info)

        try:
            return self._route(environ, answering)
        finally:
            log.info("request", extra={
                "request_id": request_id, "method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO"),
                "status": answered.get("status", 500), "ms": round((time.perf_counter() - started) * 1000, 1),
                "received": environ.get("casetrail.received", 0), "remote": environ.get("REMOTE_ADDR")})

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = _ROUTE.fullmatch(environ.get("PATH_INFO", ""))
        method = environ["REQUEST_METHOD"]
        if environ.get("PATH_INFO") == "/healthz" and method in ("GET", "HEAD"):
            return self._health(start_response)
        if match is None:
            return _answer(start_response, 404, _error(404, "upload.not_here", _lang(environ)))
        try:
            if method == "PATCH":
                return self._patch(environ, start_response, match.group(1))
            if method in ("HEAD", "GET", "DELETE"):
                return _relay(start_response, self._ask(environ, method, environ["PATH_INFO"], {}, ASK_TIMEOUT))
        except OSError:  # the app refused the connection, timed out or broke off: nothing was written
            return _answer(start_response, 503, _error(503, "upload.app_unreachable", _lang(environ)),
                           {"Retry-After": "5"})
        return _answer(start_response, 405, _error(405, "upload.method", _lang(environ)),
                       {"Allow": "HEAD, GET, PATCH, DELETE"})

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        """Liveness for nginx and the operator: the process answers and can write where uploads go (the app's
        own readiness is the app's /readyz)."""
        writable = self.store.root.is_dir() and os.access(self.store.root, os.W_OK | os.X_OK)
        body = json.dumps({"status": "ok" if writable else "uploads folder not writable",
                           "uploads": str(self.store.root)}).encode()
        return _answer(start_response, 200 if writable else 503, body)

    def _patch(self, environ: dict[str, Any], start_response: StartResponse, upload_id: str) -> Iterable[bytes]:
        declared = environ.get("CONTENT_LENGTH") or None
        asked = {"Upload-Offset": _header(environ, "Upload-Offset") or "",
                 "X-Upload-Content-Type": environ.get("CONTENT_TYPE", "")}
        if declared is not None:
            asked["X-Upload-Body-Length"] = declared
        verdict = self._ask(environ, "POST", f"/uploads/{upload_id}/receive", asked, ASK_TIMEOUT)
        if verdict.status != 200:  # the app's refusal, before a byte is read (gunicorn drains the body)
            return _relay(start_response, verdict)
        try:
            granted = json.loads(verdict.body)
            owner, lang = str(granted["owner"]), str(granted["lang"])
            moment = dt.datetime.fromisoformat(granted["now"])  # the app's clock decides expiry, not ours
            offset = int(granted["offset"])
        except (ValueError, KeyError, TypeError):
            return _answer(start_response, 502, _error(502, "upload.app_unreachable", _lang(environ)))
        body = environ["wsgi.input"]
        try:
            with self.store.writing(upload_id, owner, moment) as writer:
                upload = writer.append(offset, body.read, int(declared) if declared is not None else None)
                environ["casetrail.received"] = upload.offset - offset
        except UploadError as exc:
            return _answer(start_response, exc.status, _error(exc.status, exc.key, lang, **exc.params))
        except OSError as exc:  # the disk full or read-only: what was written stays (the offset says how much)
            log.error("upload not written", extra={"upload": upload_id, "error": str(exc)})
            return _answer(start_response, 503, _error(503, "upload.disk", lang), {"Retry-After": "30"})
        if upload.complete and upload.result is None:
            return _relay(start_response, self._ask(environ, "POST", f"/uploads/{upload_id}/finish", {},
                                                    STAGE_TIMEOUT))
        return _answer(start_response, 204, b"", upload.headers())

    def _ask(self, environ: dict[str, Any], method: str, path: str, headers: dict[str, str],
             timeout: float) -> _Reply:
        """One request to the app with the client's headers; its whole answer (a few hundred bytes of JSON)."""
        sent = {name: value for name in FORWARDED if (value := _header(environ, name)) is not None}
        sent.update(headers)
        sent["Content-Length"] = "0"
        cls = http.client.HTTPSConnection if self.app.scheme == "https" else http.client.HTTPConnection
        connection = cls(self.app.hostname or "", self.app.port, timeout=timeout)
        try:
            connection.request(method, self.app.path.rstrip("/") + path, body=b"", headers=sent)
            response = connection.getresponse()
            return _Reply(response.status, response.reason, response.getheaders(), response.read())
        finally:
            connection.close()


class _Reply:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.reason, self.headers, self.body = status, reason, headers, body


def _relay(start_response: StartResponse, reply: _Reply) -> Iterable[bytes]:
    headers = [(k, v) for k, v in reply.headers if k.lower() not in _HOP]
    headers.append(("Content-Length", str(len(reply.body))))
    start_response(f"{reply.status} {reply.reason}", headers)
    return [reply.body]


def _answer(start_response: StartResponse, status: int, body: bytes,
            headers: dict[str, str] | None = None) -> Iterable[bytes]:
    sent = {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **(headers or {}),
            "Content-Length": str(len(body))}
    if body:
        sent["Content-Type"] = "application/json"
    start_response(f"{status} {http.client.responses.get(status, '')}", list(sent.items()))
    return [body]


def _error(status: int, key: str, lang: str, **params: Any) -> bytes:
    return json.dumps({"error": upload_message(key, lang, **params), "status": status},
                      ensure_ascii=False).encode()


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    return environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}")


def _lang(environ: dict[str, Any]) -> str:
    """Before the app has said whose request it is: English only if the client prefers it to Chinese."""
    accepted = (_header(environ, "Accept-Language") or "").lower()
    return "en" if accepted.startswith("en") else "zh"


def serve(receiver: Receiver, *, host: str, port: int, workers: int, threads: int) -> None:
    """Run under gunicorn (threads: an upload mostly waits on the network) until stopped."""
    from gunicorn.app.base import BaseApplication

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "timeout": 60, "accesslog": None,
                               "secure_scheme_headers": {}, "proc_name": "casetrail-receiver"}.items():
                self.cfg.set(key, value)

        def load(self) -> Receiver:
            return receiver

    _Gunicorn().run()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="casetrail receiver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--app-url", default=os.environ.get("CASETRAIL_APP_URL", "http://127.0.0.1:5000"),
                        help="where the app's workers listen, as the receiver reaches them [env: CASETRAIL_APP_URL]")
    parser.add_argument("--data-dir", default=os.environ.get("CASETRAIL_DATA_DIR"),
                        help="the app's data directory; the uploads are under it [env: CASETRAIL_DATA_DIR]")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("give the app's data directory (--data-dir or CASETRAIL_DATA_DIR)")
    try:
        receiver = Receiver(args.app_url, os.path.join(args.data_dir, "uploads"))
    except ValueError as exc:
        parser.error(str(exc))
    try:  # where every upload goes: a disk it cannot write is said now, once, not at each chunk
        receiver.store.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        print(f"error: cannot use the uploads folder {receiver.store.root}: {exc.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    json_request_log()
    log.info("receiving", extra={"uploads": str(receiver.store.root), "app": args.app_url})
    serve(receiver, host=args.host, port=args.port, workers=args.workers, threads=args.threads)


if __name__ == "__main__":
    main()
