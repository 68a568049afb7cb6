"""indexes for per-case need-to-know: the cases a person takes part in

Revision ID: 0011
Revises: 0008 (the lead re-points this at the last migration when merging: 0009 and 0010 are on other branches)
Create Date: 2026-12-06

The case list shows a person only the cases they may see (engine/usecases/access.py `visible_cases`): those
they registered, hold or completed a task of, are named on, or are offered a task of by lane. Each part is
looked up from the person's side; without these three indexes two of them scanned every task and one every
case (about a second per list at 100,000 cases, bench/case_list.py).
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_opened_by', ['opened_by', 'id'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_assignee_case', ['assignee', 'case_id'], unique=False)
        batch_op.create_index('ix_tasks_completed_by_case', ['completed_by', 'case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_completed_by_case')
        batch_op.drop_index('ix_tasks_assignee_case')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_opened_by')
