"""sealed values: the confidential fields a version-2 step record signs only as salted digests

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02

docs/evidence-bundle.md §1a: the complainant's identity and a vote not yet acted on are signed as
SHA-256(JCS({salt, value})); the value and salt are kept here, beside the record, not in the signed bytes.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sealed_values',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('salt', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'seq', 'field', name='uq_sealed_values_case_seq_field')
    )


def downgrade() -> None:
    op.drop_table('sealed_values')
