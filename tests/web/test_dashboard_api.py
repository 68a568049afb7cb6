"""The heads' dashboard (SVG charts, overdue steps) and the JSON API."""

from __future__ import annotations

import datetime as dt

from engine.usecases.tasks import list_tasks
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import login, post
from web.charts import bar_chart


def test_the_dashboard_charts_open_cases_per_stage_and_lists_overdue_steps(model, client, svc, clock, at_legal_review):
    first = play_until(svc, scenario(), "acceptance_review")  # and a case at legal review (the template's)
    due = next(t for t in list_tasks(svc, case=first.case.number)).due_at
    clock.moment = due + dt.timedelta(days=1)
    login(client, "head")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "<svg" in html and 'class="bar"' in html
    assert "在办案件（按环节）" in html and "受理" in html and "法制审核" in html
    assert "案件（按登记月份）" in html and "2026-09" in html
    assert first.case.number in html  # its acceptance review is overdue
    assert "已超期" in html


def test_bar_lengths_follow_the_values():
    chart = bar_chart("t", [("a", 4), ("b", 2), ("c", 0)])
    widths = [b.width for b in chart.bars]
    assert widths[0] == 2 * widths[1]
    assert widths[2] == 0


def test_the_api_lists_my_tasks_and_shows_a_case_as_the_page_does(model, client, svc, at_acceptance_review):
    played = at_acceptance_review
    login(client, "head")
    tasks = client.get("/api/tasks").get_json()
    assert [t["spec_id"] for t in tasks] == ["acceptance_review"]
    case = client.get(f"/api/cases/{played.case.id}").get_json()
    assert case["number"] == played.case.number
    # Offered the acceptance review by lane, the head reads the case without the complainant's identity …
    assert case["data"]["complainant"] != {} and "张三" not in str(case["data"]["complainant"])
    assert post(client, f"/tasks/{tasks[0]['id']}/claim").status_code == 302
    # … and once he holds it, he takes part in the case: the identity is his to see.
    case = client.get(f"/api/cases/{played.case.id}").get_json()
    assert case["data"]["complainant"]["name"] == "张三"
    me = client.get("/api/me").get_json()
    assert me["id"] == "head"


def test_the_api_answers_404_as_json(model, client):
    login(client, "head")
    response = client.get("/api/cases/424242")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


def test_a_long_chart_label_is_cut_to_fit_left_of_its_bar_and_kept_whole_in_the_tooltip():
    from web.charts import _text_width

    long = "公共场所未取得卫生许可证擅自营业"
    chart = bar_chart("t", [(long, 3), ("短", 1)])
    cut, short = chart.bars
    assert cut.short.endswith("…") and long.startswith(cut.short[:-1])
    assert _text_width(cut.short) <= chart.label_width - 8
    assert cut.label == long
    assert short.short == "短"


def test_each_bar_opens_the_case_list_filtered_to_what_it_counts(model, client, svc, clock, at_legal_review):
    import re
    from html import unescape

    played = at_legal_review
    login(client, "head")
    html = client.get("/dashboard").get_data(as_text=True)
    links = {unescape(h) for h in re.findall(r'<a href="(/cases\?[^"]+)"', html)}
    by_stage = next(h for h in links if "stage=" in h)
    assert "status=open" in by_stage
    month = played.case.created_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    for link in (by_stage, f"/cases?month={month}", *(h for h in links if "violation=" in h or "outcome=" in h)):
        assert link in links
        page = client.get(link).get_data(as_text=True)
        assert played.case.number in page, link
    assert played.case.number not in client.get("/cases?month=2020-01").get_data(as_text=True)
    assert played.case.number not in client.get("/cases?violation=nothing-like-it").get_data(as_text=True)
    assert client.get("/cases?month=2026-13").status_code == 422
    # Labels whole in the table under each chart (the SVG may cut them), each a link too.
    assert '<details class="chart-table">' in html


def test_a_bar_keeps_the_link_it_is_given():
    chart = bar_chart("t", [("a", 4), ("b", 2)], links=["/cases?stage=a", "/cases?stage=b"])
    assert [b.href for b in chart.bars] == ["/cases?stage=a", "/cases?stage=b"]
