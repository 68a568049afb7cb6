"""notify(): the seam every caller uses — inbox rows for everyone told, outbox rows for those who want mail."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from engine.db.notice_tables import EmailOutboxRow, NoticeChoiceRow, NotificationRow
from engine.db.tables import Base, UserRow
from engine.enums import NoticeKind
from engine.services import Services
from engine.usecases.notifications import notify
from engine.values import fixed_clock
from tests.conftest import at

NOW = at("2026-09-15 10:00")


def _notify(svc: Services, recipients: list[str], kind: NoticeKind, *, by: str | None = "head") -> int:
    with svc.uow() as work:
        n = notify(work.session, recipients=recipients, kind=kind, case_id=None, task_id=None, by=by,
                   note="请尽快办理", clock=fixed_clock(NOW))
        work.commit()
    return n


def test_each_recipient_gets_one_inbox_row_and_the_actor_and_unknown_names_none(ready_svc: Services) -> None:
    n = _notify(ready_svc, ["officer1", "officer2", "officer1", "nobody", "head"], NoticeKind.URGED)
    assert n == 2
    with ready_svc.uow.read() as s:
        rows = s.execute(select(NotificationRow.recipient, NotificationRow.kind, NotificationRow.by,
                                NotificationRow.note, NotificationRow.read_at).order_by(NotificationRow.id)).all()
    assert rows == [("officer1", "urged", "head", "请尽快办理", None), ("officer2", "urged", "head", "请尽快办理", None)]


def test_mail_is_queued_only_for_people_with_an_address_who_want_that_kind(ready_svc: Services) -> None:
    with ready_svc.uow() as work:
        work.session.execute(update(UserRow).where(UserRow.id.in_(["officer1", "officer2", "officer3"]))
                             .values(email=UserRow.id + "@example.org"))
        work.session.add(NoticeChoiceRow(user_id="officer2", kind=NoticeKind.URGED.value, email=False))
        work.session.add(NoticeChoiceRow(user_id="officer3", kind=NoticeKind.OFFERED.value, email=True))
        work.commit()
    assert _notify(ready_svc, ["officer1", "officer2", "legal"], NoticeKind.URGED) == 3
    assert _notify(ready_svc, ["officer1", "officer3"], NoticeKind.OFFERED) == 2
    with ready_svc.uow.read() as s:
        mails = s.execute(select(EmailOutboxRow.to, NotificationRow.kind)
                          .join(NotificationRow, NotificationRow.id == EmailOutboxRow.notification_id)
                          .order_by(EmailOutboxRow.id)).all()
    # officer2 said no to mailed 督办; legal has no address; offers are mailed only to who asked for them.
    assert mails == [("officer1@example.org", "urged"), ("officer3@example.org", "offered")]


def test_nothing_is_written_when_the_callers_transaction_rolls_back(ready_svc: Services) -> None:
    with ready_svc.uow() as work:
        notify(work.session, recipients=["officer1"], kind=NoticeKind.ASSIGNED, case_id=None, task_id=None,
               by=None, note="", clock=fixed_clock(NOW))
    with ready_svc.uow.read() as s:
        assert s.scalar(select(func.count()).select_from(NotificationRow)) == 0


def test_the_migrated_schema_matches_the_notice_tables(svc: Services) -> None:
    mine = {"notifications", "notice_choices", "email_outbox", "notice_marks", "'email'"}
    with svc.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diffs if any(t in repr(d) for t in mine)] == []
