"""Starting the engine in a process: the one place that builds `Services` from the database URL, the data
directory and the province settings (every command, the web app's start, the timer worker)."""

from __future__ import annotations

import gc
import os
from pathlib import Path

from engine.blobs import BlobStore, blob_store_from
from engine.db.session import REPLICA_CONNECT_TIMEOUT_S, UnitOfWork, make_engine, migrate
from engine.db.session import data_dir as data_dir_from_environment
from engine.keystore import (
    PRODUCTION_KDF_COST,
    AgencyKeys,
    FileAgencyKeys,
    OfficerKek,
    ScryptCost,
    officer_kek_source,
)
from engine.officer_keys import prepare_officer_keys
from engine.rules.settings import Settings, load_settings
from engine.services import PRODUCTION_PASSWORD_COST, PasswordCost, Services
from engine.stored_calendar import CALENDAR_MAX_AGE


def build_services(url: str | None = None, *, settings: Settings | None = None, upgrade: bool = True,
                   keys_dir: Path | None = None, data_dir: Path | None = None, agency_keys: AgencyKeys | None = None,
                   officer_kek: OfficerKek | None = None, kdf_cost: ScryptCost = PRODUCTION_KDF_COST,
                   password_cost: PasswordCost = PRODUCTION_PASSWORD_COST,
                   calendar_max_age: float = CALENDAR_MAX_AGE, blobs: BlobStore | None = None,
                   replica_url: str | None = None) -> Services:
    """Storage, law settings and keys. `kdf_cost` and `password_cost` below the production defaults are for
    tests only.

    With `upgrade` (every command and server start): migrations, then the agency keys are opened (a wrong or
    missing agency KEK is a ConfigurationError here; keys still stored unencrypted are warned about on stderr),
    the officers' key-encryption key is checked against the stored keys (likewise) and keys stored before
    wrapping are wrapped (engine/officer_keys.py).

    Evidence files go to `blobs`, else to the store CASETRAIL_BLOB_STORE names (`s3://bucket/prefix` with
    CASETRAIL_S3_ENDPOINT and CASETRAIL_S3_REGION for an S3-compatible store, or a directory), else to
    <data dir>/blobs.

    `replica_url`: a read replica for the pages that tolerate lag (`UnitOfWork.read(lagging=True)`); `casetrail
    serve` passes --replica-url / CASETRAIL_DATABASE_REPLICA_URL. Nothing else reads a replica."""
    engine = make_engine(url)
    if upgrade:
        migrate(engine)
    settings = settings or load_settings()
    data_dir = data_dir or data_dir_from_environment()
    keys_dir = keys_dir or data_dir / "keys"
    keys = agency_keys or FileAgencyKeys(keys_dir)
    if blobs is None:
        blobs = configured_blob_store(data_dir)
    replica = make_engine(replica_url, connect_timeout=REPLICA_CONNECT_TIMEOUT_S) if replica_url else None
    svc = Services(uow=UnitOfWork(engine, replica), settings=settings, agency_keys=keys, data_dir=data_dir,
                   officer_kek=officer_kek or officer_kek_source(keys_dir), kdf_cost=kdf_cost,
                   password_cost=password_cost, calendar_max_age=calendar_max_age, blob_store=blobs)
    if upgrade:
        try:
            keys.check()
            prepare_officer_keys(svc)
        except BaseException:
            svc.uow.dispose()
            raise
    return svc


def configured_blob_store(data_dir: Path) -> BlobStore:
    """The evidence store the environment names (CASETRAIL_BLOB_STORE, CASETRAIL_S3_ENDPOINT,
    CASETRAIL_S3_REGION), else <data dir>/blobs: for `build_services`, and for `casetrail restore`, which fills
    it before the database can start services."""
    return blob_store_from(os.environ.get("CASETRAIL_BLOB_STORE"), data_dir=data_dir,
                           endpoint=os.environ.get("CASETRAIL_S3_ENDPOINT"),
                           region=os.environ.get("CASETRAIL_S3_REGION"))


def settle_heap() -> None:
    """Put what a long-running process built at start — parsed models, templates, fonts, SQLAlchemy's mappers and
    statement caches — out of the cyclic collector's way: it lives as long as the process, yet every full
    collection walked all of it, charged to whichever step happened to allocate then (a fifth of a step's engine
    time in bench/engine.py). `gc.freeze` after a collection, as CPython advises before a fork: the forked
    workers' collections then also leave the shared pages alone (fewer copied on write)."""
    gc.collect()
    gc.freeze()
