"""People are chosen, not typed: a person field is a list of those eligible (姓名 · 单位 · 执法证号 and its validity),
its value the login id; an officer whose 执法证 has lapsed is not offered, and sending one anyway is refused at the
field citing 行政处罚法 第四十二条, with nothing written."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re

from engine.usecases.people import set_user_certificate
from engine.usecases.tasks import list_tasks, show_task
from engine.values import SetUserCertificate, fixed_clock
from tests.web.webhelpers import PIN, login, post, tags_out


def _task(svc, case_number, spec_id):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def _offered(page: str, name: str) -> dict[str, str]:
    """value -> label of the checkboxes of field `name`."""
    return {value: tags_out(label).strip() for value, label in re.findall(
        rf'<input type="checkbox" name="{name}" value="([^"]*)"[^>]*>(.*?)</label>', page)}


FORM = {"acceptance_decision": "accept", "acceptance_opinion": "同意受理。", "case_summary": "美容店无证营业约两个月。",
        "unit": "公共场所卫生监督科", "pin": PIN}


def _lapse(svc, user_id: str, until: dt.date) -> None:
    set_user_certificate(SetUserCertificate(user_id=user_id, cert_no="呈卫执 2020-0102", valid_until=until, by=None,
                                            reason="证件到期"), svc=svc, clock=fixed_clock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC)))


def test_case_officers_are_picked_from_the_certified_officers_with_name_unit_and_certificate(
        model, client, svc, at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    login(client, "head")
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    offered = _offered(page, "case_officers")
    assert offered["officer1"] == "王承办 · 测试科 · 呈卫执 2023-0101（有效期至 2031-06-30）"
    assert {"officer1", "officer2", "officer3"} <= set(offered)
    assert not {"clerk", "head", "panel1", "legal"} & set(offered)  # other roles are not officers
    english = htmllib.unescape(client.get(f"/tasks/{task.id}?lang=en").get_data(as_text=True))
    assert "呈卫执 2023-0101 (valid until 2031-06-30)" in english


def test_a_lapsed_officer_is_not_offered_and_is_refused_when_sent_anyway(model, client, svc, clock,
                                                                         at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    _lapse(svc, "officer2", clock.moment.date() - dt.timedelta(days=1))
    login(client, "head")
    assert "officer2" not in _offered(client.get(f"/tasks/{task.id}").get_data(as_text=True), "case_officers")
    response = post(client, f"/tasks/{task.id}", {**FORM, "case_officers": ["officer1", "officer2"]})
    assert response.status_code == 422
    page = htmllib.unescape(response.get_data(as_text=True))
    error = re.search(r'id="e-case_officers-1" role="alert">(.*?)</p>', page, re.S)
    assert error and "赵承办" in error.group(1) and "第四十二条" in error.group(1)
    assert show_task(svc, task.id).status == "ready"  # nothing written
    assert [t.spec_id for t in list_tasks(svc, case=at_acceptance_review.case.number)] == ["acceptance_review"]


def test_someone_without_the_role_is_refused_by_login_id(model, client, svc, at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    login(client, "head")
    response = post(client, f"/tasks/{task.id}", {**FORM, "case_officers": ["officer1", "clerk"]})
    assert response.status_code == 422
    assert "clerk" in htmllib.unescape(response.get_data(as_text=True))
    assert show_task(svc, task.id).status == "ready"


def test_a_picked_pair_completes_the_step_and_the_record_shows_names(model, client, svc, at_acceptance_review):
    task = _task(svc, at_acceptance_review.case.number, "acceptance_review")
    login(client, "head")
    response = post(client, f"/tasks/{task.id}", {**FORM, "case_officers": ["officer1", "officer3"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert show_task(svc, task.id).form_data["case_officers"] == ["officer1", "officer3"]
    done = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "王承办、孙承办" in tags_out(done)  # the completed step shows names, not login ids


def test_an_administrator_records_a_certificate_and_the_users_page_shows_it(client, svc):
    login(client, "admin")
    response = post(client, "/admin/users/officer2/enforcement-certificate",
                    {"cert_no": "呈卫执 2026-0102", "cert_valid_until": "2031-10-31", "reason": "换发新证"},
                    token_from="/admin/users/officer2")
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    page = htmllib.unescape(client.get("/admin/users/officer2").get_data(as_text=True))
    assert "呈卫执 2026-0102" in page and "2031-10-31" in page and "登记执法证" in page  # shown, and journalled
    assert "呈卫执 2026-0102" in client.get("/admin/users").get_data(as_text=True)
    refused = post(client, "/admin/users/officer2/enforcement-certificate",
                   {"cert_no": "呈卫执 2026-0102", "cert_valid_until": "2031-10-31", "reason": ""},
                   token_from="/admin/users/officer2")
    assert refused.status_code == 422  # an administrator says why
    login(client, "head")
    assert post(client, "/admin/users/officer2/enforcement-certificate",
                {"cert_no": "X1", "reason": "试"}, token_from="/tasks").status_code == 403
