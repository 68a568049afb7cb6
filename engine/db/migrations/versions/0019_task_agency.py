"""task agency: every task row carries its case's agency, for the lane queues and team views of one agency

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

Issue 16: a task offered to a lane is offered to that lane's people of the case's agency. The queues read
the task table alone, in deadline order, through an index (engine/usecases/tasks.py `_queue_ids`); filtering
them through the cases table would walk every agency's open tasks of a lane to find one agency's. So the task
row carries its case's agency (a case never changes agency: a transfer opens a new case at the receiving
agency), filled from the cases here, and indexed with the queue's own columns. Plain ADD COLUMN with the home
agency's code as server default, as 0017 did: no table rebuilt, a previous release's inserts land at home.
"""
import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

SETTINGS = Path(__file__).resolve().parents[4] / "workflows" / "settings.json"


def _home_code() -> str:
    return json.loads(SETTINGS.read_text(encoding="utf-8"))["agency"].get("code", "home")


def upgrade() -> None:
    op.add_column('tasks', sa.Column('agency_code', sa.String(length=32), nullable=False,
                                     server_default=_home_code()))
    op.execute("UPDATE tasks SET agency_code = (SELECT cases.agency_code FROM cases WHERE cases.id = tasks.case_id)")
    op.create_index('ix_tasks_agency_queue', 'tasks', ['status', 'agency_code', 'assignee', 'role', 'restricted',
                                                      'sort_due', 'created_at', 'id'], unique=False)
    op.create_index('ix_tasks_agency_due', 'tasks', ['status', 'agency_code', 'sort_due', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tasks_agency_due', table_name='tasks')
    op.drop_index('ix_tasks_agency_queue', table_name='tasks')
    op.drop_column('tasks', 'agency_code')
