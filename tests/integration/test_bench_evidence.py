"""bench/evidence.py's bundle half on a few small photos: the case is played to the step that takes files, the
photos are signed in its record, and the bundle is exported and verified (the bench stops with an error if it
does not verify), on SQLite and, when CASETRAIL_TEST_POSTGRES_URL is set, on PostgreSQL. The upload half starts
`casetrail serve` and sends a file to it: tests/web/test_uploads.py covers that path; here only its reading of
a forked process's memory, which the figures of docs/performance.md rest on."""

from __future__ import annotations

import os
import time

import pytest

from bench.evidence import measure_bundle, server_memory
from tests.dbtemplates import TEST_KDF_COST, TEST_PASSWORD_COST

BACKENDS = [None, *([os.environ["CASETRAIL_TEST_POSTGRES_URL"]] if os.environ.get("CASETRAIL_TEST_POSTGRES_URL")
                    else [])]


@pytest.mark.parametrize("url", BACKENDS, ids=lambda u: "postgresql" if u else "sqlite")
def test_the_bundle_with_photos_is_exported_verified_and_timed(url: str | None) -> None:
    result = measure_bundle(3, 400, url, kdf_cost=TEST_KDF_COST, password_cost=TEST_PASSWORD_COST)
    assert result["bundle_photos"] == 3 and result["bundle_photo_px"] == "400x300"
    assert result["bundle_db"] == ("postgresql" if url else "sqlite")
    # The bundle carries the photos themselves, not only their digests.
    assert result["bundle_mb"] >= result["bundle_photos_mb"] > 0
    for key in ("bundle_stage_s", "bundle_export_s", "bundle_verify_s", "bundle_library_verify_s"):
        assert result[key] >= 0


def test_a_forked_workers_memory_is_mostly_the_masters() -> None:
    # As gunicorn's preload does: the parent holds a large object, the child forks and touches nothing.
    ballast = bytearray(os.urandom(64 * 1024 * 1024))
    child = os.fork()
    if child == 0:
        time.sleep(30)
        os._exit(0)
    try:
        time.sleep(0.2)
        memory = server_memory(os.getpid())
        assert memory["server_worker_rss_mb"] > 64
        assert memory["server_worker_shared_mb"] > 64 > memory["server_worker_private_mb"]
        assert memory["server_master_rss_mb"] > 64
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)
        del ballast
