"""An agency and the agencies below it (its subtree), in one recursive query over `agencies.parent_code`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db.tables import AgencyRow
from engine.errors import NotFound
from engine.services import Services

__all__ = ["agency_choices", "subtree_codes"]


def subtree_codes(session: Session, code: str) -> list[str]:
    """`code` and every agency below it, sorted; NotFound for an agency the platform does not have."""
    top = select(AgencyRow.code).where(AgencyRow.code == code).cte("subtree", recursive=True)
    below = select(AgencyRow.code).join(top, AgencyRow.parent_code == top.c.code)
    tree = top.union(below)  # UNION, not UNION ALL: a parent loop written by hand still ends
    codes = sorted(session.scalars(select(tree.c.code)))
    if not codes:
        raise NotFound(f"没有机构 {code} (no agency {code!r} on this platform)")
    return codes


def agency_choices(svc: Services) -> list[tuple[str, str]]:
    """Every agency as (code, name), by code: what a page offers to pick one from."""
    with svc.uow.read() as session:
        return [(code, name) for code, name in session.execute(
            select(AgencyRow.code, AgencyRow.name).order_by(AgencyRow.code))]
