"""A small province for the indicator tests: cases with known figures, played once per session through the engine.

In September 2026 (from START, one hour between steps), at the city `cz` unless said otherwise:
- A  a general-procedure penalty: fine 3,000, confiscated gains 1,500.50, confiscated property 800, licence
     revoked, 3 months' suspension, warning; published at once; the complainant 基本满意, complaint 查实.
- B  a summary penalty: fine 200 and a warning; the complainant 不满意, 查实.
- C  not accepted; the complainant told, 满意, not 查实.
- D  accepted, checked, not filed; the complainant told (no satisfaction or 查实 recorded).
- E  transferred, registered by a clerk of the district `cz-east` (a child of `cz`) and reviewed by its head.
- G  accepted and waiting at its preliminary check (open: overdue once its time limit has passed).
And Y, a summary penalty whose figures are dated a year earlier (September 2025): the year-on-year base.
The officers named on A, B, D and G: officer1 and officer2.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update

from engine.db.indicator_tables import CaseFiguresRow
from engine.db.tables import AgencyRow, UserRow
from engine.demo import play
from engine.services import Services
from engine.spiff.driving import Step
from engine.usecases.users import add_user
from engine.values import AddUser
from tests.web.conftest import WEB_MODEL
from tests.web.webcases import START, play_until, scenario
from tests.web.webhelpers import PASSWORD, PIN

CHILD = "cz-east"
A_DECISION = Step("make_decision", {
    "final_fine": 3000, "final_warning": True, "basis": "依据《公共场所卫生管理条例实施细则》第三十五条",
    "confiscated_income": 1500.5, "confiscated_property": 800, "licence_revoked": True, "suspension_months": 3})


def _told(**recorded: Any) -> Step:
    return Step("notify_result", recorded)


def _build(svc: Services) -> dict[str, Any]:
    with svc.uow() as work:
        work.session.add(AgencyRow(code=CHILD, name="呈州市东区卫生健康局", short="呈东卫", parent_code="cz",
                                   level="district", case_number_prefix="呈东卫投", penalty_number_prefix="呈东卫罚",
                                   settings={}, active=True, created_at=START))
        work.commit()
    add_user(AddUser(user_id="head_east", name="东区局长", password=PASSWORD, roles=["head"], pin=PIN), svc=svc,
             clock=lambda: START)
    add_user(AddUser(user_id="officer_east", name="东区执法", password=PASSWORD, roles=["officer"], pin=PIN,
                     cert_no="呈东卫执 2025-0001", cert_valid_until=dt.date(2030, 1, 1)), svc=svc, clock=lambda: START)
    _move(svc, "head_east", "officer_east", to=CHILD)
    gap = dt.timedelta(days=1)
    cases: dict[str, Any] = {}
    cases["A"] = play_until(svc, scenario(replace_steps={
        "make_decision": A_DECISION,
        "notify_result": _told(satisfaction="basically_satisfied", substantiated=True)}), None, start=START).case
    cases["B"] = play_until(svc, scenario("summary_penalty", replace_steps={
        "notify_result": _told(satisfaction="dissatisfied", substantiated=True)}), None, start=START + gap).case
    cases["C"] = play_until(svc, scenario("not_accepted", replace_steps={
        "notify_not_accepted": Step("notify_not_accepted", {"satisfaction": "satisfied", "substantiated": False})}),
        None, start=START + 2 * gap).case
    cases["D"] = play_until(svc, scenario("not_filed"), None, start=START + 3 * gap).case
    # E is the district's: its clerk registers it and its head reviews it (visibility keeps the city's head off a
    # district's case), the city's clerk standing in as the district's for the intake.
    _move(svc, "clerk", to=CHILD)
    cases["E"] = play(svc, scenario("transferred"), start=START + 4 * gap, pin=PIN, cast={"head": "head_east"}).case
    _move(svc, "clerk", to="cz")
    cases["G"] = play_until(svc, scenario(), "preliminary_check", start=START + 5 * gap).case
    cases["Y"] = play_until(svc, scenario("summary_penalty"), None, start=START + 6 * gap).case
    _a_year_earlier(svc, cases["Y"].id)
    return cases


def _a_year_earlier(svc: Services, case_id: int) -> None:
    """Date Y's figures a year back (364 days: 15 September 2025 was a Monday too), as a case of the year before
    would stand: the test users' signing certificates start in March 2026, so it cannot be signed then."""
    year = dt.timedelta(days=364)
    with svc.uow() as work:
        row = work.session.get(CaseFiguresRow, case_id)
        for column in ("received_at", "closed_at", "handled_at", "handled_due", "decided_at", "feedback_at"):
            if getattr(row, column) is not None:
                setattr(row, column, getattr(row, column) - year)
        work.commit()


def _move(svc: Services, *user_ids: str, to: str) -> None:
    """Put people in another agency (what `casetrail user` will do once agencies are managed: issue 16)."""
    with svc.uow() as work:
        work.session.execute(update(UserRow).where(UserRow.id.in_(user_ids)).values(agency_code=to))
        work.commit()


PROVINCE = WEB_MODEL.then("a small province with indicator cases", _build)
