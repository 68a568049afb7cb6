"""What an officer's PIN costs at each scrypt cost: one unlock (every signed step), and 10^6 guesses offline.

    python bench/pin_kdf.py [--json] [--runs 15] [--log2-n 14 13 12]

unlock_ms / unlock_cpu_ms: median wall and CPU time of opening an officer's key as a step does — unwrap the
envelope under the KEK (AES-256-GCM) and decrypt the PKCS#8 under the PIN (scrypt, r=8, p=1) — at N=2^k.
offline_core_hours_per_key: 10^6 PINs (six digits) × the CPU time of one unlock, for someone who holds both a
copy of the database and the officers' KEK (without the KEK there is nothing to guess against:
docs/signatures.md). load_average: the machine's 1-minute load when the run started (a shared machine makes
the wall time noisy; the CPU time less so).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from signatures.algorithms import generate_private_key  # noqa: E402
from signatures.keys import EncryptedKey, ScryptCost, encrypt_private_key  # noqa: E402
from signatures.keywrap import AesGcmKek, unwrap_key, wrap_key  # noqa: E402
from signatures.pki import issue_officer_certificate, make_root_ca  # noqa: E402

PIN = "123456"
PINS = 10**6


def measure(log2_n: int, runs: int) -> dict[str, float]:
    import datetime as dt

    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    ca = make_root_ca("bench", now=now, valid_for=dt.timedelta(days=365))
    key = generate_private_key()
    cert = issue_officer_certificate(ca, user_id="officer1", name="bench", public_key=key.public_key(), now=now,
                                     valid_for=dt.timedelta(days=365))
    kek = AesGcmKek.generate()
    blob = wrap_key(kek, encrypt_private_key(key, PIN, ScryptCost(n=2**log2_n, r=8, p=1)), user_id="officer1",
                    fingerprint="f" * 64)
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        pem = unwrap_key(kek, blob, user_id="officer1", fingerprint="f" * 64)
        EncryptedKey(pem, cert).unlock(PIN)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    cpu_ms = statistics.median(cpu) * 1000
    return {"log2_n": log2_n, "memory_mib": 128 * 8 * 2**log2_n / 2**20,
            "unlock_ms": round(statistics.median(wall) * 1000, 1), "unlock_cpu_ms": round(cpu_ms, 1),
            "offline_core_hours_per_key": round(PINS * cpu_ms / 1000 / 3600, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--log2-n", type=int, nargs="+", default=[14, 13, 12])
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = [measure(k, args.runs) for k in args.log2_n]
    if args.json:
        print(json.dumps({"load_average": load, "cpus": os.cpu_count(), "results": results}, indent=2))
        return
    print(f"load average {load:.2f} on {os.cpu_count()} CPUs")
    for r in results:
        print(f"N=2^{r['log2_n']:<3} {r['memory_mib']:>4.0f} MiB  unlock {r['unlock_ms']:>6.1f} ms wall "
              f"{r['unlock_cpu_ms']:>6.1f} ms CPU  10^6 PINs offline: {r['offline_core_hours_per_key']:.1f} core-hours")


if __name__ == "__main__":
    main()
