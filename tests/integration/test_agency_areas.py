"""An agency's territory and the administrators of a district (issue 16): the place names the hand-over's
jurisdiction rules read are set by an administrator of the agency or of one above it, checked and journalled; a
district's administrator lists only the people of their district and below, and a blocked officer is sent only to
administrators who may unblock them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db.admin_tables import AdminEventRow
from engine.demo_users import DEMO_PASSWORD
from engine.errors import Conflict, Forbidden, ValidationError
from engine.officer_keys import unblockers
from engine.rules.jurisdiction import territory
from engine.seed import seed_agencies
from engine.usecases.agencies import agency_detail, set_agency_areas
from engine.usecases.handover import agency_tree
from engine.usecases.signing_pins import unblock_signing_pin
from engine.usecases.users import add_user, list_users
from engine.values import AddUser, SetAgencyAreas, UnblockSigningPin, fixed_clock
from tests.agencies import place_user
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import READY, SETUP_TIME

CLOCK = fixed_clock(SETUP_TIME)


def _district_admins(svc) -> None:
    for user_id, agency in (("hp.admin", "cz-hp"), ("xs.admin", "cz-xs")):
        add_user(AddUser(user_id=user_id, name=f"{agency}管理", password=DEMO_PASSWORD, roles=["admin"],
                         agency_code=agency), svc=svc, clock=CLOCK)


DISTRICTS = READY.then("two districts with their people", lambda svc: seed_agencies(svc, CLOCK)).then(
    "an administrator in each district", _district_admins)


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, districts=DISTRICTS)


@pytest.fixture
def districts(ready_svc):
    return ready_svc


def _areas(svc, code: str, areas: tuple[str, ...], by: str):
    return set_agency_areas(SetAgencyAreas(code=code, areas=areas, by=by), svc=svc, clock=CLOCK)


def _events(svc, code: str) -> list[dict]:
    with svc.uow.read() as session:
        return [e.detail for e in session.scalars(select(AdminEventRow).where(
            AdminEventRow.kind == "agency_areas", AdminEventRow.subject == code).order_by(AdminEventRow.id))]


def test_a_district_admin_sets_its_territory_and_the_jurisdiction_rules_read_it(districts):
    svc = districts
    view = _areas(svc, "cz-hp", (" 和平区 ", "和平区", "", "东山街道"), by="hp.admin")
    assert view.areas == ("和平区", "东山街道")  # trimmed, each once, blanks dropped, in the order given
    assert agency_detail(svc, "cz-hp").areas == ("和平区", "东山街道")
    with svc.uow.read() as session:
        tree = agency_tree(session)
    assert tree["cz-hp"].areas == ("和平区", "东山街道")
    assert territory("cz", tree) >= {"和平区", "东山街道"}  # the city covers what its districts do
    _areas(svc, "cz-xs", ("西山区",), by="admin")  # the platform's administrator: any agency
    assert _events(svc, "cz-hp") == [{"before": [], "after": ["和平区", "东山街道"]}]
    cleared = _areas(svc, "cz-hp", (), by="admin")
    assert cleared.areas == () and "areas" not in cleared.settings
    assert _events(svc, "cz-hp")[-1] == {"before": ["和平区", "东山街道"], "after": []}


@pytest.mark.parametrize(("by", "refusal"), [
    ("xs.admin", "不是机构 cz-hp 或其上级机构的系统管理员"),  # the neighbouring district's administrator
    ("hp.head", "只有系统管理员可以管理机构"),  # not an administrator
    ("nobody", "只有系统管理员可以管理机构"),
])
def test_only_an_administrator_of_the_agency_or_above_sets_its_territory(districts, by, refusal):
    svc = districts
    with pytest.raises(Forbidden, match=refusal):
        _areas(svc, "cz-hp", ("和平区",), by=by)
    with pytest.raises(Forbidden, match="不是机构 cz 或其上级机构"):
        _areas(svc, "cz", ("呈州市",), by="hp.admin")  # a district's administrator: not the city above it
    assert agency_detail(svc, "cz-hp").areas == () and _events(svc, "cz-hp") == []


def test_a_territory_is_refused_when_it_is_a_neighbours_too_long_or_unchanged(districts):
    svc = districts
    _areas(svc, "cz-xs", ("西山区",), by="xs.admin")
    with pytest.raises(Conflict, match="cz-xs"):
        _areas(svc, "cz-hp", ("和平区", "西山区"), by="hp.admin")  # two districts side by side, one place
    _areas(svc, "cz", ("西山区", "呈州市"), by="admin")  # the city above it may name it too: its own line
    with pytest.raises(ValidationError, match="invalid territory") as long:
        _areas(svc, "cz-hp", ("和" * 51,), by="hp.admin")
    assert "areas" in long.value.errors
    with pytest.raises(ValidationError, match="invalid territory"):
        _areas(svc, "cz-hp", tuple(f"第{n}街道" for n in range(101)), by="hp.admin")
    with pytest.raises(Conflict, match="未改变"):
        _areas(svc, "cz-xs", ("西山区",), by="xs.admin")
    assert agency_detail(svc, "cz-hp").areas == () and len(_events(svc, "cz-xs")) == 1


def test_a_district_admin_lists_only_the_people_of_their_district(districts):
    svc = districts
    hp = {u.id for u in list_users(svc, "hp.admin")}
    assert "hp.officer1" in hp and "hp.admin" in hp
    assert not any(uid.startswith("xs.") for uid in hp) and "officer1" not in hp and "admin" not in hp
    everyone = {u.id for u in list_users(svc, "admin")}  # the platform's administrator
    assert everyone == {u.id for u in list_users(svc)} and {"xs.officer1", "officer1", "hp.officer1"} <= everyone
    assert list_users(svc, "hp.head") == []  # not an administrator: nobody
    with pytest.raises(Forbidden):
        list_users(svc, "nobody")


def test_a_blocked_officer_is_sent_only_to_administrators_who_may_unblock_them(districts):
    svc = districts
    with svc.uow.read() as session:
        named = {uid for uid, _name in unblockers(session, "hp.officer1")}
    assert {"hp.admin", "admin", "hp.head"} <= named
    assert "xs.admin" not in named and "head" not in named  # another district's, the city's head
    with pytest.raises(Forbidden, match="不属于本单位"):
        unblock_signing_pin(UnblockSigningPin(user_id="hp.officer1", by="xs.admin", reason="核实"), svc=svc,
                            clock=CLOCK)
    for allowed in ("hp.admin", "admin"):  # may: refused only because the key is not blocked
        with pytest.raises(Conflict, match="未被锁定"):
            unblock_signing_pin(UnblockSigningPin(user_id="hp.officer1", by=allowed, reason="核实"), svc=svc,
                                clock=CLOCK)


def test_an_administrator_of_an_agency_the_tree_does_not_have_administers_nobody_else(districts):
    """users.agency_code has no foreign key: an administrator left in a code the tree lacks is not taken for the
    platform's (whose agency has no parent) — they reach their own code's people only."""
    svc = districts
    place_user(svc, "hp.admin", "gone")
    assert [u.id for u in list_users(svc, "hp.admin")] == ["hp.admin"]
    with pytest.raises(Forbidden, match="cz-hp"):
        _areas(svc, "cz-hp", ("和平区",), by="hp.admin")
