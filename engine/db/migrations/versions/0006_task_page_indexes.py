"""indexes for the task page, the dashboard and the case list

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24

The task page counts every open task a person may see: the open-queue index carries what it filters,
sorts and counts by, so the group and assignee parts never read the task rows. It replaces the
group-queue index, whose columns are its prefix but for the assignee.
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN_QUEUE = ['status', 'assignee', 'role', 'restricted', 'sort_due', 'created_at', 'id', 'stage', 'case_id',
              'supervision']


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_group_queue')
        batch_op.create_index('ix_tasks_open_queue', OPEN_QUEUE, unique=False)
        batch_op.create_index('ix_tasks_open_due', ['status', 'sort_due'], unique=False)
        batch_op.create_index('ix_tasks_spec_done', ['spec_id', 'status', 'completed_at'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_id_violation', ['id', 'violation'], unique=False)
        batch_op.create_index('ix_cases_status_stage', ['status', 'stage'], unique=False)
        batch_op.create_index('ix_cases_status_updated', ['status', 'updated_at'], unique=False)
        batch_op.create_index('ix_cases_created', ['created_at'], unique=False)
        batch_op.create_index('ix_cases_list', ['updated_at', 'id', 'status', 'stage', 'number', 'respondent'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_list')
        batch_op.drop_index('ix_cases_created')
        batch_op.drop_index('ix_cases_status_updated')
        batch_op.drop_index('ix_cases_status_stage')
        batch_op.drop_index('ix_cases_id_violation')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_spec_done')
        batch_op.drop_index('ix_tasks_open_due')
        batch_op.drop_index('ix_tasks_open_queue')
        batch_op.create_index('ix_tasks_group_queue', ['status', 'role', 'restricted', 'sort_due', 'created_at'],
                              unique=False)
