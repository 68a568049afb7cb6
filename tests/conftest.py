"""Shared fixtures: a database per test, on SQLite and (when configured) PostgreSQL, copied from a template
built once per session (tests/dbtemplates.py)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.services import Services
from tests.bytecode import pytest_configure  # noqa: F401  (hook: the product's bytecode compiled once)
from tests.cached import cache_root
from tests.dbtemplates import (
    KEYS_DIR,
    MIGRATED,
    TEST_KDF_COST,
    TEST_PASSWORD_COST,
    Template,
    Templates,
    open_services,
)
from tests.scheduling import (  # noqa: F401  (hooks: the slowest test files first)
    pytest_collection_modifyitems,
    pytest_runtest_logreport,
    pytest_sessionfinish,
)

__all__ = ["TEST_KDF_COST", "TEST_PASSWORD_COST", "at"]

POSTGRES_URL = os.environ.get("CASETRAIL_TEST_POSTGRES_URL")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

DB_BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def pytest_report_header(config: pytest.Config) -> str:
    # Said at the top of every run: without a PostgreSQL URL its half of the engine tests, the many-processes and
    # read-replica tests do not run, and a run that lost them must not read like one that had them.
    return (f"databases: {', '.join(DB_BACKENDS)}" if POSTGRES_URL else
            "databases: sqlite only (CASETRAIL_TEST_POSTGRES_URL unset: the PostgreSQL tests do not run)")


@pytest.fixture(scope="session")
def font_cache() -> Path:
    """One cache for the GB2312 subset font (documents/fonts.py), built once per machine, not per test or run
    (5–14 s): the file's name is the product's own key (the font file, its size and time, the character set's
    version), so a changed font or character set is a new file. Shared by pytest-xdist's workers and by runs
    (the font is written atomically)."""
    path = cache_root() / "fonts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def link_font_cache(data_dir: Path, font_cache: Path) -> None:
    """Let the engine's font cache in `data_dir` (data_dir/cache/fonts) be the session's."""
    (data_dir / "cache").mkdir(parents=True, exist_ok=True)
    (data_dir / "cache" / "fonts").symlink_to(font_cache, target_is_directory=True)


@pytest.fixture(scope="session", autouse=True)
def session_data_dir(tmp_path_factory: pytest.TempPathFactory, font_cache: Path) -> Iterator[Path]:
    """The engine's data directory ($CASETRAIL_DATA_DIR) while the tests run, with the session's font cache:
    nothing is written to ./instance. Tests that need a data directory of their own set it themselves."""
    path = tmp_path_factory.mktemp("data")
    link_font_cache(path, font_cache)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CASETRAIL_DATA_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    templates = Templates(tmp_path_factory.mktemp("db-templates"), POSTGRES_URL)
    yield templates
    templates.close()


@pytest.fixture(params=DB_BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_template() -> Template:
    """The state a test's database starts in; directories and modules override this to start further on."""
    return MIGRATED


@pytest.fixture
def db_url(db_templates: Templates, db_backend: str, db_template: Template, tmp_path: Path) -> Iterator[str]:
    """The URL of the test's own database: a copy of `db_template` (a SQLite file in tmp_path beside the
    agency keys in tmp_path/agency-keys, or a PostgreSQL database of its own)."""
    url = db_templates.copy(db_template, db_backend, tmp_path)
    yield url
    db_templates.release(url)


@pytest.fixture
def template_result(db_templates: Templates, db_backend: str, db_template: Template) -> object:
    """What building `db_template` returned (e.g. the case it played)."""
    return db_templates.built(db_template, db_backend).result


@pytest.fixture
def svc(db_url: str, tmp_path: Path) -> Iterator[Services]:
    services = open_services(db_url, tmp_path / KEYS_DIR)
    yield services
    services.engine.dispose()


def same_blob_store(svc: Services) -> dict[str, str]:
    """The environment that gives a `casetrail` process of its own data directory the test's evidence store: the
    parties' drawn signatures are files of the cases' steps (issue 14), which verify, dossiers and bundles read."""
    root = getattr(svc.blobs, "root", None)
    return {"CASETRAIL_BLOB_STORE": str(root)} if root is not None else {}


def at(text_time: str) -> dt.datetime:
    """A Beijing-time moment from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text_time).replace(tzinfo=SHANGHAI).astimezone(dt.UTC)
