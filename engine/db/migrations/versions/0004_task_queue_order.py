"""task queues ordered by a non-null deadline key

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The same instant as engine.db.tables.NO_DEADLINE, written as each backend stores datetimes.
NO_DEADLINE = {"sqlite": "9999-12-31 00:00:00.000000"}


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_due', sa.DateTime(timezone=True), nullable=True))
    far = NO_DEADLINE.get(op.get_bind().dialect.name, "9999-12-31 00:00:00+00:00")
    op.execute(f"UPDATE tasks SET sort_due = COALESCE(due_at, '{far}')")
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.alter_column('sort_due', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index('ix_tasks_role_open')
        batch_op.drop_index('ix_tasks_assignee_open')
        batch_op.create_index('ix_tasks_group_queue', ['status', 'role', 'restricted', 'sort_due', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tasks_assignee_queue', ['status', 'assignee', 'sort_due', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_assignee_queue')
        batch_op.drop_index('ix_tasks_group_queue')
        batch_op.create_index('ix_tasks_assignee_open', ['status', 'assignee', 'due_at'], unique=False)
        batch_op.create_index('ix_tasks_role_open', ['status', 'role', 'due_at'], unique=False)
        batch_op.drop_column('sort_due')
