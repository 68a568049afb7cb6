"""Directories built once per machine and kept between test runs, each under a key naming everything it was built
from (the declared dependencies, a fixed commit): a changed input is a new key, so a cache is never stale.

They live in the user's cache directory ($XDG_CACHE_HOME or ~/.cache, casetrail-tests/), not in the checkout, so
a fresh clone on the same machine (CI's) finds them too. Delete the folder to rebuild everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "casetrail-tests"


def key_of(*parts: object) -> str:
    """A short hash of what a cached directory was built from (JSON-encodable parts)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def cached_directory(name: str, build: Callable[[Path], None]) -> Path:
    """`cache_root()/name`, made by `build(empty_directory)` the first time. Built under a temporary name and renamed
    into place when complete, so a build that failed or was stopped leaves nothing that looks finished, and two
    processes building at once keep whichever finishes first."""
    done = cache_root() / name
    if done.is_dir():
        return done
    done.parent.mkdir(parents=True, exist_ok=True)
    partial = done.with_name(f"{name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        build(partial)
        try:
            partial.rename(done)
        except OSError:  # another process finished the same build first: it is the same content
            if not done.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return done
