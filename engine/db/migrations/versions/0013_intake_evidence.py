"""evidence files handed in with a complaint: staged before the case exists

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08

Issue 14: complaint material attached at 投诉举报登记. A file staged on the registration page has no case yet:
`case_id` may be empty while the row is staged and names the page it was added on (`intake_key`); registering
the complaint gives it the new case (engine/db/evidence_tables.py).
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CHECK = "case_id IS NOT NULL OR (intake_key IS NOT NULL AND state = 'staged')"


def upgrade() -> None:
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake_key', sa.String(length=64), nullable=True))
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index('ix_evidence_files_intake', ['added_by', 'intake_key', 'state'], unique=False)
        batch_op.create_check_constraint('ck_evidence_files_case_or_intake', CHECK)


def downgrade() -> None:
    # Files staged for complaints not registered yet have no case to keep them: they go (their blobs are
    # collected as unreferenced).
    op.execute("DELETE FROM evidence_files WHERE case_id IS NULL")
    with op.batch_alter_table('evidence_files', schema=None) as batch_op:
        batch_op.drop_constraint('ck_evidence_files_case_or_intake', type_='check')
        batch_op.drop_index('ix_evidence_files_intake')
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('intake_key')
