"""drafts of a form: what a person typed into a task's form (or the registration page), until they sign it

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-09

Issue 15: a form saved as a draft, explicitly and automatically, kept per person and task and restored on
return; never part of the signed record; deleted when the step commits (engine/db/draft_tables.py).
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('task_drafts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('intake_key', sa.String(length=64), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(task_id IS NULL) <> (intake_key IS NULL)', name='ck_task_drafts_task_or_intake'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'user_id', name='uq_task_drafts_task_user'),
    sa.UniqueConstraint('user_id', 'intake_key', name='uq_task_drafts_user_intake')
    )
    with op.batch_alter_table('task_drafts', schema=None) as batch_op:
        batch_op.create_index('ix_task_drafts_user_updated', ['user_id', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_table('task_drafts')
