"""Agencies beside the home one for tests of a platform (the agencies table, as an administrator adds them)."""

from __future__ import annotations

from sqlalchemy import update

from engine.agency_seals import issue_agency_seal
from engine.db.tables import AgencyRow, UserRow
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.services import Services
from engine.spiff.clocks import MutableClock
from engine.usecases.users import add_user
from engine.values import AddUser
from tests.conftest import at

DISTRICT, OTHER, STATION = "hp", "dq", "hp-xz"
DISTRICT_NAME = "呈州市和平区卫生健康局"
DISTRICT_CLERK = "hp.clerk"  # the district's own 受理 clerk: a case received there is acted on by its people
_ADDED = at("2026-09-01 08:00")


def add_agencies(svc: Services) -> None:
    """Two districts under the home city (each with its streets: `settings.areas`) and a 派出 unit under one, each
    with its seal (as `agency add` issues one); head2 works at the district hp, beside its clerk DISTRICT_CLERK."""
    home = svc.settings.agency.code
    agencies = ((DISTRICT, DISTRICT_NAME, "和卫投", "county", home, ["和平路"]),
                (OTHER, "呈州市东区卫生健康局", "东卫投", "county", home, ["东风路"]),
                (STATION, "和平区新镇卫生监督所", "新卫投", "station", DISTRICT, ["和平路"]))
    with svc.uow() as work:
        for code, name, prefix, level, parent, areas in agencies:
            work.session.add(AgencyRow(code=code, name=name, short=name[:4], parent_code=parent, level=level,
                                       case_number_prefix=prefix, penalty_number_prefix=prefix + "罚",
                                       settings={"areas": areas}, active=True, created_at=_ADDED))
        work.session.flush()
        work.session.execute(update(UserRow).where(UserRow.id == "head2").values(agency_code=DISTRICT))
        work.commit()
    for code, name, *_ in agencies:
        issue_agency_seal(svc, code, name, now=_ADDED)
    add_user(AddUser(user_id=DISTRICT_CLERK, name="刘受理", password=DEMO_PASSWORD, roles=["intake"], unit="投诉举报中心",
                     pin=DEMO_PIN, agency_code=DISTRICT), svc=svc, clock=MutableClock(_ADDED))
