"""A case runs with its agency's settings (engine/agencies.py `case_settings`): the 较大数额 of 行政处罚法第六十三条
and whether every general-procedure case goes to 法制审核 (第五十八条). The model reads them from the case's data,
taken when the case is registered; the signed intake states them (journal.SETTINGS_KEY), and `verify`, the
projections, a new process and an auditor's offline `verify-bundle` replay the case with them — not with the
platform's settings, nor with its agency's as changed since."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from sqlalchemy import select

from engine.db.tables import CaseRow, StepRecordRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_AGENCIES, cast_of
from engine.journal import SETTINGS_KEY
from engine.seed import seed_agencies
from engine.spiff.driving import TIMER, Step
from engine.spiff.replay import ReplayMemo
from engine.usecases.agencies import set_agency_setting
from engine.usecases.audit import export_case, verify_bundle_file, verify_cases
from engine.usecases.cases import case_data, show_case
from engine.values import SetAgencySetting, fixed_clock
from signatures.pki import certificate_pem
from signatures.report import Check, Status
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import PLAY_START, READY, SETUP_TIME
from tests.integration.test_cross_process import processes as processes  # noqa: F401  (the fixture)

CLOCK = fixed_clock(SETUP_TIME)
LATER = fixed_clock(PLAY_START + dt.timedelta(days=120))
HP, XS = DEMO_AGENCIES
# The demo's respondent is an organisation: the platform's 较大数额 for one is 20000 元, the scenarios' fine 3000.
LARGE_FINE = "thresholds.hearing_large_fine_organisation"
ALL_GENERAL = "legal_review.all_general_procedure"  # the platform reviews every general-procedure case


def _set(svc, code: str, key: str, value: str | None) -> None:
    set_agency_setting(SetAgencySetting(code=code, key=key, value=value, by="admin"), svc=svc, clock=CLOCK)


def _district_rules(svc) -> None:
    """西山区: 较大数额 for an organisation 2500 元; 和平区: 法制审核 only of the cases 第五十八条 lists."""
    seed_agencies(svc, CLOCK)
    _set(svc, XS.code, LARGE_FINE, "2500")
    _set(svc, HP.code, ALL_GENERAL, "false")


def _hearing_window() -> tuple[Step, ...]:
    """penalty_statement, but the party did not waive a hearing it has a right to: after the 复核 the case waits
    out the hearing-request window (a timer) before 法制审核."""
    out: list[Step] = []
    for step in SCENARIOS["penalty_statement"].steps:
        out.append(step)
        if step.spec_id == "review_statement":
            out.append(Step(TIMER))
    return tuple(out)


HEARD = dataclasses.replace(SCENARIOS["penalty_statement"], name="xs_hearing_window", steps=_hearing_window())
UNREVIEWED = dataclasses.replace(SCENARIOS["penalty_waiver"], name="hp_unreviewed", steps=tuple(
    s for s in SCENARIOS["penalty_waiver"].steps if s.spec_id != "legal_review"))


def _played(svc) -> tuple[str, str, str]:
    """西山区's case to its end, 和平区's to its end, and 西山区's again up to the hearing window (waiting)."""
    window = [s.spec_id for s in HEARD.steps].index(TIMER)
    return (play(svc, HEARD, start=PLAY_START, cast=cast_of(XS)).case.number,
            play(svc, UNREVIEWED, start=PLAY_START, cast=cast_of(HP)).case.number,
            play(svc, HEARD, start=PLAY_START, stop_before=window, cast=cast_of(XS)).case.number)


DISTRICTS = READY.then("西山区's 较大数额, 和平区's legal review", _district_rules)
PLAYED = DISTRICTS.then("a case of each played to its end", _played)


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, two_cases=PLAYED)


@pytest.fixture
def two_cases(ready_svc, template_result) -> tuple[str, str, str]:
    return template_result


def _intake(svc, number: str) -> dict:
    """The form data of the case's signed intake, as its record's canonical bytes hold it."""
    with svc.uow.read() as session:
        canonical = session.scalar(select(StepRecordRow.canonical).join(CaseRow, CaseRow.id == StepRecordRow.case_id)
                                   .where(CaseRow.number == number, StepRecordRow.seq == 1))
    return json.loads(canonical)["form_data"]


def _all_valid(svc, numbers: list[str]) -> None:
    reports = verify_cases(svc, numbers, clock=LATER)
    assert [r.case_number for r in reports] == numbers
    for report in reports:
        assert report.ok, (report.case_number, report.first_failure)


def _bundle_valid(svc, number: str) -> None:
    """`casetrail verify-bundle`: the auditor's offline check, with the replay of the path."""
    root = certificate_pem(svc.agency_keys.certificates()["root"])
    report = verify_bundle_file(export_case(svc, number, clock=LATER), root)
    assert report.ok, report.first_failure
    path = next(c for c in report.case_checks if c.check == Check.PATH)
    assert path.status == Status.PASSED, path.reason


def test_the_district_s_large_fine_gives_the_hearing_right_and_the_case_verifies(two_cases, ready_svc) -> None:
    svc = ready_svc
    number, _, waiting = two_cases
    data = case_data(svc, number)
    platform = svc.settings.thresholds["hearing_large_fine_organisation"].value
    assert data["settings"]["thresholds"]["hearing_large_fine_organisation"] == 2500 < 3000 < platform
    assert data["hearing_right"] is True and "第六十三条" in data["hearing_basis"]
    assert data["outcome"] == "penalty_published"
    assert _intake(svc, number)[SETTINGS_KEY] == data["settings"]  # the clerk's signature covers them
    # Waiting out the hearing-request window after the 复核: the platform's settings (no hearing right) would
    # have the case at 法制审核 already, and the projection check would find the case row's stage wrong.
    assert case_data(svc, waiting)["hearing_right"] is True
    assert [t.spec_id for t in show_case(svc, waiting).open_tasks] == []
    _all_valid(svc, [number, waiting])
    _bundle_valid(svc, number)


def test_the_district_s_legal_review_setting_skips_the_review_and_the_case_verifies(two_cases, ready_svc) -> None:
    svc = ready_svc
    _, number, _ = two_cases
    data = case_data(svc, number)
    assert svc.settings.legal_review_all_general is True
    assert data["settings"]["legal_review_all_general"] is False
    assert data["legal_review_required"] is False and "legal_review_passed" not in data
    assert data["outcome"] == "penalty_published"
    _all_valid(svc, [number])
    _bundle_valid(svc, number)


def test_settings_changed_after_the_cases_ran_change_nothing_of_their_verification(two_cases, ready_svc,
                                                                                 processes) -> None:
    svc = ready_svc
    heard, unreviewed, waiting = two_cases
    _set(svc, XS.code, LARGE_FINE, None)
    _set(svc, HP.code, ALL_GENERAL, None)
    # The cases keep what they ran with (see docs/architecture.md, Agencies: a case takes its agency's settings
    # when it is registered) ...
    assert case_data(svc, heard)["settings"]["thresholds"]["hearing_large_fine_organisation"] == 2500
    _all_valid(svc, [heard, unreviewed, waiting])  # one run, one memo: two agencies' settings apart
    _bundle_valid(svc, heard)
    for number in (heard, unreviewed):  # a new process: nothing parsed or kept
        verified = processes(LATER(), "verify", number)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    # ... and a case registered from now on takes the platform's again: no hearing right for the same fine.
    later = play(svc, SCENARIOS["penalty_statement"], start=PLAY_START + dt.timedelta(days=1), cast=cast_of(XS)).case
    assert case_data(svc, later.number)["hearing_right"] is False
    _all_valid(svc, [later.number])


def test_the_replay_memo_tells_two_agencies_settings_apart(two_cases, ready_svc) -> None:
    """Two intakes alike but for the settings they state are two keys: a verdict kept for one is not the other's."""
    svc = ready_svc
    with svc.uow.read() as session:
        definition = svc.definition(session, svc.current_definition_id(session))
    memo = ReplayMemo(definition, settings=svc.settings, calendar=svc.calendar)
    intake = {k: v for k, v in _intake(svc, two_cases[0]).items() if not k.startswith("_")}
    own = {**intake, "settings": _intake(svc, two_cases[0])[SETTINGS_KEY]}
    platform = {**intake, "settings": svc.settings.for_process()}
    assert memo.key([("start", own)]) != memo.key([("start", platform)])
