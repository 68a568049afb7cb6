"""Evidence upload benchmark: a 1 GB recording sent to `casetrail serve` on loopback.

    python bench/evidence.py --json [--size-mb 1024] [--chunk-mb 16] [--workers 2] [--data DIR]

Seeds the demo into a fresh data directory and SQLite database (`casetrail demo --seed-only`; --data DIR reuses
one seeded before, e.g. by an earlier run with --keep), starts `casetrail serve --workers N` on it, logs the demo
officer in through the real /login form, and uploads --size-mb of generated MP4 (made on the fly: no source file,
each run's bytes distinct) to an open case of theirs, twice: in tus PATCHes of --chunk-mb ("chunked", the
browser widget's way) and as one PATCH of the whole file ("whole"). Each time runs from the creation to the
answer of the last PATCH, so it includes the server's staging of the finished file (type, SHA-256, the copy into
the blob store). Meanwhile the RSS of the server's processes is read from /proc every 20 ms; each worker's peak
is reset (/proc/PID/clear_refs) before each upload, so `*_peak_rss_mb` is the largest worker's peak during that
upload and `*_rss_growth_mb` how far it rose above what the worker held before. Prints MB/s (10^6 bytes/s).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._tus import GeneratedVideo, WebSession  # noqa: E402

DEMO_OFFICER = "officer1"
DEMO_PASSWORD = "demo-pass-2026"  # engine/demo_users.py


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def workers_of(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class RssWatch:
    """Samples the RSS of the server's workers until stopped; the largest sample, and the kernel's own peak."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS now
        self.before = {pid: status_kib(pid, "VmRSS") for pid in pids}
        self.sampled = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for pid in self.pids:
                self.sampled[pid] = max(self.sampled[pid], status_kib(pid, "VmRSS"))

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        peaks = {pid: max(self.sampled[pid], status_kib(pid, "VmHWM")) for pid in self.pids}
        worst = max(self.pids, key=lambda p: peaks[p] - self.before[p])
        return {"peak_rss_mb": round(max(peaks.values()) / 1024, 1),
                "rss_before_mb": round(self.before[worst] / 1024, 1),
                "rss_growth_mb": round((peaks[worst] - self.before[worst]) / 1024, 1)}


def upload(web: WebSession, case: str, size: int, chunk: int, seed: int) -> tuple[float, str]:
    video = GeneratedVideo(size, seed=seed)
    began = time.perf_counter()
    _, last = web.upload(video.read, size, {"filename": f"bench-{seed}.mp4", "case": case}, chunk=chunk)
    took = time.perf_counter() - began
    if last.status != 204 or last.header("X-Evidence-Sha256") != video.sha256:
        raise SystemExit(f"upload failed: {last.status} {last.body[:300]!r}")
    return took, video.sha256


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="casetrail-bench-evidence-"))
    environment = {**os.environ, "CASETRAIL_DATA_DIR": str(data),
                   "CASETRAIL_DATABASE_URL": f"sqlite:///{data / 'bench.sqlite'}",
                   "CASETRAIL_SECRET_KEY": "bench-evidence", "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    if not (data / "bench.sqlite").exists():
        subprocess.run([sys.executable, "-m", "web.cli", "demo", "--seed-only"], cwd=ROOT, env=environment,
                       check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers",
                               str(args.workers)], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                web = WebSession(base)
                web.log_in(DEMO_OFFICER, DEMO_PASSWORD)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("casetrail serve did not come up") from None
                time.sleep(0.5)
        listed = json.loads(web.request("GET", "/api/cases?status=open").body)
        case = str(listed["cases"][0]["id"])
        size = args.size_mb * 1024 * 1024
        web.upload(GeneratedVideo(4 * 1024 * 1024, seed=0).read, 4 * 1024 * 1024,  # warm-up: imports, first use
                   {"filename": "warm-up.mp4", "case": case}, chunk=1024 * 1024)
        result: dict[str, Any] = {"size_mb": args.size_mb, "chunk_mb": args.chunk_mb, "workers": args.workers,
                                  "database": "sqlite"}
        seed = int(time.time())
        for kind, chunk in (("chunked", args.chunk_mb * 1024 * 1024), ("whole", size)):
            watch = RssWatch(workers_of(server.pid))
            took, _ = upload(web, case, size, chunk, seed)
            seed += 1
            memory = watch.stop()
            result[f"{kind}_mb_per_s"] = round(size / took / 1e6, 1)
            result[f"{kind}_seconds"] = round(took, 2)
            result.update({f"{kind}_{k}": v for k, v in memory.items()})
        return result
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.keep and not args.data:
            print(f"data directory kept (pass --data to reuse it): {data}", file=sys.stderr)
        elif not args.data:
            shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--chunk-mb", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", help="a data directory seeded before (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded data directory (its path is printed)")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=None if args.json else 2, ensure_ascii=False))


if __name__ == "__main__":
    main()
