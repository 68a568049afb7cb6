"""server-side login sessions, and login throttling in a fixed number of slots

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Issue 13 items 3 and 4. `login_sessions`: the cookie carries only a random id, so a session can be ended on
the server (logout, password change, deactivation, a revoked certificate, an administrator) for every worker
at once. `login_throttle` replaces `failed_logins`, which locked an account after five wrong passwords (anyone
could lock anyone out) and kept a row per name typed, known or not: failures now slow down the source, the
account and the pair of both with growing delays, counted in at most `security.login_throttle.slots` rows.
`server_secrets` holds the key those slots are hashed with (made on first use, shared by every worker).
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_sessions',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_why', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash')
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_login_sessions_user', ['user_id', 'ended_at'], unique=False)
        batch_op.create_index('ix_login_sessions_expires', ['expires_at'], unique=False)

    op.create_table('login_throttle',
    sa.Column('slot', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delayed_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('slot')
    )
    op.create_table('server_secrets',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    # A lock in progress ends with the upgrade: the new throttle starts counting afresh.
    op.drop_table('failed_logins')


def downgrade() -> None:
    op.create_table('failed_logins',
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.drop_table('server_secrets')
    op.drop_table('login_throttle')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_login_sessions_expires')
        batch_op.drop_index('ix_login_sessions_user')
    op.drop_table('login_sessions')
