"""Agencies beside the home one for tests of a platform (the agencies table, as an administrator adds them)."""

from __future__ import annotations

from sqlalchemy import update

from engine.db.tables import AgencyRow, UserRow
from engine.services import Services
from tests.conftest import at

DISTRICT, OTHER, STATION = "hp", "dq", "hp-xz"
DISTRICT_NAME = "呈州市和平区卫生健康局"


def add_agencies(svc: Services) -> None:
    """Two districts under the home city (each with its streets: `settings.areas`) and a 派出 unit under one;
    head2 works at the district hp."""
    home = svc.settings.agency.code
    with svc.uow() as work:
        for code, name, prefix, level, parent, areas in (
                (DISTRICT, DISTRICT_NAME, "和卫投", "county", home, ["和平路"]),
                (OTHER, "呈州市东区卫生健康局", "东卫投", "county", home, ["东风路"]),
                (STATION, "和平区新镇卫生监督所", "新卫投", "station", DISTRICT, ["和平路"])):
            work.session.add(AgencyRow(code=code, name=name, short=name[:4], parent_code=parent, level=level,
                                       case_number_prefix=prefix, penalty_number_prefix=prefix + "罚",
                                       settings={"areas": areas}, active=True, created_at=at("2026-09-01 08:00")))
        work.session.flush()
        work.session.execute(update(UserRow).where(UserRow.id == "head2").values(agency_code=DISTRICT))
        work.commit()
