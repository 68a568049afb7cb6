"""Issue 15 on the task page: the 决定书's form starts from what the case recorded, says where each value comes
from (取自…), shows the 裁量基准 beside the fine, and asks nobody to type a 文号."""

from __future__ import annotations

import html as markup
import re

import pytest

from engine.usecases.tasks import list_tasks, show_task
from tests.dbtemplates import Template, starting_point
from tests.web.carrycases import FACTS_AND_EVIDENCE, REPORT, carried_scenario
from tests.web.conftest import played
from tests.web.webhelpers import PIN, login, post

AT_DECISION = played("a penalty case with its own report, up to make_decision", carried_scenario(), "make_decision")
AT_SERVICE = played("a penalty case with its own report, up to serve_decision", carried_scenario(), "serve_decision")


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, at_decision=AT_DECISION, at_service=AT_SERVICE)


@pytest.fixture
def at_decision(model, template_result):
    return template_result


@pytest.fixture
def at_service(model, template_result):
    return template_result


def _decision_task(svc, case_number, spec_id="make_decision"):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def _textarea(html: str, name: str) -> str:
    found = re.search(rf'<textarea id="f-{name}" name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert found, f"no textarea {name}"
    return markup.unescape(found.group(1))


def _input(html: str, name: str) -> str:
    found = re.search(rf'<input id="f-{name}" name="{name}"[^>]* value="([^"]*)"', html)
    assert found, f"no input {name}"
    return markup.unescape(found.group(1))


def _texts(html: str) -> dict[str, str]:
    """The decision's texts as the page shows them, posted back untouched."""
    return {name: _textarea(html, name) for name in ("facts_and_evidence", "basis", "performance", "remedy",
                                                     "correction_order")}


def test_the_decision_form_starts_from_the_report_the_notice_and_the_benchmark(at_decision, client, svc):
    task = _decision_task(svc, at_decision.case.number)
    login(client, "head")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert _textarea(html, "facts_and_evidence") == FACTS_AND_EVIDENCE
    assert _textarea(html, "basis") == REPORT["legal_basis"]
    assert _input(html, "final_fine") == "3000"
    assert 'name="final_warning" value="on" checked' in html
    assert "电子支付" in _textarea(html, "performance") and "申请行政复议" in _textarea(html, "remedy")
    assert "公共场所卫生许可证" in _textarea(html, "correction_order")
    assert 'data-carried="facts_and_evidence">取自事先告知<' in html
    assert 'data-carried="remedy">取自本机关文书用语<' in html
    assert "裁量基准：1,500–3,500 元" in html
    assert 'name="decision_number"' not in html  # the 文号 is the engine's: shown, never an input
    assert 'data-fixed="decision_number"' in html and "签发时由系统自动编号" in html

    english = client.get(f"/tasks/{task.id}?lang=en").get_data(as_text=True)
    assert 'data-carried="facts_and_evidence">From: Prior notice<' in english
    assert "Discretion benchmark: CNY 1,500–3,500" in english and "Numbered by the system when signed" in english


def test_the_decision_is_signed_with_what_was_carried_and_gets_its_number(at_decision, client, svc, clock):
    task = _decision_task(svc, at_decision.case.number)
    login(client, "head")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    form = _texts(html)
    form |= {"final_fine": _input(html, "final_fine"), "final_warning": "on", "pin": PIN,
             "decision_date": clock().astimezone(svc.settings.zone).strftime("%Y-%m-%dT%H:%M")}
    response = post(client, f"/tasks/{task.id}", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    done = show_task(svc, task.id).form_data or {}
    assert done["facts_and_evidence"] == FACTS_AND_EVIDENCE and done["final_fine"] == 3000
    assert done["decision_number"] == "呈卫罚〔2026〕001号"
    assert done["correction_order"] == form["correction_order"] != ""


def test_a_typed_number_is_not_read_from_the_page(at_decision, client, svc, clock):
    """A 文号 posted anyway (an old page, a crafted request) is not taken: the form has no such input."""
    task = _decision_task(svc, at_decision.case.number)
    login(client, "head")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    form = _texts(html)
    form |= {"final_fine": "3000", "pin": PIN, "decision_number": "呈卫罚〔2026〕999号",
             "decision_date": clock().astimezone(svc.settings.zone).strftime("%Y-%m-%dT%H:%M")}
    assert post(client, f"/tasks/{task.id}", form).status_code == 302
    assert (show_task(svc, task.id).form_data or {})["decision_number"] == "呈卫罚〔2026〕001号"


def test_the_receipt_shows_the_number_of_the_decision_it_serves_even_after_an_error(at_service, client, svc):
    task = _decision_task(svc, at_service.case.number, "serve_decision")
    login(client, task.assignee or "officer1")
    shown = '<p class="fixed-value"><bdi data-case translate="no" lang="zh-CN">呈卫罚〔2026〕001号</bdi></p>'
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert shown in html and 'name="document_number"' not in html
    assert 'data-carried="document_number">取自处罚决定<' in html
    refused = post(client, f"/tasks/{task.id}", {"service_method": "direct", "pin": PIN})  # no time, no recipient
    assert refused.status_code == 422
    assert shown in refused.get_data(as_text=True)
