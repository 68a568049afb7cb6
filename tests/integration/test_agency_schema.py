"""Migration 0017: the platform's agencies; the home agency from settings.json; every user and case in one."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from engine.db.session import migrate
from engine.db.tables import AgencyRow, Base, CaseRow, UserRow
from engine.services import Services
from tests.integration.alembic_steps import run_alembic


def test_the_migrated_schema_matches_the_agency_tables(svc: Services) -> None:
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if "agenc" in repr(d)] == []


def test_the_home_agency_is_the_settings_agency(svc: Services) -> None:
    home = svc.settings.agency
    with svc.uow.read() as session:
        row = session.get(AgencyRow, home.code)
        assert row is not None and session.scalar(select(AgencyRow.code).where(AgencyRow.code != home.code)) is None
    assert (row.name, row.short, row.case_number_prefix, row.penalty_number_prefix, row.parent_code, row.level) == (
        home.name, home.short, home.case_number_prefix, home.penalty_number_prefix, None, home.level)


@pytest.mark.parametrize("played", ["penalty_waiver"], indirect=True)
def test_existing_users_and_cases_land_in_the_home_agency_and_survive_a_down_and_up(ready_svc, played) -> None:
    """The upgrade of a populated database: the rows keep everything (no table rebuilt, nothing cascaded away)
    and belong to the home agency; a server of the previous release inserting without the column lands there too."""
    home = ready_svc.settings.agency.code
    with ready_svc.uow.read() as session:
        users = session.scalars(select(UserRow.id).order_by(UserRow.id)).all()
        steps = session.scalar(text("SELECT count(*) FROM step_records"))
    run_alembic(ready_svc, "downgrade", "0016")
    migrate(ready_svc.engine)
    with ready_svc.uow.read() as session:
        assert session.scalars(select(UserRow.id).order_by(UserRow.id)).all() == users
        assert session.scalar(text("SELECT count(*) FROM step_records")) == steps > 0
        assert set(session.scalars(select(UserRow.agency_code))) == {home}
        assert set(session.scalars(select(CaseRow.agency_code))) == {home}
    with ready_svc.engine.begin() as conn:  # the previous release's INSERT names no agency
        conn.execute(text("INSERT INTO users (id, name, password_hash, unit, active, created_at) "
                          "VALUES ('old-release', 'x', '!', '', :t, CURRENT_TIMESTAMP)"), {"t": True})
    with ready_svc.uow.read() as session:
        assert session.get(UserRow, "old-release").agency_code == home
