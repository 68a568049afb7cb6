"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from engine.rules.settings import load_settings
from engine.services import Services, build_services
from signatures.keys import ScryptCost

# Officers' keys in tests: a deliberately cheap scrypt cost (production: engine.keystore.PRODUCTION_KDF_COST).
TEST_KDF_COST = ScryptCost(n=2**10, r=8, p=1)

POSTGRES_URL = os.environ.get("CASETRAIL_TEST_POSTGRES_URL")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

DB_BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def _postgres_schema_url(schema: str) -> str:
    assert POSTGRES_URL
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=DB_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database URL for an empty database: a temp SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'casetrail.db'}"
        return
    schema = f"ct_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def svc(db_url: str, tmp_path) -> Iterator[Services]:
    services = build_services(db_url, settings=load_settings(), keys_dir=tmp_path / "agency-keys",
                              kdf_cost=TEST_KDF_COST)
    yield services
    services.engine.dispose()


def at(text_time: str) -> dt.datetime:
    """A Beijing-time moment from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text_time).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
