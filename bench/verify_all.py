"""Benchmark the engine's signed steps: KDF unlock, per-completion cost, and `casetrail verify --all` throughput.

    python bench/verify_all.py --json [--cases 20] [--url sqlite:///... | postgresql+psycopg://...]

kdf_unlock_ms: one unlock of an officer key at the production scrypt cost (engine.keystore.PRODUCTION_KDF_COST).
completion_ms: mean wall time of one `complete_task` (authorise, validate, gates, unlock, workflow, task rows,
signed record, log append, commit) while playing whole cases, at the production cost and at a cheap cost;
their difference is what the PIN's key derivation costs per step.
verify_records_per_s: records per second of `verify_cases(all)` from the database (signatures, certificates,
chain, log inclusion, assignment, documents and the BPMN path replay), one process, over the cases played here:
each starts at a different moment, so no two share a path and every case is replayed (the cold rate).
bench/signatures.py measures `verify --all` over 10,000 cases.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._signed_population import measure_verify  # noqa: E402
from engine.demo import SCENARIOS, play  # noqa: E402
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN, DEMO_USERS, demo_certificate  # noqa: E402
from engine.keystore import PRODUCTION_KDF_COST  # noqa: E402
from engine.services import Services  # noqa: E402
from engine.startup import build_services  # noqa: E402
from engine.usecases.definitions import store_default_definition  # noqa: E402
from engine.usecases.users import add_user  # noqa: E402
from engine.values import (
    AddUser,
    fixed_clock,  # noqa: E402
)
from signatures.algorithms import generate_private_key  # noqa: E402
from signatures.keys import EncryptedKey, ScryptCost, encrypt_private_key  # noqa: E402
from signatures.pki import issue_officer_certificate, make_root_ca  # noqa: E402

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # fixed: the benchmark measures durations only
CHEAP = ScryptCost(n=2**10, r=8, p=1)


def kdf_unlock_ms(rounds: int = 7) -> float:
    ca = make_root_ca("bench", now=T0, valid_for=dt.timedelta(days=30))
    key = generate_private_key()
    cert = issue_officer_certificate(ca, user_id="u", name="u", public_key=key.public_key(), now=T0,
                                     valid_for=dt.timedelta(days=30))
    stored = EncryptedKey(encrypt_private_key(key, DEMO_PIN, PRODUCTION_KDF_COST), cert)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        stored.unlock(DEMO_PIN)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _services(url: str | None, workdir: Path, cost: ScryptCost) -> Services:
    svc = build_services(url or f"sqlite:///{workdir / 'bench.db'}", keys_dir=workdir / "keys", kdf_cost=cost)
    clock = fixed_clock(T0)
    store_default_definition(svc=svc, clock=clock)
    for user_id, name, roles, unit in DEMO_USERS:
        add_user(AddUser(user_id=user_id, name=name, password=DEMO_PASSWORD, roles=list(roles), unit=unit,
                         pin=DEMO_PIN, **demo_certificate(user_id)), svc=svc, clock=clock)
    return svc


def play_cases(svc: Services, cases: int) -> tuple[float, int]:
    """(mean ms per signed step incl. open_case, records written)."""
    steps, start = 0, time.perf_counter()
    for i in range(cases):
        played = play(svc, SCENARIOS["penalty_waiver"], start=T0 + dt.timedelta(days=7 + i))
        steps += played.steps + 1
    return (time.perf_counter() - start) * 1000 / steps, steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--url", default=None, help="database URL (default: a temp SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {"kdf_unlock_ms": round(kdf_unlock_ms(), 1),
                              "kdf_cost": {"n": PRODUCTION_KDF_COST.n, "r": PRODUCTION_KDF_COST.r,
                                           "p": PRODUCTION_KDF_COST.p}}
    with tempfile.TemporaryDirectory() as tmp:
        cheap_dir, prod_dir = Path(tmp) / "cheap", Path(tmp) / "prod"
        cheap_dir.mkdir()
        prod_dir.mkdir()
        if args.url is None:
            cheap = _services(None, cheap_dir, CHEAP)
            out["completion_ms_cheap_kdf"] = round(play_cases(cheap, max(2, args.cases // 4))[0], 1)
            cheap.engine.dispose()
        prod = _services(args.url, prod_dir, PRODUCTION_KDF_COST)
        per_step, records = play_cases(prod, args.cases)
        out["completion_ms"] = round(per_step, 1)
        run = measure_verify(prod, None, clock=fixed_clock(T0 + dt.timedelta(days=400)))
        assert run.all_valid and run.records == records, run.first_failures
        out.update({"cases": run.cases, "records": run.records, "verify_all_s": round(run.wall_s, 2),
                    "verify_records_per_s": round(run.records_per_s, 1),
                    "verify_records_per_cpu_s": round(run.records_per_cpu_s, 1), "replays": run.replays})
        prod.engine.dispose()
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
