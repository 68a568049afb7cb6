"""Reads kept per process while they are still exact: each entry is used only at the version it was read
at and before the moment it stops being true.

- Task pages (engine/usecases/taskpage.py). Counting every open task a person may see is the task page's
  dearest query (a head sees every open head-lane task of the agency), and ordering them for a page the
  next. Both change only when (a) a task, an offer by name or a case changes in a way the person sees —
  every such transaction moves the versions of its audiences (engine/db/queue_tables.py) — or (b) time
  moves a visible task across a due-state boundary: a deadline passes (soon → overdue) or comes within
  `Settings.due_soon` (→ soon). An entry keeps the person's versions and the first moment (b) happens.
- A case's workflow data (engine/usecases/cases.py): restored from its state, which changes only with
  the case row's own version (SQLAlchemy's version counter).

So a kept value is the value a fresh read would give.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

MAX_ENTRIES = 1024  # counts per (person, role set), pages of 20 rows per (person, filters), case data: ~20 MB at most


@dataclass(frozen=True)
class Kept:
    version: Hashable  # the versions it was read at (engine/db/queue_tables.py; a case row's version)
    valid_until: dt.datetime  # the first moment it stops being true (a visible task changes due state)
    value: Any


class ReadCache:
    """Least-recently-used entries by key; safe to share between threads. `hits` and `misses` count
    lookups (tests and benchmarks read them)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[Hashable, Kept] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, *, version: Hashable, now: dt.datetime | None = None) -> Kept | None:
        """The entry kept under `key` if it was read at `version` and is still true at `now` (None: ever)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version or (now is not None and now >= entry.valid_until):
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry

    def put(self, key: Hashable, entry: Kept) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
