"""evidence purpose: what an evidence file is for — evidence, or the party's drawn signature

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

Issue 14: the party's signature drawn on a 笔录 is stored as a file of its step (engine/usecases/drawn_images.py),
so once attached it looked like evidence everywhere: the case's file list, the summary, the API and the
证据登记 picker. The column tells the two apart; the lists read it. Plain ADD COLUMN with 'evidence' as server
default, as 0017 and 0019 did: no table rebuilt, a previous release's inserts are evidence (it drew no signatures
as files). Signatures waiting for their step (state 'drawn') are marked here; attached ones are not looked for:
no release stored a drawn image as a file before this column (they were kept in the form as data URLs), so no
deployed database holds one, and telling them apart would mean reading every task's form.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('evidence_files', sa.Column('purpose', sa.String(length=16), nullable=False,
                                              server_default='evidence'))
    op.execute("UPDATE evidence_files SET purpose = 'party_signature' WHERE state = 'drawn'")


def downgrade() -> None:
    op.drop_column('evidence_files', 'purpose')
