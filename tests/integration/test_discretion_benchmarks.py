"""Each agency its own 裁量基准 (issue 16; 《行政处罚法》第三十四条): the benchmarks are rows of the model's decision
table, an agency adopts one for itself and those below it, the 调查终结报告 records the one in force, and every row
stays within the law's range."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from engine.agencies import case_settings
from engine.db.admin_tables import AdminEventRow
from engine.db.tables import CaseRow, StepRecordRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_AGENCIES, cast_of
from engine.errors import ValidationError
from engine.seed import seed_agencies
from engine.usecases.agencies import add_agency, agency_detail, set_agency_setting
from engine.usecases.audit import verify_cases
from engine.usecases.case_summary import case_summary
from engine.usecases.cases import case_data
from engine.usecases.viewer import case_for_viewer
from engine.values import AddAgency, SetAgencySetting, fixed_clock
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import PLAY_START, READY, SETUP_TIME

CLOCK = fixed_clock(SETUP_TIME)
KEY = "discretion.benchmark"
DISTRICTS = READY.then("two districts with their people", lambda svc: seed_agencies(svc, CLOCK))
HP, XS = DEMO_AGENCIES  # 和平区 applies the platform's benchmark, 西山区 its own (the demo's)


def _reported(svc, agency):
    """A case of `agency` (penalty_waiver: public_place_unlicensed, 情节 ordinary, proposed fine 3000) played up to
    the head's decision: the 调查终结报告 is signed, the DMN has run."""
    sc = SCENARIOS["penalty_waiver"]
    stop = next(i for i, s in enumerate(sc.steps) if s.spec_id == "make_decision")
    return play(svc, sc, start=PLAY_START, stop_before=stop, cast=cast_of(agency)).case


BOTH = DISTRICTS.then("a reported case in each district", lambda svc: (_reported(svc, HP), _reported(svc, XS)))


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, districts=DISTRICTS, both=BOTH)


@pytest.fixture
def districts(ready_svc):
    return ready_svc


@pytest.fixture
def both(ready_svc, template_result):
    return template_result


def _summary(svc, number: str, agency):
    """The case summary the agency's head decides with."""
    view = case_for_viewer(svc, number, cast_of(agency)["head"])
    return case_summary(svc, view, clock=fixed_clock(PLAY_START + dt.timedelta(days=60)))


def _signed_report(svc, number: str) -> dict:
    """The form data of the signed 调查终结报告, as its record's canonical bytes hold it."""
    with svc.uow.read() as session:
        canonical = session.scalar(select(StepRecordRow.canonical).join(CaseRow, CaseRow.id == StepRecordRow.case_id)
                                   .where(CaseRow.number == number,
                                          StepRecordRow.task_spec_id == "investigation_report"))
    return json.loads(canonical)["form_data"]


def test_two_districts_same_violation_and_severity_apply_their_own_benchmark(both, ready_svc) -> None:
    hp, xs = both
    ranges = {}
    for case, agency, benchmark in ((hp, HP, "platform"), (xs, XS, "cz-xs-2026")):
        # the officer's signed report names the benchmark in force for the case's agency
        assert _signed_report(ready_svc, case.number)["discretion_benchmark"] == benchmark
        data = case_data(ready_svc, case.number)
        assert data["benchmark_id"] == benchmark  # the model's own decision, in the case's data
        summary = _summary(ready_svc, case.number, agency)
        assert summary.benchmark.benchmark_id == benchmark
        assert (summary.benchmark.fine_min, summary.benchmark.fine_max) == (data["fine_min"], data["fine_max"])
        ranges[benchmark] = (summary.benchmark.fine_min, summary.benchmark.fine_max, summary.benchmark.benchmark_name)
    assert ranges["platform"][:2] == (1500, 3500)
    assert ranges["cz-xs-2026"][:2] == (1000, 3000)
    assert "西山区" in ranges["cz-xs-2026"][2] and "示例" in ranges["cz-xs-2026"][2]
    assert "平台默认" in ranges["platform"][2]


def test_a_station_inherits_its_district_s_benchmark_and_the_nearest_wins(districts) -> None:
    svc = districts
    station = AddAgency(code="cz-xs-xq", name="西山区西桥卫生监督所", short="西桥卫", parent_code="cz-xs", level="station",
                        case_number_prefix="西桥卫投", penalty_number_prefix="西桥卫罚", by="admin")
    add_agency(station, svc=svc, clock=CLOCK)
    assert agency_detail(svc, "cz-xs-xq").effective[KEY] == "cz-xs-2026"  # its district's
    assert agency_detail(svc, "cz-hp").effective[KEY] == "platform"  # nobody above 和平区 adopted one
    with svc.uow.read() as session:
        assert case_settings(session, svc.settings, "cz-xs-xq").discretion.benchmark == "cz-xs-2026"
    set_agency_setting(SetAgencySetting(code="cz-xs-xq", key=KEY, value="platform", by="admin"), svc=svc, clock=CLOCK)
    assert agency_detail(svc, "cz-xs-xq").effective[KEY] == "platform"  # its own, nearer than the district's
    assert agency_detail(svc, "cz-xs").effective[KEY] == "cz-xs-2026"
    set_agency_setting(SetAgencySetting(code="cz-xs-xq", key=KEY, value=None, by="admin"), svc=svc, clock=CLOCK)
    assert agency_detail(svc, "cz-xs-xq").effective[KEY] == "cz-xs-2026"
    # The city adopting one: 和平区, which has none of its own, inherits the city's; 西山区 keeps its own.
    set_agency_setting(SetAgencySetting(code="cz", key=KEY, value="cz-xs-2026", by="admin"), svc=svc, clock=CLOCK)
    set_agency_setting(SetAgencySetting(code="cz-xs", key=KEY, value="platform", by="admin"), svc=svc, clock=CLOCK)
    assert agency_detail(svc, "cz-hp").effective[KEY] == "cz-xs-2026"
    assert agency_detail(svc, "cz-xs-xq").effective[KEY] == "platform"


def test_a_case_reported_before_the_agency_changes_its_benchmark_keeps_it_and_still_verifies(both, ready_svc) -> None:
    svc = ready_svc
    _, xs = both
    before = _summary(svc, xs.number, XS).benchmark
    set_agency_setting(SetAgencySetting(code="cz-xs", key=KEY, value="platform", by="admin"), svc=svc, clock=CLOCK)
    after = _summary(svc, xs.number, XS).benchmark
    assert after == before and after.benchmark_id == "cz-xs-2026"  # read from the signed report, not settings
    [report] = verify_cases(svc, [xs.number], clock=fixed_clock(PLAY_START + dt.timedelta(days=60)))
    assert report.ok, report.first_failure  # the replay reads the benchmark from the recorded step
    later = _reported(svc, XS)  # a case reported from now on applies the benchmark in force now
    assert _summary(svc, later.number, XS).benchmark.benchmark_id == "platform"


@pytest.mark.parametrize(("value", "says"), [
    ("cz-xs-2099", "第三十四条"),  # not published by the model
    ("西山 基准", "第三十四条"),  # not a benchmark id
])
def test_a_benchmark_the_model_does_not_publish_is_refused_and_nothing_written(districts, value, says) -> None:
    with districts.uow.read() as session:
        events = len(session.scalars(select(AdminEventRow.id)).all())
    with pytest.raises(ValidationError) as refused:
        set_agency_setting(SetAgencySetting(code="cz-hp", key=KEY, value=value, by="admin"), svc=districts,
                           clock=CLOCK)
    assert says in refused.value.errors[KEY]
    assert "cz-xs-2026" in refused.value.errors[KEY] or "须为" in refused.value.errors[KEY]
    with districts.uow.read() as session:
        assert len(session.scalars(select(AdminEventRow.id)).all()) == events
    assert agency_detail(districts, "cz-hp").effective[KEY] == "platform"
