"""task page versions per audience; task offers indexed by person with the task

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Task pages are kept while the versions of their audiences (everyone, a role, a person) stand still
(engine/db/queue_tables.py); a scope has a row once a write has moved it.
The offers index gains the task id, so "offered to me by name" and "barred from" are read from the
index alone, never from the table (the primary key starts with the task, so it cannot serve a person).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'queue_versions',
        sa.Column('scope', sa.String(length=80), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('scope'),
    )
    with op.batch_alter_table('task_users', schema=None) as batch_op:
        batch_op.drop_index('ix_task_users_user')
        batch_op.create_index('ix_task_users_user', ['user_id', 'kind', 'task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_users', schema=None) as batch_op:
        batch_op.drop_index('ix_task_users_user')
        batch_op.create_index('ix_task_users_user', ['user_id', 'kind'], unique=False)
    op.drop_table('queue_versions')
