"""考核指标: the figures of a small province (tests/web/indicatorcases.py), each worked out by hand from the cases
played there — not by the code under test — and the same figures through the CLI, CSV, XLSX and the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from engine.cli import main
from engine.db.indicator_tables import CaseFiguresRow
from engine.db.tables import TaskRow
from engine.errors import Forbidden, ValidationError
from engine.usecases.indicator_rollup import built_through
from engine.usecases.indicators import IndicatorQuery, indicator_cases, indicators
from tests.dbtemplates import Template, starting_point
from tests.web.indicatorcases import CHILD, PROVINCE
from tests.web.webhelpers import login

SEPTEMBER = {"start": dt.date(2026, 9, 1), "end": dt.date(2026, 9, 30)}
LATER = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # G's preliminary check is long overdue by then


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, province=PROVINCE)


@pytest.fixture
def province(model, template_result):
    return template_result


def _report(svc, user="auditor", **kw):
    return indicators(IndicatorQuery(user_id=user, **{**SEPTEMBER, **kw}), svc=svc, now=LATER)


def test_the_city_figures_with_its_district_are_those_counted_by_hand(province, svc):
    total = _report(svc).total.values
    # Registered in September: A, B, C, D, G at the city and E at the district; all six by telephone.
    assert (total["received"], total["complaints"]) == (6, 6)
    assert total["filed_cases"] == 1  # A (B went the summary way, D was not filed, G waits before filing)
    assert total["closed"] == 5  # all but G
    assert (total["summary"], total["general"]) == (1, 1)
    assert total["fines_yuan"] == 3200.0
    assert total["penalties_yuan"] == 5500.5  # 3,000 + 1,500.50 + 800 + 200
    assert (total["warnings"], total["licences_revoked"], total["suspended"]) == (2, 1, 1)
    assert total["officers"] == 4  # officer1-3 at the city, officer_east at the district: all with a valid 执法证
    assert total["per_officer"] == pytest.approx(1 / 4)
    assert total["handled_on_time_rate"] == 1.0  # six 受理审查, each within its 7 working days
    assert total["feedback_rate"] == pytest.approx(4 / 6)  # A, B, C, D told; E transferred, G not yet
    assert total["substantiated_rate"] == pytest.approx(2 / 3)  # A and B of A, B, C
    assert total["satisfaction_rate"] == pytest.approx(2 / 3)  # A 基本满意, C 满意; B 不满意
    assert total["publication_rate"] == 1.0  # A, released an hour after being served
    assert total["overdue"] == 1


def test_each_agency_row_counts_its_own_branch(province, svc):
    rows = {r.key: r.values for r in _report(svc).rows}
    assert set(rows) == {"cz", CHILD}
    assert (rows["cz"]["received"], rows[CHILD]["received"]) == (5, 1)
    assert (rows["cz"]["officers"], rows[CHILD]["officers"]) == (3, 1)
    assert rows[CHILD]["closed"] == 1 and rows[CHILD]["penalties_yuan"] == 0


def test_year_on_year_compares_with_the_same_period_a_year_before(province, svc):
    change = _report(svc).total.change
    assert change["received"] == pytest.approx(5.0)  # 6 against Y alone: +500 %
    assert change["closed"] == pytest.approx(4.0)  # 5 against 1
    assert change["penalties_yuan"] == pytest.approx((5500.5 - 200) / 200)
    assert change["filed_cases"] is None  # nothing filed a year before: no ratio to give


def test_per_officer_each_case_counts_for_both_its_officers_and_once_in_the_total(province, svc):
    report = _report(svc, by="officer")
    rows = {r.key: r.values for r in report.rows}
    assert set(rows) == {"officer1", "officer2"}
    assert rows["officer1"]["received"] == 4 and rows["officer2"]["received"] == 4  # A, B, D, G
    assert rows["officer1"]["closed"] == 3  # A, B, D
    assert report.total.values["received"] == 6


def test_per_month_with_the_same_month_a_year_before(province, svc):
    report = _report(svc, by="month", start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    assert [r.key for r in report.rows] == ["2026-09"]
    assert report.rows[0].values["received"] == 6
    assert report.rows[0].change["received"] == pytest.approx(5.0)


def test_overdue_steps_are_counted_by_step(province, svc):
    with svc.uow.read() as session:
        step, name = session.execute(select(TaskRow.spec_id, TaskRow.name).where(
            TaskRow.case_id == province["G"].id, TaskRow.status == "ready")).one()
    assert _report(svc).overdue_by_step == ((step, name, 1),)


def test_a_figure_drills_down_to_the_cases_it_counts(province, svc):
    query = IndicatorQuery(user_id="auditor", **SEPTEMBER)
    assert [c.id for c in indicator_cases(query, "licences_revoked", None, svc=svc, now=LATER).cases] == \
        [province["A"].id]
    told = indicator_cases(query, "feedback_rate", None, svc=svc, now=LATER)
    assert sorted(c.id for c in told.cases) == sorted(province[k].id for k in "ABCD")
    district = indicator_cases(query, "received", CHILD, svc=svc, now=LATER)
    assert [c.id for c in district.cases] == [province["E"].id]
    with pytest.raises(ValidationError):
        indicator_cases(query, "officers", None, svc=svc, now=LATER)


def test_the_step_that_signs_a_decision_records_its_figures(province, svc):
    with svc.uow.read() as session:
        row = session.get(CaseFiguresRow, province["A"].id)
    assert (row.fine, row.confiscated_income, row.confiscated_property) == (3000.0, 1500.5, 800.0)
    assert (row.licence_revoked, row.suspension_months, row.procedure) == (True, 3, "general")
    assert row.published_at <= row.publication_due
    assert (row.satisfaction, row.substantiated) == ("basically_satisfied", True)


@pytest.mark.parametrize(("user", "agency", "allowed"), [
    ("auditor", None, True), ("auditor", CHILD, True), ("head", None, True), ("head", CHILD, False),
    ("head_east", CHILD, True), ("head_east", "cz", False), ("officer1", None, False), ("clerk", None, False)])
def test_who_reads_which_agency(province, svc, user, agency, allowed):
    if allowed:
        assert _report(svc, user=user, agency=agency).agency == (agency or "cz" if user != "head_east" else CHILD)
    else:
        with pytest.raises(Forbidden):
            _report(svc, user=user, agency=agency)


def _cli(svc, *args):
    result = CliRunner().invoke(main, ["indicators", "--from", "2026-09-01", "--to", "2026-09-30",
                                       "--now", LATER.isoformat(), *args], obj={"svc": svc})
    return result


def test_the_cli_gives_the_page_figures_as_json_csv_and_xlsx(province, svc, tmp_path):
    expected = _report(svc)
    printed = json.loads(_cli(svc, "--user", "auditor").output)
    assert printed["total"]["values"]["penalties_yuan"] == 5500.5
    assert printed["total"]["values"] == json.loads(json.dumps(dict(expected.total.values)))
    rows = list(csv.reader(io.StringIO(_cli(svc, "--format", "csv").output)))
    header = rows[0]
    total = dict(zip(header, rows[-1], strict=True))
    assert total["罚没款（元）"] == "5500.5" and total["立案数"] == "1" and total["反馈率"] == "0.6667"
    assert [r[0] for r in rows[1:]] == ["cz", CHILD, "total"]
    out = tmp_path / "indicators.xlsx"
    assert _cli(svc, "--format", "xlsx", "--lang", "en", "--out", str(out)).exit_code == 0
    sheet = load_workbook(out).active
    cells = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    read = dict(zip(cells[0], cells[-1], strict=True))
    assert read["Fines and confiscations (CNY)"] == 5500.5 and read["Cases filed"] == 1
    assert read["Feedback given"] == pytest.approx(0.6667)
    assert read["Cases per officer"] == 0.25


def test_the_cli_refuses_what_the_person_may_not_read_and_bad_input(province, svc):
    assert _cli(svc, "--user", "officer1").exit_code == 2
    assert _cli(svc, "--agency", "nowhere").exit_code == 2
    bad = CliRunner().invoke(main, ["indicators", "--from", "2026-10-01", "--to", "2026-09-01"], obj={"svc": svc})
    assert bad.exit_code == 2


def test_the_cli_rebuilds_the_rollup_and_refuses_bad_input(province, svc):
    """`casetrail indicators rebuild` hands its options to the job as one command, its time as the clock: bad
    input is refused with exit 2 before anything is written; a range rebuilds that range whole."""
    def rebuild(*args: str):
        return CliRunner().invoke(main, ["indicators", "rebuild", "--now", LATER.isoformat(), "--json", *args],
                                  obj={"svc": svc})

    for args, said in ((("--from", "2026-10-01", "--to", "2026-09-01"), "起始日期晚于截止日期"),
                       (("--agency", " "), "机构代码"), (("--agency", "nowhere"), "机构不存在"),
                       (("--to", "2026-13-01"), "--to")):
        refused = rebuild(*args)
        assert refused.exit_code == 2 and said in refused.output, (args, refused.output)
    with svc.uow.read() as session:
        assert built_through(session) is None
    figures = _report(svc)
    built = json.loads(rebuild("--agency", CHILD, "--from", "2026-09-01").output)
    assert built["built_through"] == "2026-11-30"  # LATER is 10:00 on 30 November, Beijing time
    assert built["ranges"] == [["", "2026-11-29"], ["2026-09-01", "2026-11-29"]]
    assert _report(svc) == figures


def test_the_page_shows_the_figures_to_the_head_and_not_to_an_officer(province, client):
    login(client, "officer1")
    assert client.get("/indicators").status_code == 403
    client.get("/logout")
    login(client, "head")
    html = client.get("/indicators?from=2026-09-01&to=2026-09-30").get_data(as_text=True)
    assert "5,500.50" in html and "处罚公示率" in html and "<svg" in html
    assert client.get(f"/indicators?agency={CHILD}").status_code == 403
    english = client.get("/indicators?from=2026-09-01&to=2026-09-30&lang=en").get_data(as_text=True)
    assert "Fines and confiscations (CNY)" in english


def test_the_page_drills_down_and_downloads(province, client):
    login(client, "auditor")
    html = client.get("/indicators/cases?figure=licences_revoked&from=2026-09-01&to=2026-09-30").get_data(as_text=True)
    assert province["A"].number in html and province["B"].number not in html
    response = client.get("/indicators/export.csv?from=2026-09-01&to=2026-09-30")
    assert response.status_code == 200 and "5500.5" in response.get_data(as_text=True)
    xlsx = client.get("/indicators/export.xlsx?from=2026-09-01&to=2026-09-30")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 5  # the title, the header, cz, cz-east, the total
