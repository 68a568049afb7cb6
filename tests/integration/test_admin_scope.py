"""Every administrator's action within the administrator's agency and those below it (issue 16, "roles and case
membership checked on every request"): a district's administrator manages their district's people and the district
itself, never the neighbouring district's; the platform's administrator (of the root agency) manages all. Checked in
the use cases, so the web, the API and the command line (`--user`/`--by`) get it alike; a refusal writes nothing.
The server's command line without an acting administrator (`by` None) stays the operator's, unscoped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.errors import Forbidden
from engine.seed import seed_agencies
from engine.services import Services
from engine.usecases.agencies import (
    add_agency,
    agency_codes,
    agency_detail,
    deactivate_agency,
    edit_agency,
    list_agencies,
    set_agency_setting,
    set_user_agency,
)
from engine.usecases.people import set_user_certificate
from engine.usecases.users import (
    add_user,
    deactivate_user,
    end_all_sessions,
    get_user,
    reactivate_user,
    rekey_user,
    revoke_user_key,
    set_password,
)
from engine.values import (
    AddAgency,
    AddUser,
    ChangeAccount,
    DeactivateAgency,
    EditAgency,
    EndAllSessions,
    RekeyUser,
    RevokeUserKey,
    SetAgencySetting,
    SetPassword,
    SetUserAgency,
    SetUserCertificate,
    fixed_clock,
)
from tests.agencies import admin_state
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import READY, SETUP_TIME

CLOCK = fixed_clock(SETUP_TIME)
OWN, SIBLING = "cz-hp", "cz-xs"  # 和平区, whose administrator acts; 西山区, its sibling under the city
# 和平区's administrator, and the platform's (of the city, the root agency)
DISTRICT_ADMIN, PLATFORM_ADMIN = "hp.admin", "admin"
PERSON = {OWN: "hp.officer1", SIBLING: "xs.officer1"}  # a person of each district, with a signing key


def _district_admins(svc: Services) -> None:
    for user_id, agency in (("hp.admin", OWN), ("xs.admin", SIBLING)):
        add_user(AddUser(user_id=user_id, name=f"{agency}管理", password=DEMO_PASSWORD, roles=["admin"],
                         agency_code=agency), svc=svc, clock=CLOCK)


def _units(svc: Services) -> None:
    """A 派出 unit below each district (no people: it may be retired), added by the platform's administrator."""
    for parent, code, short in ((OWN, "cz-hp-dz", "和东"), (SIBLING, "cz-xs-dz", "西东")):
        add_agency(AddAgency(code=code, name=f"{short}卫生监督所", short=short, parent_code=parent, level="station",
                             case_number_prefix=f"{short}投", penalty_number_prefix=f"{short}罚", by=PLATFORM_ADMIN),
                   svc=svc, clock=CLOCK)


DISTRICTS = READY.then("two districts with their people", lambda svc: seed_agencies(svc, CLOCK)).then(
    "an administrator in each district", _district_admins).then("a unit below each district", _units)


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, districts=DISTRICTS)


@pytest.fixture
def districts(ready_svc: Services) -> Services:
    return ready_svc


Action = Callable[[Services, str, str], Any]  # (svc, the acting administrator, the agency acted on)
UNIT = {OWN: "cz-hp-dz", SIBLING: "cz-xs-dz"}
ACTIONS: dict[str, Action] = {
    "add_user": lambda svc, by, agency: add_user(AddUser(
        user_id=f"new.{agency.replace('-', '.')}", name="新同事", password=DEMO_PASSWORD, roles=["officer"],
        agency_code=agency, by=by), svc=svc, clock=CLOCK),
    "set_password": lambda svc, by, agency: set_password(SetPassword(
        user_id=PERSON[agency], password="a-long-new-password-9", by=by, reason="忘记密码"), svc=svc, clock=CLOCK),
    "end_all_sessions": lambda svc, by, agency: end_all_sessions(EndAllSessions(
        user_id=PERSON[agency], by=by, reason="电脑遗失"), svc=svc, clock=CLOCK),
    "revoke_user_key": lambda svc, by, agency: revoke_user_key(RevokeUserKey(
        user_id=PERSON[agency], by=by, reason="PIN 泄露"), svc=svc, clock=CLOCK),
    "rekey_user": lambda svc, by, agency: rekey_user(RekeyUser(
        user_id=PERSON[agency], pin=DEMO_PIN, by=by, reason="PIN 遗忘"), svc=svc, clock=CLOCK),
    "deactivate_user": lambda svc, by, agency: deactivate_user(ChangeAccount(
        user_id=PERSON[agency], by=by, reason="调离"), svc=svc, clock=CLOCK),
    "set_user_certificate": lambda svc, by, agency: set_user_certificate(SetUserCertificate(
        user_id=PERSON[agency], cert_no="呈卫执0099", valid_until=dt.date(2031, 12, 31), by=by, reason="换证"),
        svc=svc, clock=CLOCK),
    # within the district: to its unit
    "set_user_agency": lambda svc, by, agency: set_user_agency(SetUserAgency(
        user_id=PERSON[agency], agency_code=UNIT[agency], by=by, reason="轮岗"), svc=svc, clock=CLOCK),
    "add_agency": lambda svc, by, agency: add_agency(AddAgency(
        code=f"{agency}-nz", name=f"{agency}南站", short=f"{agency}南", parent_code=agency, level="station",
        case_number_prefix=f"{agency}南投", penalty_number_prefix=f"{agency}南罚", by=by), svc=svc, clock=CLOCK),
    "edit_agency": lambda svc, by, agency: edit_agency(EditAgency(
        code=agency, by=by, court="呈州市中级人民法院"), svc=svc, clock=CLOCK),
    "set_agency_setting": lambda svc, by, agency: set_agency_setting(SetAgencySetting(
        code=agency, key="thresholds.hearing_large_fine_citizen", value="4000", by=by), svc=svc, clock=CLOCK),
    "deactivate_agency": lambda svc, by, agency: deactivate_agency(DeactivateAgency(
        code=UNIT[agency], by=by, reason="机构撤并"), svc=svc, clock=CLOCK),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_district_admin_acts_within_their_district_and_the_platform_admin_anywhere(districts, action):
    svc, act = districts, ACTIONS[action]
    before = admin_state(svc)
    act(svc, DISTRICT_ADMIN, OWN)  # their own district: done
    assert admin_state(svc) != before
    act(svc, PLATFORM_ADMIN, SIBLING)  # the platform's administrator: any district


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_a_district_admin_is_refused_the_sibling_district_and_nothing_is_written(districts, action):
    svc = districts
    before = admin_state(svc)
    with pytest.raises(Forbidden, match=SIBLING) as refused:
        ACTIONS[action](svc, DISTRICT_ADMIN, SIBLING)
    assert "系统管理员" in refused.value.message and "administer" in refused.value.message  # zh-CN and English
    assert admin_state(svc) == before


def test_reactivating_a_sibling_districts_person_is_refused(districts):
    svc = districts
    deactivate_user(ChangeAccount(user_id=PERSON[SIBLING], by=PLATFORM_ADMIN, reason="调离"), svc=svc, clock=CLOCK)
    before = admin_state(svc)
    with pytest.raises(Forbidden, match=SIBLING):
        reactivate_user(ChangeAccount(user_id=PERSON[SIBLING], by=DISTRICT_ADMIN, reason="回岗"), svc=svc, clock=CLOCK)
    assert admin_state(svc) == before
    reactivate_user(ChangeAccount(user_id=PERSON[SIBLING], by="xs.admin", reason="回岗"), svc=svc, clock=CLOCK)
    assert get_user(svc, PERSON[SIBLING]).active


def test_nobody_is_moved_into_or_out_of_an_agency_the_admin_does_not_administer(districts):
    svc = districts
    before = admin_state(svc)
    with pytest.raises(Forbidden, match=SIBLING):  # their own person, sent to the neighbour
        set_user_agency(SetUserAgency(user_id=PERSON[OWN], agency_code=SIBLING, by=DISTRICT_ADMIN, reason="轮岗"),
                        svc=svc, clock=CLOCK)
    with pytest.raises(Forbidden, match="cz "):  # nor up to the city above them
        set_user_agency(SetUserAgency(user_id=PERSON[OWN], agency_code="cz", by=DISTRICT_ADMIN, reason="轮岗"),
                        svc=svc, clock=CLOCK)
    with pytest.raises(Forbidden, match="officer1 属于机构 cz"):  # the city's people are not theirs either
        set_password(SetPassword(user_id="officer1", password="a-long-new-password-9", by=DISTRICT_ADMIN,
                                 reason="忘记密码"), svc=svc, clock=CLOCK)
    assert admin_state(svc) == before
    moved = set_user_agency(SetUserAgency(user_id=PERSON[OWN], agency_code=SIBLING, by=PLATFORM_ADMIN,
                                          reason="轮岗"), svc=svc, clock=CLOCK)
    assert moved.agency_code == SIBLING


def test_the_servers_command_line_without_an_administrator_stays_unscoped(districts):
    svc = districts
    view = add_user(AddUser(user_id="xs.new", name="新同事", password=DEMO_PASSWORD, roles=["officer"],
                            agency_code=SIBLING), svc=svc, clock=CLOCK)
    assert view.agency_code == SIBLING
    set_user_agency(SetUserAgency(user_id=PERSON[SIBLING], agency_code=UNIT[OWN]), svc=svc, clock=CLOCK)
    assert get_user(svc, PERSON[SIBLING]).agency_code == UNIT[OWN]


def test_a_district_admin_reads_and_picks_only_what_they_administer(districts):
    svc = districts
    assert [a.code for a in list_agencies(svc, DISTRICT_ADMIN)] == [OWN, UNIT[OWN]]
    assert [code for code, _ in agency_codes(svc, DISTRICT_ADMIN)] == [OWN, UNIT[OWN]]
    assert {a.code for a in list_agencies(svc, PLATFORM_ADMIN)} == {a.code for a in list_agencies(svc)}
    assert {"cz", OWN, SIBLING, UNIT[SIBLING]} <= {code for code, _ in agency_codes(svc, PLATFORM_ADMIN)}
    assert list_agencies(svc, "hp.head") == []  # not an administrator: none
    assert agency_detail(svc, OWN, DISTRICT_ADMIN).code == OWN
    assert agency_detail(svc, SIBLING, PLATFORM_ADMIN).code == SIBLING
    with pytest.raises(Forbidden, match=SIBLING):
        agency_detail(svc, SIBLING, DISTRICT_ADMIN)
    assert get_user(svc, PERSON[OWN], DISTRICT_ADMIN).id == PERSON[OWN]
    assert get_user(svc, PERSON[SIBLING], PLATFORM_ADMIN).id == PERSON[SIBLING]
    with pytest.raises(Forbidden, match=SIBLING):
        get_user(svc, PERSON[SIBLING], DISTRICT_ADMIN)
    with pytest.raises(Forbidden, match="只有系统管理员"):
        get_user(svc, PERSON[OWN], "hp.head")


def test_what_the_agencies_share_is_the_platform_admins_alone(districts):
    """The working-day calendar and the model's versions are the whole platform's: a district's administrator
    changes neither (the province's deadlines would move for every agency), the platform's administrator does."""
    from sqlalchemy import func, select

    from engine.db.admin_tables import WorkingDayOverrideRow
    from engine.db.tables import DefinitionRow
    from engine.spiff.definitions import DEFAULT_ENTRY, definition_files
    from engine.usecases.calendar import set_working_day_override
    from engine.usecases.definitions import store_definition
    from engine.usecases.schedules import enter_holiday_schedule
    from engine.values import EnterHolidaySchedule, SetWorkingDayOverride, StoreDefinition

    svc = districts
    files = {**definition_files(), "README.txt": "第二版".encode()}
    shared = {
        "working day": lambda by: set_working_day_override(SetWorkingDayOverride(
            day=dt.date(2026, 12, 31), workday=False, user_id=by, reason="区里自定"), svc=svc, clock=CLOCK),
        "holiday schedule": lambda by: enter_holiday_schedule(EnterHolidaySchedule(
            year=2027, days_off=(dt.date(2027, 1, 1),), workdays=(), reference="国办发明电〔2026〕X号（测试）",
            complete=False, user_id=by), svc=svc, clock=CLOCK),
        "model version": lambda by: store_definition(StoreDefinition(
            files=files, entry_process_id=DEFAULT_ENTRY, name="v2", user_id=by), svc=svc, clock=CLOCK),
    }

    def counts() -> tuple[int, int]:
        with svc.uow.read() as session:
            return (session.scalar(select(func.count()).select_from(WorkingDayOverrideRow)),
                    session.scalar(select(func.count()).select_from(DefinitionRow)))

    for name, act in shared.items():
        before = counts()
        with pytest.raises(Forbidden, match="platform administrator") as refused:
            act(DISTRICT_ADMIN)
        assert "平台系统管理员" in refused.value.message, name
        assert counts() == before, name
        act(PLATFORM_ADMIN)
        assert counts() != before, name
