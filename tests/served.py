"""Real `casetrail serve` processes (gunicorn, several workers each) on a test's database, for tests that must
show something holds across processes: what one process changed, every other one sees."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.services import Services
from tests.conftest import same_blob_store

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"casetrail serve exited: {server.stderr.read() if server.stderr else ''}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


def serve_environment(svc: Services, tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of `casetrail serve` on the test's database and agency keys, with a data directory of its
    own (tmp_path/serve-data) but the test's evidence store, and a session secret every process shares."""
    data_dir = tmp_path / "serve-data"
    data_dir.mkdir()
    (data_dir / "keys").symlink_to(svc.agency_keys.directory)
    return {**os.environ, "CASETRAIL_DATABASE_URL": svc.engine.url.render_as_string(hide_password=False),
            "CASETRAIL_DATA_DIR": str(data_dir), "CASETRAIL_SECRET_KEY": "served-test",
            "PYTHONWARNINGS": "ignore", **same_blob_store(svc), **(env or {})}


def start_server(environment: dict[str, str], port: int, workers: int = 2) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def start_receiver(environment: dict[str, str], app: str, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """`casetrail receiver` (the console script's command, which execs the lean process) before the app at `app`,
    on `port` (a free one if not given); returns once it accepts connections."""
    port = port or free_port()
    # Its log (a JSON line per request) goes to a file beside the data: a pipe nobody reads would fill and stall it.
    log = receiver_log(environment, port)
    with log.open("a") as sink:
        process = subprocess.Popen([sys.executable, "-m", "web.cli", "receiver", "--port", str(port), "--app-url",
                                    app], cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        wait_for_port(process, port)
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{log.read_text()}") from None
    return process, f"http://127.0.0.1:{port}"


def receiver_log(environment: dict[str, str], port: int) -> Path:
    """Where `start_receiver` writes the error output of the receiver on `port`."""
    return Path(environment["CASETRAIL_DATA_DIR"]) / f"receiver-{port}.log"


def wait_for_port(process: subprocess.Popen, port: int, timeout: float = 30) -> None:
    """Until `process` accepts connections on 127.0.0.1:`port`; its error output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else f"{process.args} exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{process.args[0]} does not listen on {port}")


def master_on(port: int, word: bytes) -> tuple[int, list[int]]:
    """The master process whose command line has `word` (b"serve", b"web.receiver": `casetrail receiver` exec's
    `python -m web.receiver`) and names `port`, and its workers."""
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if word in command and str(port).encode() in command:
            return pid, [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    raise AssertionError(f"no {word.decode()} on port {port}")


def receiver_processes(port: int) -> list[int]:
    """The receiver's master on `port` and its workers."""
    master, workers = master_on(port, b"web.receiver")
    return [master, *workers]


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=20)


@contextmanager
def served(svc: Services, tmp_path: Path, *, servers: int = 2, workers: int = 2,
           env: dict[str, str] | None = None) -> Iterator[list[str]]:
    """`servers` processes of `casetrail serve --workers N` on the test's database and agency keys, sharing one
    session secret; yields their base URLs and stops them afterwards."""
    environment = serve_environment(svc, tmp_path, env)
    started = []
    try:
        for _ in range(servers):
            port = free_port()
            started.append((start_server(environment, port, workers), f"http://127.0.0.1:{port}"))
        for server, url in started:
            wait_until_serving(url, server)
        yield [url for _, url in started]
    finally:
        for server, _ in started:
            server.terminate()
        for server, _ in started:
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
