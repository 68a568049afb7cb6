"""Test databases built once per session and copied for each test.

Migrating, adding users (with their signing keys) and playing cases through the engine — every step a rendered
and signed 文书 — is most of a test's set-up. A `Template` names such a state as a chain of build steps from the
migrated empty database. The first test that starts from it builds it (once per backend and session, and per
pytest-xdist worker); every test then gets its own copy, so tests stay isolated and may write:

- SQLite: the database file and the agency key directory are copied into the test's tmp_path;
- PostgreSQL: the template is a schema of the test database, copied into a schema of the test's own
  (tests/pgclone.py says why not `CREATE DATABASE … TEMPLATE`), dropped after the test on a background thread.

The agency keys travel with the database: the certificates in it are issued by those keys.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from engine.rules.settings import load_settings
from engine.services import PasswordCost, Services
from engine.startup import build_services
from signatures.keys import ScryptCost
from tests.pgclone import clone_schema, clone_script

# Officers' keys in tests: a deliberately cheap scrypt cost (production: engine.keystore.PRODUCTION_KDF_COST).
TEST_KDF_COST = ScryptCost(n=2**10, r=8, p=1)
# Passwords in tests: argon2id at its smallest cost (production: engine.services.PRODUCTION_PASSWORD_COST,
# ~0.4 s a hash, which made adding a dozen users the largest part of a test's set-up).
TEST_PASSWORD_COST = PasswordCost(time_cost=1, memory_cost=8, parallelism=1)

SQLITE_FILE = "casetrail.db"
KEYS_DIR = "agency-keys"


def open_services(url: str, keys_dir: Path, *, upgrade: bool = False, **options: Any) -> Services:
    """Services over `url` with the agency keys in `keys_dir`, at the tests' KDF and password costs."""
    return build_services(url, settings=load_settings(), keys_dir=keys_dir, kdf_cost=TEST_KDF_COST,
                          password_cost=TEST_PASSWORD_COST, upgrade=upgrade, **options)


@dataclass(frozen=True, eq=False)
class Template:
    """A database state: `parent`'s (or the migrated empty database), then `build` run on its Services.

    What `build` returns is kept for the tests that start from the template (e.g. the case it played).
    Templates are compared by identity: define each once, at module level.
    """

    name: str
    build: Callable[[Services], Any] | None = None
    parent: Template | None = None

    def then(self, name: str, build: Callable[[Services], Any]) -> Template:
        return Template(f"{self.name} + {name}", build, self)

    def chain(self) -> list[Template]:
        """This template and every one it builds on."""
        return [self, *(self.parent.chain() if self.parent else [])]


MIGRATED = Template("migrated")


def starting_point(request: pytest.FixtureRequest, default: Template, **by_fixture: Template) -> Template:
    """For a `db_template` fixture: the template of the fixtures named in `by_fixture` that the test uses
    (directly or through other fixtures), else `default`. They must lie on one chain; the furthest is taken."""
    used = [default, *(t for name, t in by_fixture.items() if name in request.fixturenames)]
    furthest = max(used, key=lambda t: len(t.chain()))
    strays = [t.name for t in used if t not in furthest.chain()]
    assert not strays, f"{request.node.nodeid}: fixtures start from different databases: {furthest.name} / {strays}"
    return furthest


@dataclass(frozen=True)
class _Built:
    root: Path  # the SQLite file (sqlite) and the agency keys
    schema: str | None  # PostgreSQL: the template's schema
    result: Any


class Templates:
    """The session's built templates, by backend; copies them for tests and drops the PostgreSQL copies."""

    def __init__(self, root: Path, postgres_url: str | None) -> None:
        self._root = root
        self._postgres_url = postgres_url
        self._admin: Engine | None = None
        self._built: dict[tuple[str, Template], _Built] = {}
        self._scripts: dict[str, str] = {}  # template schema -> the SQL that copies it
        self._dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-test-schema")
        self._drops: list[Future[None]] = []

    # --- PostgreSQL: a schema per template and per test ------------------------------------------------------
    def _server(self) -> Engine:
        if self._admin is None:
            assert self._postgres_url, "PostgreSQL tests need CASETRAIL_TEST_POSTGRES_URL"
            self._admin = create_engine(self._postgres_url)
        return self._admin

    def _schema_url(self, schema: str) -> str:
        assert self._postgres_url
        sep = "&" if "?" in self._postgres_url else "?"
        return f"{self._postgres_url}{sep}options=-csearch_path%3D{schema}"

    def _new_schema(self, prefix: str, source: str | None) -> str:
        """An empty schema, or a copy of template schema `source`."""
        name = f"{prefix}_{uuid.uuid4().hex[:16]}"
        with self._server().begin() as conn:
            if source is None:
                conn.execute(text(f'CREATE SCHEMA "{name}"'))
            else:
                if source not in self._scripts:
                    self._scripts[source] = clone_script(conn, source)
                clone_schema(conn, self._scripts[source], name)
        return name

    def _drop_schema(self, name: str) -> None:
        with self._server().begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    # --- building and copying --------------------------------------------------------------------------------
    def _url(self, backend: str, root: Path, schema: str | None) -> str:
        return f"sqlite:///{root / SQLITE_FILE}" if backend == "sqlite" else self._schema_url(schema or "")

    def _copy_files(self, source: Path, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        if (source / SQLITE_FILE).exists():
            shutil.copyfile(source / SQLITE_FILE, target / SQLITE_FILE)
        if (source / KEYS_DIR).exists():
            shutil.copytree(source / KEYS_DIR, target / KEYS_DIR)  # modes too: private keys stay 0600

    def built(self, template: Template, backend: str) -> _Built:
        key = (backend, template)
        if key not in self._built:
            self._built[key] = self._build(template, backend)
        return self._built[key]

    def _build(self, template: Template, backend: str) -> _Built:
        root = self._root / f"{backend}-{uuid.uuid4().hex[:12]}"
        schema = None
        if template.parent is None:  # the migrated empty database
            root.mkdir(parents=True)
            if backend == "postgres":
                schema = self._new_schema("ctt", None)
            upgrade = True
        else:
            parent = self.built(template.parent, backend)
            self._copy_files(parent.root, root)
            if backend == "postgres":
                schema = self._new_schema("ctt", parent.schema)
            upgrade = False
        try:
            svc = open_services(self._url(backend, root, schema), root / KEYS_DIR, upgrade=upgrade)
            try:
                result = template.build(svc) if template.build else None
            finally:
                svc.engine.dispose()
        except BaseException:
            if schema:  # a failed build leaves nothing behind; the next test that needs it tries again
                self._drop_schema(schema)
            raise
        if backend == "sqlite":  # everything into the main file: only that is copied
            with contextlib.closing(sqlite3.connect(root / SQLITE_FILE)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return _Built(root, schema, result)

    def results(self, template: Template, backend: str) -> list[Any]:
        """What each build step of `template`'s chain returned, the first step's first."""
        return [self.built(t, backend).result for t in reversed(template.chain())]

    def copy(self, template: Template, backend: str, into: Path) -> str:
        """A copy of `template` for one test: files into `into`; returns the copy's database URL."""
        built = self.built(template, backend)
        self._copy_files(built.root, into)
        schema = self._new_schema("ct", built.schema) if backend == "postgres" else None
        return self._url(backend, into, schema)

    def release(self, url: str) -> None:
        """The test is done with its copy: a PostgreSQL copy is dropped in the background."""
        if url.startswith("postgresql"):
            schema = url.rsplit("search_path%3D", 1)[1]
            self._drops.append(self._dropper.submit(self._drop_schema, schema))

    def close(self) -> None:
        self._dropper.shutdown(wait=True)
        for drop in self._drops:
            drop.result()  # a failed drop is reported, not hidden
        for built in self._built.values():
            if built.schema:
                self._drop_schema(built.schema)
        if self._admin is not None:
            self._admin.dispose()
