"""Evidence benchmark (issue 14): a 1 GB recording sent to `casetrail serve` on loopback, and a bundle with 200
photos exported and verified. One command, one JSON object:

    python bench/evidence.py --json [--size-mb 1024] [--chunk-mb 16] [--workers 2] [--data DIR] [--keep]
                                    [--photos 200] [--side 3000] [--bundle-db URL]

Uploads (--size-mb 0 skips them). Seeds the demo into a fresh data directory and SQLite database (`casetrail demo
--seed-only`; --data DIR reuses one seeded before, e.g. by an earlier run with --keep), starts `casetrail serve
--workers N` on it, logs the demo officer in through the real /login form, and uploads --size-mb of generated
MP4 (made on the fly: no source file, each run's bytes distinct) to an open case of theirs, twice: in tus PATCHes
of --chunk-mb ("chunked", the browser widget's way) and as one PATCH of the whole file ("whole"). Each time runs
from the creation to the answer of the last PATCH, so it includes the server's staging of the finished file
(type, SHA-256, the copy into the blob store). Prints MB/s (10^6 bytes/s).

The server's memory. Meanwhile the RSS of the server's workers is read from /proc every 20 ms; each worker's peak
is reset (/proc/PID/clear_refs) before each upload. `{kind}_worker_peak_rss_mb` is the absolute peak of the
worker that peaked highest, `{kind}_worker_rss_before_mb` what that worker held just before the upload and
`{kind}_worker_rss_rise_mb` the difference; `{kind}_largest_rise_mb` the largest rise of any worker (the PATCHes
spread over the workers). A worker's RSS counts the pages it shares with the master, which builds the app before
the workers fork (gunicorn's preload): `server_*` gives, before any request, the master's RSS, a worker's RSS and
how much of that the worker shares (/proc/PID/smaps_rollup: Shared_*) and holds privately (Private_*).

The bundle (--photos 0 skips it). A case of the penalty_waiver scenario is played through the engine to the first
step that takes files, `--photos` JPEG photos made with Pillow (`--side` pixels on the long side, 4:3, with noise
so that they compress like camera photos, EXIF time and GPS) are staged for that step with `stage_evidence`, and
the step is signed: its record lists them all. Then, each from a file on disk, as `casetrail export` and `casetrail
verify-bundle` run: `bundle_export_s` (`export_case_to`: records, proofs, documents, every photo streamed from the
blob store into the zip, hashed on the way), `bundle_verify_s` (`verify_bundle_file`: every member read once, each
photo re-hashed and compared with its signed digest, signatures, chain, log proofs, the BPMN replay),
`bundle_library_verify_s` (the signatures library alone, `python -m signatures verify`: no replay),
`bundle_verify_mb_per_s` (the bundle's bytes over bundle_verify_s), `bench_peak_rss_mb` (of this process: Pillow
making the photos included; no photo is held whole in memory by the bundle code).

The receiver. Each upload is made a second time through `casetrail receiver` (web/receiver.py) before the same
server, as nginx routes a deployment's uploads (the client sends the PATCHes to the receiver, everything else to
the app): `receiver_{kind}_mb_per_s`, `receiver_{kind}_peak_rss_mb` (the highest RSS of the receiver's processes,
master and worker, during the upload: absolute), `receiver_{kind}_rss_rise_mb`, and what the app's workers did
meanwhile (they stage the finished file: type, hash, the blob store's copy): `receiver_{kind}_app_worker_*`.
`receiver_rss_mb`: the receiver's largest process before any request.

`load_avg_start` / `load_avg_end`: the 1-minute load average. Timings are wall clock on a shared machine: compare
runs made under the same load.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
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


def accepts(port: int) -> bool:
    """The server takes connections (a connection opened and closed: no request that a worker would serve)."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def shared_and_private_kib(pid: int) -> tuple[int, int]:
    """What of the process's RSS it shares with others (here: the master it forked from) and what it alone holds."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, value = line.partition(":")
        fields[name] = int(value.split()[0])
    return (fields["Shared_Clean"] + fields["Shared_Dirty"], fields["Private_Clean"] + fields["Private_Dirty"])


def workers_of(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def mb(kib: int) -> float:
    return round(kib / 1024, 1)


def server_memory(master: int) -> dict[str, float]:
    """The server's memory before any request: the master's RSS, and the largest worker's RSS split into what
    it shares (the app the master built before the fork) and what it holds alone."""
    worker = max(workers_of(master), key=lambda pid: status_kib(pid, "VmRSS"))
    shared, private = shared_and_private_kib(worker)
    return {"server_master_rss_mb": mb(status_kib(master, "VmRSS")),
            "server_worker_rss_mb": mb(status_kib(worker, "VmRSS")),
            "server_worker_shared_mb": mb(shared), "server_worker_private_mb": mb(private)}


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
        # One worker's three figures (peak = before + rise), and the largest rise, which may be another worker's.
        highest = max(self.pids, key=lambda p: peaks[p])
        return {"worker_peak_rss_mb": mb(peaks[highest]), "worker_rss_before_mb": mb(self.before[highest]),
                "worker_rss_rise_mb": mb(peaks[highest] - self.before[highest]),
                "largest_rise_mb": mb(max(peaks[p] - self.before[p] for p in self.pids))}


def upload(web: WebSession, case: str, size: int, chunk: int, seed: int) -> tuple[float, str]:
    video = GeneratedVideo(size, seed=seed)
    began = time.perf_counter()
    _, last = web.upload(video.read, size, {"filename": f"bench-{seed}.mp4", "case": case}, chunk=chunk)
    took = time.perf_counter() - began
    if last.status != 204 or last.header("X-Evidence-Sha256") != video.sha256:
        raise SystemExit(f"upload failed: {last.status} {last.body[:300]!r}")
    return took, video.sha256


def measure_uploads(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="casetrail-bench-evidence-"))
    environment = {**os.environ, "CASETRAIL_DATA_DIR": str(data),
                   "CASETRAIL_DATABASE_URL": f"sqlite:///{data / 'bench.sqlite'}",
                   "CASETRAIL_SECRET_KEY": "bench-evidence", "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    if not (data / "bench.sqlite").exists():
        subprocess.run([sys.executable, "-m", "web.cli", "demo", "--seed-only"], cwd=ROOT, env=environment,
                       check=True, stdout=subprocess.DEVNULL)
    port, receiver_port = free_port(), free_port()
    server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), "--workers",
                               str(args.workers)], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    receiver = subprocess.Popen([sys.executable, "-m", "web.cli", "receiver", "--port", str(receiver_port),
                                 "--app-url", f"http://127.0.0.1:{port}"], cwd=ROOT, env=environment,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(workers_of(server.pid)) < args.workers or not accepts(port) or not accepts(receiver_port):
            if time.monotonic() > deadline or server.poll() is not None or receiver.poll() is not None:
                raise SystemExit("casetrail serve or casetrail receiver did not come up")
            time.sleep(0.5)
        idle = server_memory(server.pid)  # every worker forked, none has served a request yet
        receiving = [receiver.pid, *workers_of(receiver.pid)]  # `casetrail receiver` execs: the same pid
        idle["receiver_rss_mb"] = mb(max(status_kib(pid, "VmRSS") for pid in receiving))
        web = WebSession(f"http://127.0.0.1:{port}")
        web.log_in(DEMO_OFFICER, DEMO_PASSWORD)
        listed = json.loads(web.request("GET", "/api/cases?status=open").body)
        case = str(listed["cases"][0]["id"])
        size = args.size_mb * 1024 * 1024
        web.upload(GeneratedVideo(4 * 1024 * 1024, seed=0).read, 4 * 1024 * 1024,  # warm-up: imports, first use
                   {"filename": "warm-up.mp4", "case": case}, chunk=1024 * 1024)
        result: dict[str, Any] = {"size_mb": args.size_mb, "chunk_mb": args.chunk_mb, "workers": args.workers,
                                  "database": "sqlite", **idle}
        seed = int(time.time())
        for kind, chunk in (("chunked", args.chunk_mb * 1024 * 1024), ("whole", size)):
            # Through the app's own workers (`casetrail serve` alone, as the demo runs).
            watch = RssWatch(workers_of(server.pid))
            took, _ = upload(web, case, size, chunk, seed)
            seed += 1
            memory = watch.stop()
            result[f"{kind}_mb_per_s"] = round(size / took / 1e6, 1)
            result[f"{kind}_seconds"] = round(took, 2)
            result.update({f"{kind}_{k}": v for k, v in memory.items()})
            # Through the receiver (as nginx routes a deployment's uploads): the bytes never enter the app.
            web.receiver = f"http://127.0.0.1:{receiver_port}"
            watch, app_watch = RssWatch(receiving), RssWatch(workers_of(server.pid))
            took, _ = upload(web, case, size, chunk, seed)
            seed += 1
            memory, app_memory = watch.stop(), app_watch.stop()
            web.receiver = None
            result[f"receiver_{kind}_mb_per_s"] = round(size / took / 1e6, 1)
            result[f"receiver_{kind}_seconds"] = round(took, 2)
            result[f"receiver_{kind}_peak_rss_mb"] = memory["worker_peak_rss_mb"]
            result[f"receiver_{kind}_rss_rise_mb"] = memory["largest_rise_mb"]
            result[f"receiver_{kind}_app_worker_peak_rss_mb"] = app_memory["worker_peak_rss_mb"]
            result[f"receiver_{kind}_app_worker_rise_mb"] = app_memory["largest_rise_mb"]
        return result
    finally:
        for process in (receiver, server):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if args.keep and not args.data:
            print(f"data directory kept (pass --data to reuse it): {data}", file=sys.stderr)
        elif not args.data:
            shutil.rmtree(data, ignore_errors=True)


BEIJING = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING)
FORMS = ROOT / "workflows" / "forms"


def first_evidence_step(scenario: Any) -> int:
    """The scenario's first step after the opening whose form takes files (its schema says so: `x-evidence`)."""
    for index, step in enumerate(scenario.steps[1:], start=1):
        schema = FORMS / f"{step.spec_id}.schema.json"
        if schema.exists() and "x-evidence" in json.loads(schema.read_text(encoding="utf-8")):
            return index
    raise SystemExit("no step of the scenario takes files")


def make_photo(path: Path, index: int, side: int) -> Path:
    """A 4:3 JPEG with noise (so it compresses like a camera photo) and the EXIF time and GPS a phone writes."""
    from PIL import Image

    from engine.demo_files import demo_photo

    size = (side, side * 3 // 4)
    demo_photo(path, taken=START + dt.timedelta(minutes=index), lat=31.2 + index / 1e4, lon=121.4,
               label=f"photo {index}", size=size)
    with Image.open(path) as drawn:
        exif = drawn.getexif()
        photo = Image.blend(drawn.convert("RGB"), Image.effect_noise(size, 24 + index % 16).convert("RGB"), 0.35)
    photo.save(path, "JPEG", quality=88, exif=exif)
    return path


def measure_bundle(photos: int, side: int, db: str | None = None, **options: Any) -> dict[str, Any]:
    """Export and verify the bundle of a case whose step took `photos` photos (the module's docstring);
    `options`: for build_services (a smoke test gives the tests' cheap key and password costs)."""
    # In this process, and only here: the upload half needs none of the engine.
    from bench._population import prepare_database
    from engine import demo
    from engine.blobs import DirectoryStore
    from engine.seed import seed_users
    from engine.spiff.clocks import MutableClock
    from engine.startup import build_services
    from engine.usecases.audit import export_case_to, verify_bundle_file
    from engine.usecases.definitions import store_default_definition
    from engine.usecases.evidence import stage_evidence
    from engine.usecases.tasks import list_tasks
    from engine.values import StageEvidence, fixed_clock
    from signatures.bundle import verify_bundle
    from signatures.pki import certificate_pem

    url, cleanup = prepare_database(db)
    work = Path(tempfile.mkdtemp(prefix="casetrail-bench-bundle-"))
    try:
        svc = build_services(url, data_dir=work / "data", blobs=DirectoryStore(work / "data" / "blobs"), **options)
        clock = fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING))
        store_default_definition(svc=svc, clock=clock)
        seed_users(svc, clock)
        scenario = demo.SCENARIOS["penalty_waiver"]
        index = first_evidence_step(scenario)
        number = demo.play(svc, scenario, start=START, stop_before=index).case.number
        task = next(t for t in list_tasks(svc, case=number) if t.spec_id == scenario.steps[index].spec_id)
        actor = task.assignee or DEMO_OFFICER
        began = time.perf_counter()
        made = [make_photo(work / f"IMG_{i:04d}.jpg", i, side) for i in range(photos)]
        make_s = time.perf_counter() - began
        began = time.perf_counter()
        for photo in made:
            stage_evidence(StageEvidence(number, actor, photo.name, photo, task.id), svc=svc,
                           clock=fixed_clock(START + dt.timedelta(days=1)))
        stage_s = time.perf_counter() - began
        demo.play_step(svc, number, scenario.steps[index], MutableClock(START + dt.timedelta(days=2)))
        later = fixed_clock(START + dt.timedelta(days=30))
        bundle = work / "case.zip"
        began = time.perf_counter()
        with bundle.open("wb") as target:
            export_case_to(svc, number, target, clock=later)
        export_s = time.perf_counter() - began
        root = certificate_pem(svc.agency_keys.certificates()["root"])
        began = time.perf_counter()
        with bundle.open("rb") as source:
            report = verify_bundle_file(source, root)
        verify_s = time.perf_counter() - began
        began = time.perf_counter()
        with bundle.open("rb") as source:
            library = verify_bundle(source, root)
        library_s = time.perf_counter() - began
        if not (report.ok and library.ok):
            raise SystemExit(f"the bundle does not verify:\n{report.to_text()}")
        size = bundle.stat().st_size
        return {
            "bundle_db": url.split(":", 1)[0].split("+")[0],
            "bundle_photos": photos,
            "bundle_photo_px": f"{side}x{side * 3 // 4}",
            "bundle_photos_mb": round(sum(p.stat().st_size for p in made) / 1e6, 1),
            "bundle_mb": round(size / 1e6, 1),
            "bundle_make_photos_s": round(make_s, 2),
            "bundle_stage_s": round(stage_s, 2),
            "bundle_export_s": round(export_s, 2),
            "bundle_verify_s": round(verify_s, 2),
            "bundle_verify_mb_per_s": round(size / 1e6 / verify_s, 1),
            "bundle_library_verify_s": round(library_s, 2),
        }
    finally:
        cleanup()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the result as one line of JSON")
    parser.add_argument("--size-mb", type=int, default=1024, help="the upload's size in MiB (0: no uploads)")
    parser.add_argument("--chunk-mb", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", help="a data directory seeded before (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the seeded data directory (its path is printed)")
    parser.add_argument("--photos", type=int, default=200, help="photos in the bundle (0: no bundle)")
    parser.add_argument("--side", type=int, default=3000, help="pixels on a photo's long side")
    parser.add_argument("--bundle-db", default=None, help="database URL for the bundle (default: a temporary "
                        "SQLite file)")
    args = parser.parse_args()
    result: dict[str, Any] = {"load_avg_start": round(os.getloadavg()[0], 2)}
    if args.size_mb > 0:
        result.update(measure_uploads(args))
    if args.photos > 0:
        result.update(measure_bundle(args.photos, args.side, args.bundle_db))
    result["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["load_avg_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=None if args.json else 2, ensure_ascii=False))


if __name__ == "__main__":
    main()
