"""users: 执法证号 and its validity (the user's profile)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Issue 15: people are chosen, not typed. 行政处罚法 第四十二条: a penalty is carried out by officers holding a
行政执法资格 (执法证), at least two of them; who holds one, until when, is part of the user's profile, set by an
administrator, so a lapsed certificate keeps its holder out of the pickers and the engine refuses them.
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cert_no', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('cert_valid_until', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('cert_valid_until')
        batch_op.drop_column('cert_no')
