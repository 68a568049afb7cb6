"""What every use case needs besides its command: storage, law settings, calendar, loaded models.

Built once per process by `engine.startup.build_services`."""

from __future__ import annotations

import threading
from dataclasses import InitVar, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from engine.blobs import BlobStore, DirectoryStore
from engine.db.session import UnitOfWork
from engine.db.tables import DefinitionRow
from engine.errors import NotFound
from engine.keystore import PRODUCTION_KDF_COST, AgencyKeys, OfficerKek, ScryptCost
from engine.rules.deadlines import calendar_for
from engine.rules.settings import Settings
from engine.rules.workdays import WorkingCalendar
from engine.stored_calendar import CALENDAR_MAX_AGE, StoredCalendar
from engine.usecases.readcache import ReadCache

if TYPE_CHECKING:
    from engine.spiff.definitions import LoadedDefinition


@dataclass(frozen=True)
class PasswordCost:
    """argon2id cost of password hashes. The default, t=3, 64 MiB, p=4, is RFC 9106's second recommended
    option and argon2-cffi's own default: ~0.4 s per password on one core, paid on every login (and by a thief
    of the database per guess). Lower it only in tests."""

    time_cost: int = 3
    memory_cost: int = 65536  # KiB
    parallelism: int = 4

    def hasher(self) -> PasswordHasher:
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_cost, parallelism=self.parallelism)


PRODUCTION_PASSWORD_COST = PasswordCost()


@dataclass
class Services:
    uow: UnitOfWork
    settings: Settings
    # The agency's own keys (root CA, seal 电子印章, log): files in <data dir>/keys, or an HSM later.
    agency_keys: AgencyKeys
    # The key-encryption key officers' keys are wrapped under: <data dir>/keys/officer-kek.bin or the operator's
    # CASETRAIL_OFFICER_KEK (engine/keystore.py), never in the database.
    officer_kek: OfficerKek
    # Where this process keeps files beside the database ($CASETRAIL_DATA_DIR, resolved once at start).
    data_dir: Path
    # scrypt cost of officers' PIN-encrypted keys; paid on every signed step (docs/signatures.md).
    kdf_cost: ScryptCost = PRODUCTION_KDF_COST
    # argon2 cost of new password hashes (a stored hash carries its own cost, so any verifies).
    password_cost: PasswordCost = PRODUCTION_PASSWORD_COST
    passwords: PasswordHasher = field(init=False, repr=False)
    _definitions: dict[int, LoadedDefinition] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Seconds another process's working-day change may take to reach this one (engine/stored_calendar.py).
    calendar_max_age: float = CALENDAR_MAX_AGE
    calendar_store: StoredCalendar = field(init=False, repr=False)
    # Task pages, their counts and cases' workflow data while still exact (engine/usecases/readcache.py).
    reads: ReadCache = field(default_factory=ReadCache, repr=False)
    _key_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)
    # Where evidence files' bytes live, by SHA-256 (engine/blobs.py): `blob_store` as configured at start
    # (engine/startup.py), else <data dir>/blobs.
    blobs: BlobStore = field(init=False, repr=False)
    blob_store: InitVar[BlobStore | None] = None

    def __post_init__(self, blob_store: BlobStore | None) -> None:
        self.passwords = self.password_cost.hasher()
        self.blobs = blob_store if blob_store is not None else DirectoryStore(self.data_dir / "blobs")
        self.calendar_store = StoredCalendar(calendar_for(self.settings), max_age=self.calendar_max_age)

    def key_lock(self, fingerprint: str) -> threading.Lock:
        """Held while one officer key's PIN is tried, so this process tries it once at a time
        (engine/officer_keys.py: a wrong PIN is counted before the next try)."""
        with self._lock:
            return self._key_locks.setdefault(fingerprint, threading.Lock())

    @property
    def font_cache_dir(self) -> Path:
        """Where the 文书's subset fonts are cached between renderings (documents/fonts.py)."""
        return self.data_dir / "cache" / "fonts"

    @property
    def engine(self) -> Engine:
        return self.uow.engine

    @property
    def calendar(self) -> WorkingCalendar:
        """Working days: settings.json's overrides with the stored ones on top, including those another
        process stored up to `calendar_max_age` seconds ago."""
        return self.calendar_store.current(self.uow)

    def definition(self, session: Session, definition_id: int) -> LoadedDefinition:
        """The parsed model a case runs on, parsed once per process and version (sha256)."""
        cached = self._definitions.get(definition_id)
        if cached is not None:
            return cached
        from engine.spiff.definitions import load_definition

        row = session.get(DefinitionRow, definition_id)
        if row is None:
            raise NotFound(f"流程定义不存在 (no process definition {definition_id})")
        loaded = load_definition({f.name: f.content for f in row.files}, row.entry_process_id, stored=True)
        with self._lock:
            self._definitions[definition_id] = loaded
        return loaded

    def current_definition_id(self, session: Session) -> int:
        """The newest stored version: new cases start on it; running cases stay on theirs."""
        row_id = session.scalar(select(DefinitionRow.id).order_by(DefinitionRow.id.desc()).limit(1))
        if row_id is None:
            raise NotFound("尚未加载流程定义，请先运行 casetrail init (no process definition loaded: run init)")
        return row_id
