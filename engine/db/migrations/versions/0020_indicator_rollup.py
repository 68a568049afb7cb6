"""indicator rollup: the indicators' measures per agency and day and per agency and month, the moments of
cases changed since, and the rollup's state

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07

Issue 16 (Bench): a province's page summed a third of a million `case_figures` rows for a year; the rollup
holds the same sums per agency and local day (and month) for the days before the day the job last ran, which
`casetrail worker` keeps (engine/usecases/indicator_rollup.py). The tables start empty: the worker's first
round, or `casetrail indicators rebuild`, builds every day there is; until then the page reads all of it live.
The overdue steps per agency and step are counted from the tasks' index by agency and due time, which now
carries the step too (an index-only scan instead of a visit to every overdue task's row).
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# engine/db/indicator_tables.py COUNTS and FEN at the time of this migration.
COUNTS = ('received', 'complaints', 'handled', 'handled_on_time', 'feedback', 'substantiated_recorded',
          'substantiated', 'satisfaction_recorded', 'satisfied', 'closed', 'filed_cases', 'summary', 'general',
          'warnings', 'licences_revoked', 'suspended', 'to_publish', 'published_on_time')
FEN = ('fines_fen', 'penalties_fen')


def _measures() -> list[sa.Column]:
    return ([sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS]
            + [sa.Column(name, sa.BigInteger(), nullable=False) for name in FEN])


def upgrade() -> None:
    op.create_table('indicator_days',
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('agency_code', 'day')
    )
    op.create_index('ix_indicator_days_day', 'indicator_days', ['day', 'agency_code'], unique=False)
    op.create_table('indicator_months',
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    *_measures(),
    sa.PrimaryKeyConstraint('agency_code', 'month')
    )
    op.create_table('indicator_dirty',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_indicator_dirty_at', 'indicator_dirty', ['agency_code', 'at'], unique=False)
    op.drop_index('ix_tasks_agency_due', table_name='tasks')
    op.create_index('ix_tasks_agency_due', 'tasks', ['status', 'agency_code', 'sort_due', 'id', 'spec_id', 'name'],
                    unique=False)
    op.create_table('indicator_rollup',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('built_through', sa.Date(), nullable=True),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_index('ix_tasks_agency_due', table_name='tasks')
    op.create_index('ix_tasks_agency_due', 'tasks', ['status', 'agency_code', 'sort_due', 'id'], unique=False)
    op.drop_table('indicator_rollup')
    op.drop_index('ix_indicator_dirty_at', table_name='indicator_dirty')
    op.drop_table('indicator_dirty')
    op.drop_table('indicator_months')
    op.drop_index('ix_indicator_days_day', table_name='indicator_days')
    op.drop_table('indicator_days')
