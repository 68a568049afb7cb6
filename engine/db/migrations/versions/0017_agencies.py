"""agencies: the platform's tree of agencies; every user and every case belongs to one

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Issue 16: a province on one system. The deployment's one agency until now (settings.json `agency`) becomes the
platform's home agency, the first row; every existing user and case is that agency's. The new columns default
to its code on the server too, so a server of the previous release still running during a live upgrade
(docs/deployment.md) inserts users and cases that land in the home agency, as they always did.
"""
import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# The deployment's settings as they are when this migration runs (not a model: the agency's identity is the
# deployment's own data). A file written before agencies had codes gets the code "home".
SETTINGS = Path(__file__).resolve().parents[4] / "workflows" / "settings.json"


def _home() -> dict:
    agency = json.loads(SETTINGS.read_text(encoding="utf-8"))["agency"]
    return {
        "code": agency.get("code", "home"), "name": agency["name"], "short": agency["short"],
        "parent_code": None, "level": agency.get("level", "city"),
        "case_number_prefix": agency["case_number_prefix"], "penalty_number_prefix": agency["penalty_number_prefix"],
        "review_agency": agency.get("review_agency", ""), "court": agency.get("court", ""), "settings": {},
        "active": True, "created_at": dt.datetime.now(dt.UTC),
    }


def upgrade() -> None:
    agencies = op.create_table('agencies',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('short', sa.String(length=20), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('case_number_prefix', sa.String(length=32), nullable=False),
    sa.Column('penalty_number_prefix', sa.String(length=32), nullable=False),
    sa.Column('review_agency', sa.String(length=100), nullable=False),
    sa.Column('court', sa.String(length=100), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['agencies.code'], ),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.create_index('ix_agencies_parent', ['parent_code', 'code'], unique=False)
    home = _home()
    op.bulk_insert(agencies, [home])
    # Plain ALTER TABLE ADD/DROP COLUMN, not a batch: on SQLite a batch rebuilds the table, and dropping the old
    # `cases` would cascade into every task and record (hence no foreign key on these columns either).
    for table in ('users', 'cases'):
        op.add_column(table, sa.Column('agency_code', sa.String(length=32), nullable=False,
                                       server_default=home["code"]))
    op.create_index('ix_users_agency', 'users', ['agency_code', 'id'], unique=False)
    op.create_index('ix_cases_agency', 'cases', ['agency_code', 'updated_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_cases_agency', table_name='cases')
    op.drop_index('ix_users_agency', table_name='users')
    for table in ('cases', 'users'):
        op.drop_column(table, 'agency_code')
    op.drop_table('agencies')
