"""The inbox keeps a read notice for settings.json `notifications.keep_read_days`; unread ones and the e-mail
outbox (what was mailed) stay."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select, update

from engine.db.notice_tables import EmailOutboxRow, NoticeChoiceRow, NotificationRow
from engine.db.tables import UserRow
from engine.enums import NoticeKind
from engine.errors import ConfigurationError
from engine.rules.settings import load_settings, parse_settings
from engine.services import Services
from engine.usecases.notice_retention import prune_read_notices
from engine.usecases.notifications import notify
from engine.values import fixed_clock
from tests.conftest import at

T0 = at("2026-03-02 09:00")


def test_read_notices_past_the_setting_go_and_the_rest_stays(ready_svc: Services) -> None:
    keep = ready_svc.settings.keep_read_notices
    assert keep == dt.timedelta(days=load_settings().raw["notifications"]["keep_read_days"]["value"])
    with ready_svc.uow() as work:
        work.session.execute(update(UserRow).where(UserRow.id == "officer1").values(email="officer1@example.org"))
        work.session.add(NoticeChoiceRow(user_id="officer1", kind=NoticeKind.URGED.value, email=True))
        for _ in range(4):
            notify(work.session, recipients=["officer1"], kind=NoticeKind.URGED, case_id=None, task_id=None, by=None,
                   note="", clock=fixed_clock(T0))
        work.commit()
    with ready_svc.uow() as work:
        ids = list(work.session.scalars(select(NotificationRow.id).order_by(NotificationRow.id)))
        read_at = {ids[0]: T0, ids[1]: T0 + dt.timedelta(days=10), ids[2]: T0 + dt.timedelta(days=40)}  # ids[3] unread
        for notice, when in read_at.items():
            work.session.execute(update(NotificationRow).where(NotificationRow.id == notice).values(read_at=when))
        work.commit()
    now = T0 + keep + dt.timedelta(days=20)  # ids[0] and ids[1] were read longer ago than the setting
    assert prune_read_notices(ready_svc, clock=fixed_clock(now)) == 2
    assert prune_read_notices(ready_svc, clock=fixed_clock(now)) == 0
    with ready_svc.uow.read() as s:
        assert list(s.scalars(select(NotificationRow.id).order_by(NotificationRow.id))) == ids[2:]
        assert sorted(s.scalars(select(EmailOutboxRow.notification_id)), key=str) == sorted(
            [None, None, ids[2], ids[3]], key=str)  # the mail sent is still on record


@pytest.mark.parametrize("days", [0, 6, 4000])
def test_a_retention_outside_bounds_is_refused(days: int) -> None:
    raw = load_settings().raw
    changed = {**raw, "notifications": {**raw["notifications"], "keep_read_days": {"value": days, "basis": "x"}}}
    with pytest.raises(ConfigurationError, match="keep_read_days"):
        parse_settings(changed)
    assert dataclasses.is_dataclass(parse_settings(raw))
