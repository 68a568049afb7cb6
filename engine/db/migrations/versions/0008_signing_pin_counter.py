"""signing PIN retry counter per officer key

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

A PIN behaves like a smart card's (docs/signatures.md): each wrong PIN is counted on the key, shared by
every worker and kept over restarts; at the limit in settings.json (`security.signing_pin_attempts`) the
key is blocked from `blocked_at` until a head or an administrator unblocks it, or a new key is issued.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_failures', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_keys', schema=None) as batch_op:
        batch_op.drop_column('blocked_at')
        batch_op.drop_column('pin_failures')
