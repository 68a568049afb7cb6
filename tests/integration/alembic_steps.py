"""Moving a test's database along its migrations (down to an earlier revision, up again) with Alembic itself."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from engine.db.session import MIGRATIONS_DIR
from engine.services import Services


def run_alembic(svc: Services, action: str, revision: str) -> None:
    """`alembic <action> <revision>` ("upgrade"/"downgrade") on the database of `svc`, in one transaction."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with svc.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, action)(cfg, revision)
