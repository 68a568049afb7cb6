"""Lists that must not cross the agency tree (issue 16): who a command offers for a role, and whose blocked signing
PINs a head or an administrator is shown — for a person of district da, one of its sibling db, the city's
supervisor and the city's (the platform's) administrator. The tree is test_agency_visibility.py's."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from engine.db.tables import UserKeyRow
from engine.demo_users import DEMO_PASSWORD, DEMO_PIN
from engine.errors import Forbidden
from engine.spiff.clocks import MutableClock
from engine.usecases.signing_pins import blocked_signing_pins, unblock_signing_pin
from engine.usecases.users import add_user
from engine.values import AddUser, UnblockSigningPin, fixed_clock
from tests.integration.test_agency_visibility import NOW, db_template, tree  # noqa: F401 (the fixtures)
from web.cli import main as casetrail


def _eligible(svc, *args: str) -> tuple[int, list[str], str]:
    """`casetrail user eligible --json ARGS`: (exit code, the ids listed, stderr)."""
    result = CliRunner().invoke(casetrail, ["user", "eligible", "--json", *args],
                                obj={"svc": svc, "clock": fixed_clock(NOW)})
    listed = [p["id"] for p in json.loads(result.stdout)] if result.exit_code == 0 else []
    return result.exit_code, listed, result.stderr


def test_eligible_people_are_the_cases_agencys_and_only_for_who_may_see_it(ready_svc, tree):  # noqa: F811
    case = str(tree.district_case)
    a_officers = ["officer-a1", "officer-a2"]
    # For a case: its agency's people, for its own head and for the city's supervisor who reads the district.
    assert _eligible(ready_svc, "--role", "officer", "--case", case, "--user", "head-a")[:2] == (0, a_officers)
    assert _eligible(ready_svc, "--role", "officer", "--case", case, "--user", "supervisor")[:2] == (0, a_officers)
    assert _eligible(ready_svc, "--role", "officer", "--case", case)[:2] == (0, a_officers)  # the operator
    # The sibling district's head may not see the case, so learns nothing of who could take it.
    code, listed, why = _eligible(ready_svc, "--role", "officer", "--case", case, "--user", "head-b")
    assert (code, listed) == (2, []) and why.startswith("error: ")
    # A 合议 member may be invited from another agency: the city's panel members are offered for da's case;
    # a legal reviewer is not (da has none of its own, so nobody is offered).
    code, panel, _ = _eligible(ready_svc, "--role", "panel", "--case", case, "--user", "head-a")
    assert code == 0 and {"panel1", "panel2", "panel3"} <= set(panel)
    assert _eligible(ready_svc, "--role", "legal", "--case", case, "--user", "head-a")[:2] == (0, [])


def test_eligible_people_without_a_case_are_of_one_agency_in_reach(ready_svc, tree):  # noqa: F811
    assert _eligible(ready_svc, "--role", "officer", "--user", "head-b")[:2] == (0, ["officer-b"])
    assert _eligible(ready_svc, "--role", "officer", "--user", "head-a", "--agency", "da")[:2] == (
        0, ["officer-a1", "officer-a2"])
    code, listed, why = _eligible(ready_svc, "--role", "officer", "--user", "head-b", "--agency", "da")
    assert (code, listed) == (2, []) and "da" in why
    assert _eligible(ready_svc, "--role", "officer", "--user", "supervisor", "--agency", "db")[:2] == (
        0, ["officer-b"])
    _, city, _ = _eligible(ready_svc, "--role", "officer")  # the operator: the home agency's, not every agency's
    _, supervisors, _ = _eligible(ready_svc, "--role", "officer", "--user", "supervisor")  # the supervisor's own
    assert city == supervisors and "officer1" in city and not {"officer-a1", "officer-b"} & set(city)
    assert _eligible(ready_svc, "--role", "officer", "--agency", "nowhere")[0] == 2
    assert _eligible(ready_svc, "--role", "officer", "--agency", "da", "--case", str(tree.district_case))[0] == 2


def _block(svc, *user_ids: str) -> None:
    with svc.uow() as work:
        work.session.execute(update(UserKeyRow).where(UserKeyRow.user_id.in_(user_ids), UserKeyRow.active.is_(True))
                             .values(pin_failures=svc.settings.security.signing_pin_attempts, blocked_at=NOW))
        work.commit()


def test_blocked_pins_are_listed_to_those_who_may_unblock_them_marked_by_agency(ready_svc, tree):  # noqa: F811
    add_user(AddUser(user_id="admin-a", name="甲区管理", password=DEMO_PASSWORD, roles=["admin"], pin=DEMO_PIN,
                     agency_code="da"), svc=ready_svc, clock=MutableClock(NOW))
    _block(ready_svc, "officer1", "officer-a1", "officer-b")

    def listed(viewer: str | None) -> set[tuple[str, str]]:
        return {(p.user_id, p.agency) for p in blocked_signing_pins(ready_svc, viewer)}

    everyone = {("officer1", tree.home), ("officer-a1", "da"), ("officer-b", "db")}
    assert listed("admin") == listed(None) == everyone  # the platform's administrator, and the operator
    assert listed("admin-a") == listed("head-a") == {("officer-a1", "da")}
    assert listed("head-b") == {("officer-b", "db")}
    assert listed("head") == {("officer1", tree.home)}  # the city's head: not the districts' people
    assert listed("supervisor") == listed("officer-a1") == set()  # they unblock nobody's

    def unblock(by: str, user_id: str) -> None:
        unblock_signing_pin(UnblockSigningPin(user_id=user_id, by=by, reason="忘记PIN码"), svc=ready_svc,
                            clock=MutableClock(NOW))

    with pytest.raises(Forbidden, match="不属于本单位"):
        unblock("admin-a", "officer-b")  # a district's administrator: not the sibling district's people
    unblock("admin-a", "officer-a1")
    unblock("admin", "officer-b")
    assert listed("admin") == {("officer1", tree.home)}
