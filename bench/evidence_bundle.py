"""Benchmark the evidence bundle with photos: export it, and verify it offline as an auditor does (issue 14).

    python bench/evidence_bundle.py --json [--photos 200] [--side 3000] [--db URL]

A case of the penalty_waiver scenario is played through the engine to 现场检查, `--photos` JPEG photos made with
Pillow (`--side` pixels on the long side, 4:3, with noise so that they compress like camera photos, EXIF time
and GPS) are staged for that step with `stage_evidence`, and the step is signed: its record lists them all.
Then, each from a file on disk, as `casetrail export` and `casetrail verify-bundle` run:

export_s: `export_case_to` — the records, proofs, documents, and every photo streamed from the blob store into
the zip, hashed on the way. verify_s: `verify_bundle_file` — every member read once, each photo re-hashed and
compared with its signed digest, signatures, chain, log proofs, the BPMN replay. library_verify_s: the
signatures library alone (`python -m signatures verify`: no replay). verify_mb_per_s: the bundle's bytes over
verify_s. peak_rss_mb: of this process at the end (bounded: no photo is held whole in memory by the bundle
code). Timings are wall clock on a shared machine: compare runs made under the same load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._population import prepare_database  # noqa: E402
from engine import demo  # noqa: E402
from engine.blobs import DirectoryStore  # noqa: E402
from engine.seed import seed_users  # noqa: E402
from engine.spiff.clocks import MutableClock  # noqa: E402
from engine.startup import build_services  # noqa: E402
from engine.usecases.audit import export_case_to, verify_bundle_file  # noqa: E402
from engine.usecases.definitions import store_default_definition  # noqa: E402
from engine.usecases.evidence import stage_evidence  # noqa: E402
from engine.usecases.tasks import list_tasks  # noqa: E402
from engine.values import StageEvidence, fixed_clock  # noqa: E402
from signatures.bundle import verify_bundle  # noqa: E402
from signatures.pki import certificate_pem  # noqa: E402

BEIJING = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 9, 14, 9, tzinfo=BEIJING)
FORMS = Path(__file__).resolve().parents[1] / "workflows" / "forms"


def first_evidence_step(scenario: demo.Scenario) -> int:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--side", type=int, default=3000, help="pixels on a photo's long side")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    url, cleanup = prepare_database(args.db)
    work = Path(tempfile.mkdtemp(prefix="casetrail-bench-bundle-"))
    try:
        svc = build_services(url, data_dir=work / "data", blobs=DirectoryStore(work / "data" / "blobs"))
        clock = fixed_clock(dt.datetime(2026, 9, 1, 8, tzinfo=BEIJING))
        store_default_definition(svc=svc, clock=clock)
        seed_users(svc, clock)
        scenario = demo.SCENARIOS["penalty_waiver"]
        index = first_evidence_step(scenario)
        number = demo.play(svc, scenario, start=START, stop_before=index).case.number
        task = next(t for t in list_tasks(svc, case=number) if t.spec_id == scenario.steps[index].spec_id)
        actor = task.assignee or "officer1"
        began = time.perf_counter()
        photos = [make_photo(work / f"IMG_{i:04d}.jpg", i, args.side) for i in range(args.photos)]
        make_s = time.perf_counter() - began
        began = time.perf_counter()
        for photo in photos:
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
        result = {
            "db": url.split(":", 1)[0].split("+")[0],
            "photos": args.photos,
            "photo_px": f"{args.side}x{args.side * 3 // 4}",
            "photos_mb": round(sum(p.stat().st_size for p in photos) / 1e6, 1),
            "bundle_mb": round(size / 1e6, 1),
            "make_photos_s": round(make_s, 2),
            "stage_s": round(stage_s, 2),
            "export_s": round(export_s, 2),
            "verify_s": round(verify_s, 2),
            "verify_mb_per_s": round(size / 1e6 / verify_s, 1),
            "library_verify_s": round(library_s, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    finally:
        cleanup()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


if __name__ == "__main__":
    main()
