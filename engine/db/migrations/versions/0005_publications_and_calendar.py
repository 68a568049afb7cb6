"""published penalties, working-day overrides, the administrators' journal

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from engine.db.tables import UtcDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SHANGHAI = ZoneInfo("Asia/Shanghai")
PUBLICATION_STEPS = ("prepare_publication", "make_decision", "release_publication", "withdraw_publication")


def upgrade() -> None:
    op.create_table('publications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('decision_number', sa.String(length=64), nullable=False),
    sa.Column('party', sa.String(length=200), nullable=False),
    sa.Column('party_credit_code', sa.String(length=18), nullable=False),
    sa.Column('violation', sa.String(length=64), nullable=False),
    sa.Column('warning', sa.Boolean(), nullable=False),
    sa.Column('fine', sa.Numeric(precision=14, scale=2, asdecimal=False), nullable=True),
    sa.Column('other_measures', sa.Text(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('release_task_id', sa.String(length=36), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=False),
    sa.Column('withdraw_task_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_released', ['released_at', 'id'], unique=False)
        batch_op.create_index('ix_publications_search', ['party', 'decision_number'], unique=False)
        batch_op.create_index('ix_publications_violation', ['violation', 'released_at'], unique=False)
        batch_op.create_index('ix_publications_violation_date', ['violation', 'decision_date'], unique=False)
        batch_op.create_index('ix_publications_decision_date', ['decision_date'], unique=False)

    op.create_table('working_day_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )
    op.create_table('admin_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('admin_events', schema=None) as batch_op:
        batch_op.create_index('ix_admin_events_kind', ['kind', 'id'], unique=False)
        batch_op.create_index('ix_admin_events_subject', ['subject', 'id'], unique=False)

    _backfill_publications(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table('admin_events', schema=None) as batch_op:
        batch_op.drop_index('ix_admin_events_subject')
        batch_op.drop_index('ix_admin_events_kind')
    op.drop_table('admin_events')
    op.drop_table('working_day_overrides')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_decision_date')
        batch_op.drop_index('ix_publications_violation_date')
        batch_op.drop_index('ix_publications_violation')
        batch_op.drop_index('ix_publications_search')
        batch_op.drop_index('ix_publications_released')
    op.drop_table('publications')


# --- backfill: decisions released before this table existed ----------------------------------------
# The rules of engine/usecases/publications.py as they stand at this revision, copied so that a later
# change there cannot change what this migration did.
_tasks = sa.table('tasks', sa.column('id', sa.String), sa.column('case_id', sa.Integer),
                  sa.column('spec_id', sa.String), sa.column('status', sa.String),
                  sa.column('completed_at', UtcDateTime()), sa.column('form_data', sa.JSON))
_events = sa.table('case_events', sa.column('id', sa.Integer), sa.column('case_id', sa.Integer),
                   sa.column('kind', sa.String), sa.column('detail', sa.JSON))
_cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('respondent', sa.String),
                  sa.column('violation', sa.String))
_publications = sa.table(
    'publications', *(sa.column(name) for name in (
        'case_id', 'decision_number', 'party', 'party_credit_code', 'violation', 'warning', 'fine',
        'other_measures', 'basis', 'decision_date', 'summary', 'url', 'release_task_id', 'withdrawn',
        'withdrawal_reason', 'withdraw_task_id')),
    sa.column('released_at', UtcDateTime()), sa.column('withdrawn_at', UtcDateTime()))


def _backfill_publications(bind: Any) -> None:
    released = (sa.select(_tasks.c.case_id).where(_tasks.c.spec_id == 'release_publication',
                                                 _tasks.c.status == 'completed').distinct().scalar_subquery())
    steps: dict[int, dict[str, tuple[str, dict[str, Any], dt.datetime]]] = {}
    rows = bind.execute(
        sa.select(_tasks.c.case_id, _tasks.c.spec_id, _tasks.c.id, _tasks.c.form_data, _tasks.c.completed_at)
        .where(_tasks.c.case_id.in_(released), _tasks.c.status == 'completed',
               _tasks.c.spec_id.in_(PUBLICATION_STEPS))
        .order_by(_tasks.c.case_id, _tasks.c.completed_at, _tasks.c.id))
    for case_id, spec_id, task_id, form_data, completed_at in rows:  # the last completion of a step wins
        steps.setdefault(case_id, {})[spec_id] = (task_id, dict(form_data or {}), completed_at)
    if not steps:
        return
    intake: dict[int, dict[str, Any]] = {}
    for case_id, detail in bind.execute(sa.select(_events.c.case_id, _events.c.detail)
                                        .where(_events.c.kind == 'opened', _events.c.case_id.in_(released))
                                        .order_by(_events.c.id)):
        intake.setdefault(case_id, dict((detail or {}).get('form_data') or {}))
    cases = {r.id: r for r in bind.execute(sa.select(_cases).where(_cases.c.id.in_(released)))}
    values = [v for case_id, done in steps.items()
              if (v := _publication(cases[case_id], done, intake.get(case_id, {}))) is not None]
    if values:
        bind.execute(_publications.insert(), values)


def _publication(case: Any, done: dict[str, tuple[str, dict[str, Any], dt.datetime]],
                 intake: dict[str, Any]) -> dict[str, Any] | None:
    none: tuple[Any, dict[str, Any], Any] = (None, {}, None)
    prepared = done.get('prepare_publication', none)[1]
    if prepared.get('publish') is False or prepared.get('party_is_minor'):
        return None
    release_id, released, released_step_at = done['release_publication']
    decision = done.get('make_decision', none)[1]
    withdraw_id, withdrawal, withdrawn_step_at = done.get('withdraw_publication', none)
    respondent = intake.get('respondent') if isinstance(intake.get('respondent'), dict) else {}
    fine = decision.get('final_fine')
    return {
        'case_id': case.id, 'decision_number': str(decision.get('decision_number', ''))[:64],
        'party': case.respondent or '', 'violation': case.violation or '',
        'party_credit_code': str(respondent.get('credit_code', ''))[:18]
        if respondent.get('kind') == 'organisation' else '',
        'warning': bool(decision.get('final_warning')),
        'fine': float(fine) if isinstance(fine, int | float) and not isinstance(fine, bool) else None,
        'other_measures': str(decision.get('other_measures', '')), 'basis': str(decision.get('basis', '')),
        'decision_date': _day(decision.get('decision_date')), 'summary': str(prepared.get('redacted_summary', '')),
        'released_at': _moment(released.get('released_at')) or released_step_at,
        'url': str(released.get('url', ''))[:500], 'release_task_id': release_id,
        'withdrawn': withdraw_id is not None,
        'withdrawn_at': _moment(withdrawal.get('withdrawn_at')) or withdrawn_step_at,
        'withdrawal_reason': str(withdrawal.get('withdrawal_reason', '')), 'withdraw_task_id': withdraw_id,
    }


def _moment(text: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def _day(text: Any) -> dt.date | None:
    moment = _moment(text)
    if moment is not None:
        return moment.astimezone(SHANGHAI).date()
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None
