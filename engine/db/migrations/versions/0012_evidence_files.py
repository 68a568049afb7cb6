"""evidence files: the files of a case, named by SHA-256 in the blob store

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Issue 14: photos, recordings, scans and documents added to a case, staged until a signed step lists them
(engine/db/evidence_tables.py).
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_files',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('exif', sa.JSON(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_files_case', ['case_id', 'id'], unique=False)
        batch_op.create_index('ix_evidence_files_task', ['task_id', 'added_by', 'state'], unique=False)
        batch_op.create_index('ix_evidence_files_sha256', ['sha256'], unique=False)
        batch_op.create_index('ix_evidence_files_state_added', ['state', 'added_at'], unique=False)


def downgrade() -> None:
    op.drop_table('evidence_files')
