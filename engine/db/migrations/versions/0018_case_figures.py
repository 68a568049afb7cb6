"""case figures: one row per case of what the indicators count (考核指标), and the case officers each case names

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

Issue 16 (Indicators). Every existing case gets its row from the case row: its agency, when it was registered
and closed, and whether it came from a complainant (the complaint channels of the intake form as it is now:
the channels are the model's, and this migration runs once over the data of its time). What earlier steps
recorded only as form data (decisions, filing, feedback) stays unrecorded here: those figures count the cases
decided from this release on, and the page says "not recorded" rather than guessing from free text.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# workflows/forms/intake.schema.json `channel` x-indicator "complaint" at the time of this migration.
COMPLAINT_CHANNELS = ('hotline_12345', 'hotline_12320', 'letter', 'visit', 'online')


def upgrade() -> None:
    yuan = sa.Numeric(precision=16, scale=2, asdecimal=False)
    op.create_table('case_figures',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(length=32), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('complaint', sa.Boolean(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handled_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('procedure', sa.String(length=16), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warning', sa.Boolean(), nullable=True),
    sa.Column('fine', yuan, nullable=True),
    sa.Column('confiscated_income', yuan, nullable=True),
    sa.Column('confiscated_property', yuan, nullable=True),
    sa.Column('licence_revoked', sa.Boolean(), nullable=True),
    sa.Column('suspension_months', sa.Integer(), nullable=True),
    sa.Column('publication_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('not_published', sa.Boolean(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('substantiated', sa.Boolean(), nullable=True),
    sa.Column('satisfaction', sa.String(length=24), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id')
    )
    for name, column in (('received', 'received_at'), ('closed', 'closed_at'), ('filed', 'filed_at'),
                         ('decided', 'decided_at')):
        op.create_index(f'ix_case_figures_{name}', 'case_figures', ['agency_code', column], unique=False)
    op.create_table('case_handlers',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'user_id')
    )
    op.create_index('ix_case_handlers_user', 'case_handlers', ['user_id', 'case_id'], unique=False)
    channels = ", ".join(f"'{c}'" for c in COMPLAINT_CHANNELS)
    op.execute(f"INSERT INTO case_figures (case_id, agency_code, received_at, complaint, closed_at) "
               f"SELECT id, agency_code, created_at, channel IN ({channels}), closed_at FROM cases")


def downgrade() -> None:
    op.drop_index('ix_case_handlers_user', table_name='case_handlers')
    op.drop_table('case_handlers')
    for name in ('decided', 'filed', 'closed', 'received'):
        op.drop_index(f'ix_case_figures_{name}', table_name='case_figures')
    op.drop_table('case_figures')
