"""Alembic environment: runs on the connection the engine hands over, or on CASETRAIL_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from engine.db.schema import METADATA
from engine.db.session import make_engine

target_metadata = METADATA


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine()  # CASETRAIL_DATABASE_URL, refused when empty or incomplete
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
