"""A small agency tree for tests: a province above the platform's home agency, and users placed in it.

The `agencies` helper's use cases (engine/agencies.py) are not used here on purpose: tests of other features place
agencies by inserting rows, as the tree would hold them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from engine.db.admin_tables import AdminEventRow
from engine.db.tables import AgencyRow, CertificateRow, LoginSessionRow, UserKeyRow, UserRoleRow, UserRow
from engine.services import Services
from engine.usecases.users import add_user
from engine.values import AddUser, fixed_clock

PROVINCE = "prov"
PROVINCE_NAME = "示例省卫生健康委员会"


def add_province(svc: Services, *, at: dt.datetime) -> None:
    """A province agency, made the parent of the home agency (settings.json `agency`)."""
    with svc.uow() as work:
        work.session.add(AgencyRow(code=PROVINCE, name=PROVINCE_NAME, short="示卫", parent_code=None, level="province",
                                   case_number_prefix="示卫投", penalty_number_prefix="示卫罚", created_at=at))
        work.session.flush()
        work.session.execute(update(AgencyRow).where(AgencyRow.code == svc.settings.agency.code)
                             .values(parent_code=PROVINCE))
        work.commit()


def place_user(svc: Services, user_id: str, agency_code: str) -> None:
    with svc.uow() as work:
        work.session.execute(update(UserRow).where(UserRow.id == user_id).values(agency_code=agency_code))
        work.commit()


def add_supervisor(svc: Services, user_id: str, *, agency_code: str, password: str, pin: str, at: dt.datetime) -> None:
    """A 督查人员 (role `supervisor`) with a signing key, in `agency_code`."""
    add_user(AddUser(user_id=user_id, name="钱督查", password=password, roles=["supervisor"], unit="", pin=pin),
             svc=svc, clock=fixed_clock(at))
    place_user(svc, user_id, agency_code)


def admin_state(svc: Services) -> dict[str, list[tuple[str, ...]]]:
    """Every row an administrator's action may write (agencies, people, their roles, keys, certificates and
    logins, the journal), as text: equal before and after a refusal that wrote nothing."""
    tables = (AgencyRow, UserRow, UserRoleRow, CertificateRow, UserKeyRow, LoginSessionRow, AdminEventRow)
    with svc.uow.read() as session:
        return {t.__tablename__: sorted(tuple(str(v) for v in row) for row in session.execute(select(t.__table__)))
                for t in tables}
