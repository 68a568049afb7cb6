"""The platform's agency tree as the engine reads it: a subtree, the line of ancestors, and the settings a case
of an agency runs with (its name and prefixes on the 文书, its numbers, what the law lets it set).

One query each: a recursive CTE walks the tree on SQLite and PostgreSQL alike. The writers (add, edit,
deactivate, set a setting) are engine/usecases/agencies.py.

`case_settings` is on the hot path (every completion, every timer): its walk is read every time — the rows as
the database holds them now, so no process can miss another's change — but as plain values by a statement
built once, and the derived `Settings` are kept per those values: an unchanged chain costs the walk only.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import CTE, BindParameter, ColumnElement, String, Text, any_, bindparam, cast, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from engine.db.tables import AgencyRow
from engine.errors import NotFound, ValidationError
from engine.rules.agency_overrides import agency_wording, apply_overrides, document_prefixes
from engine.rules.agency_settings import inherited
from engine.rules.settings import Agency, Settings

if TYPE_CHECKING:
    from engine.services import Services


def among(session: Session, column: ColumnElement[str], codes: Sequence[str]) -> ColumnElement[bool]:
    """`column IN codes`, for a subtree's codes (a province: 500): on PostgreSQL as `= ANY(array)`, one parameter,
    where an IN list of 500 parameters cost more to bind and send than the query over the rollup took."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(codes), ARRAY(String())))
    return column.in_(codes)


def subtree_codes(session: Session, code: str) -> list[str]:
    """`code` and every agency below it (inactive ones too: their cases stay theirs), in tree order; NotFound
    for an agency the platform does not have."""
    down = _walk(code, down=True)
    pairs = session.execute(select(down.c.code, down.c.parent_code)).all()
    if not pairs:
        raise NotFound(f"机构不存在 (no such agency): {code}")
    return tree_order([(c, p) for c, p in pairs], root=code)


def subtree_branches(session: Session, code: str) -> dict[str, str]:
    """Every agency of `code`'s subtree -> its branch: the child of `code` it lies under (`code` for itself), for
    figures rolled up one level below an agency (engine/usecases/indicators.py). NotFound for an unknown code."""
    down = _walk(code, down=True)
    parent = dict(session.execute(select(down.c.code, down.c.parent_code)).all())
    if not parent:
        raise NotFound(f"机构不存在 (no such agency): {code}")
    branches: dict[str, str] = {code: code}
    for node in parent:
        line = []
        while node not in branches:  # up to an agency whose branch is known (the walk's depth bounds the climb)
            line.append(node)
            node = parent[node] or code
        for below in reversed(line):  # then down again, each taking its parent's branch
            branches[below] = below if parent[below] == code else branches[parent[below] or code]
    return branches


def agency_choices(svc: Services) -> list[tuple[str, str]]:
    """Every agency as (code, name), by code: what a page offers to pick one from."""
    with svc.uow.read() as session:
        return [(code, name) for code, name in session.execute(
            select(AgencyRow.code, AgencyRow.name).order_by(AgencyRow.code))]


def _walk(code: str | BindParameter[str], *, down: bool) -> CTE:
    """The recursive CTE (code, parent_code, depth) from `code` (a value, or a parameter of a statement built
    once) down to every agency below it, or up to the root; depth counts the steps from `code`."""
    walk = (select(AgencyRow.code, AgencyRow.parent_code, literal(0).label("depth"))
            .where(AgencyRow.code == code).cte("walk", recursive=True))
    next_ = AgencyRow.__table__.alias("next_")
    link = next_.c.parent_code == walk.c.code if down else next_.c.code == walk.c.parent_code
    return walk.union_all(select(next_.c.code, next_.c.parent_code, walk.c.depth + 1)
                          .where(link, walk.c.depth < MAX_DEPTH))


def tree_order(pairs: Sequence[tuple[str, str | None]], *, root: str | None = None) -> list[str]:
    """(code, parent) pairs in tree order, depth first, children by code; from `root`, else from every agency
    without a parent among them. (In Python, not ORDER BY a path: the database's collation may ignore
    punctuation.)"""
    children: dict[str | None, list[str]] = {}
    codes = {c for c, _ in pairs}
    for code, parent in pairs:
        children.setdefault(parent if parent in codes else None, []).append(code)
    out: list[str] = []
    stack = [root] if root is not None else sorted(children.get(None, []), reverse=True)
    while stack:
        code = stack.pop()
        out.append(code)
        stack.extend(sorted(children.get(code, []), reverse=True))
    return out


def lineage(session: Session, code: str) -> list[AgencyRow]:
    """The agencies from the root down to `code` itself; NotFound for an unknown code."""
    up = _walk(code, down=False)
    rows = session.execute(select(AgencyRow, up.c.depth).join(up, up.c.code == AgencyRow.code)
                           .order_by(up.c.depth.desc())).all()
    if not rows:
        raise NotFound(f"机构不存在 (no such agency): {code}")
    return [row for row, _ in rows]


def ancestors(session: Session, code: str) -> list[AgencyRow]:
    """The agencies above `code`, from the root down to its parent (empty for the root)."""
    return lineage(session, code)[:-1]


def agency_value(row: AgencyRow, settings: Settings) -> Agency:
    """The `Agency` a case of `row` prints and numbers with; the time zone is the platform's."""
    return Agency(name=row.name, short=row.short, case_number_prefix=row.case_number_prefix,
                  penalty_number_prefix=row.penalty_number_prefix, timezone=settings.agency.timezone,
                  review_agency=row.review_agency, court=row.court, code=row.code, level=row.level)


def settings_of(settings: Settings, chain: Sequence[AgencyRow]) -> Settings:
    """The platform's settings as the last agency of `chain` (root first) runs its cases: its identity and 文号
    prefixes, and the overrides the law lets it (or the nearest agency above it) set."""
    own = chain[-1]
    agency = agency_value(own, settings)
    overrides = inherited([row.settings or {} for row in chain], settings.agency_settings)
    raw = {**settings.raw, "wording": agency_wording(settings, agency)}
    return dataclasses.replace(apply_overrides(settings, overrides), agency=agency, raw=raw,
                               document_numbers=document_prefixes(settings, agency, own.settings or {}))


def case_settings(session: Session, settings: Settings, agency_code: str) -> Settings:
    """The settings a case of `agency_code` runs with (one query); NotFound for an unknown code. The result is
    shared by every caller with the same chain: do not change it."""
    chain = tuple(tuple(row) for row in session.execute(_CHAIN, {"code": agency_code}))
    if not chain:
        raise NotFound(f"机构不存在 (no such agency): {agency_code}")
    key = (id(settings), chain)
    with _KEPT_LOCK:
        kept = _KEPT.get(key)
        if kept is not None and kept[0] is settings:  # the same object, not one that reuses its id
            _KEPT.move_to_end(key)
            return kept[1]
    rows = [SimpleNamespace(**dict(zip(_CHAIN_COLUMNS, values, strict=True)),
                            settings=json.loads(values[-1]) if values[-1] else {}) for values in chain]
    derived = settings_of(settings, rows)  # type: ignore[arg-type]  # the columns settings_of reads
    with _KEPT_LOCK:
        _KEPT[key] = (settings, derived)
        while len(_KEPT) > _KEPT_MAX:
            _KEPT.popitem(last=False)
    return derived


def _chain_statement() -> Any:
    """The agencies from the root down to `:code`, each as the plain values `settings_of` reads (its settings as
    their JSON text: hashable, parsed only when the chain is new). Built once: it is the same every time."""
    up = _walk(bindparam("code"), down=False)
    columns = [getattr(AgencyRow, name) for name in _CHAIN_COLUMNS[:-1]]
    return (select(*columns, cast(AgencyRow.settings, Text).label("settings_json"))
            .join(up, up.c.code == AgencyRow.code).order_by(up.c.depth.desc()))


def check_agency(session: Session, code: str) -> AgencyRow:
    """The active agency `code` a person is put in; ValidationError otherwise (users.agency_code has no foreign
    key, see engine/db/tables.py: this is the check)."""
    row = session.get(AgencyRow, code)
    if row is None or not row.active:
        raise ValidationError("用户信息有误 (invalid user)", {"agency": f"机构不存在或已停用 (no such active agency): {code}"})
    return row


# A tree deeper than this is a loop in the data (province → city → county → station is four): the walk stops.
MAX_DEPTH = 16

# What `settings_of` reads of each agency of the chain; the settings column comes last, as JSON text.
_CHAIN_COLUMNS = ("code", "name", "short", "parent_code", "level", "case_number_prefix", "penalty_number_prefix",
                  "review_agency", "court", "settings_json")
_CHAIN = _chain_statement()
# Derived settings per (settings object, chain as read): a province has hundreds of agencies, each chain a few.
_KEPT: OrderedDict[tuple[int, tuple[Any, ...]], tuple[Settings, Settings]] = OrderedDict()
_KEPT_MAX = 1024
_KEPT_LOCK = threading.Lock()
