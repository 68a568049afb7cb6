"""A form that comes back with errors: rows keep their cells, each error is marked where it is, the banner counts
what is marked, every message is in the page's language; what the form helps with before that (stars, now).

The rows are a task's repeatable object rows: 证据登记's evidence items (each picking one of the case's files) and
the party's material at 陈述申辩 (a file's number typed where the case has no file to pick)."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path

from engine.usecases.tasks import list_tasks, show_task
from tests.web.webcases import evidence_items
from tests.web.webhelpers import PIN, login, post
from web.schema_form import build_fields, error_places

FORMS = Path(__file__).resolve().parents[2] / "workflows" / "forms"


def _schema(task: str) -> dict:
    return json.loads((FORMS / f"{task}.schema.json").read_text(encoding="utf-8"))


INTAKE = _schema("intake")
COMPLAINT = {"channel": "letter", "received_at": "2026-09-15T10:30", "complainant.anonymous": "on",
             "respondent.name": "某某游泳馆", "respondent.kind": "organisation", "respondent.address": "呈州市中山路3号",
             "violation_type": "other", "content": "游泳馆无证经营。", "pin": PIN}


def _values(page: str, prefix: str) -> dict[str, str]:
    """name -> value of the form's inputs, lists and text areas whose name starts with `prefix`, as a browser would
    send them (a radio or a checkbox only when checked; not the row template's)."""
    found = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        name, value = re.search(r'\bname="([^"]*)"', tag), re.search(r'\bvalue="([^"]*)"', tag)
        if not name or not name.group(1).startswith(prefix) or "__i__" in name.group(1):
            continue
        if re.search(r'\btype="(radio|checkbox)"', tag) and not re.search(r"\bchecked\b", tag):
            continue
        found[name.group(1)] = htmllib.unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        if name.startswith(prefix) and "__i__" not in name and chosen:
            found[name] = htmllib.unescape(chosen.group(1))
    for name, text in re.findall(r'<textarea\b[^>]*\bname="([^"]*)"[^>]*>(.*?)</textarea>', page, re.S):
        if name.startswith(prefix) and "__i__" not in name:
            found[name] = htmllib.unescape(text)
    return found


def _error_at(page: str, name: str) -> str:
    found = re.search(rf'id="e-{name}" role="alert">(.*?)</p>', page, re.S)
    assert found, f"no error shown at {name}"
    return htmllib.unescape(found.group(1))


def _banner(page: str) -> str:
    found = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', page, re.S)
    assert found, "no banner"
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def _marked(page: str) -> int:
    return len(re.findall(r'class="field-error" id="e-', page))


def _row(page: str, index: int) -> str:
    """The HTML of row `index` of the page's rows (up to the next row or the row template)."""
    start = page.index(f'data-row="{index}"')
    ends = [i for i in (page.find('data-row="', start + 1), page.find("<template", start)) if i > 0]
    return page[start:min(ends)]


def _task(svc, case_number: str, spec_id: str):
    return next(t for t in list_tasks(svc, case=case_number) if t.spec_id == spec_id)


def test_rows_come_back_whole_after_an_error_and_the_error_is_marked_in_its_row(evidence_case, client, svc):
    task = _task(svc, evidence_case.number, "register_evidence")
    login(client, task.assignee or "officer1")
    items = evidence_items(evidence_case)
    rows = {f"evidence_items.{index}.{key}": str(value) for index, item in enumerate(items) for key, value in item.items()}
    rows["evidence_items.1.name"] = ""  # forgotten
    first = post(client, f"/tasks/{task.id}", {**rows, "next_action": "final_report", "pin": PIN})
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert _values(page, "evidence_items.") == rows  # each cell in its own row, as typed (the file picked, the kind)
    assert _error_at(page, "evidence_items-1-name") == "必填"
    assert 'id="e-evidence_items-1-name"' in _row(page, 1)  # in the row it belongs to
    assert _marked(page) == 1 and "请修改下面标红的 1 处" in _banner(page)
    assert 'class="row-item" data-row="0"' in page and 'data-row="1"' in page and 'data-row="2"' not in page
    assert show_task(svc, task.id).status == "ready"

    again = post(client, f"/tasks/{task.id}", {**_values(page, "evidence_items."), **_values(page, "next_action"),
                                               "evidence_items.1.name": items[1]["name"], "pin": PIN})
    assert again.status_code == 302, _banner(again.get_data(as_text=True))
    done = show_task(svc, task.id)
    assert done.status == "completed"
    assert done.form_data["evidence_items"] == items
    assert done.form_data["next_action"] == "final_report" and done.form_data["preservation_requested"] is False


def test_each_cell_and_field_in_error_is_marked_and_the_banner_counts_exactly_those(model, client, svc,
                                                                                   at_await_party_response):
    task = _task(svc, at_await_party_response.case.number, "await_party_response")
    login(client, task.assignee or "officer1")
    rows = {"attachments.0.name": "", "attachments.0.file_id": "-1",
            "attachments.1.name": "书面陈述.pdf", "attachments.1.file_id": "1.5"}
    response = post(client, f"/tasks/{task.id}", {**rows, "response": "statement", "response_at": "2030-01-01T09:00",
                                                  "pin": PIN})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    marked = {"attachments-0-name", "attachments-0-file_id", "attachments-1-file_id", "response_at",
              "statement_text"}  # 陈述申辩 chosen: its content is required (the schema's if/then)
    for name in marked:
        _error_at(page, name)
    assert _marked(page) == len(marked)
    assert f"请修改下面标红的 {len(marked)} 处" in _banner(page)
    assert _error_at(page, "response_at") == "不能晚于当前时间（所记录的事已经发生）"
    assert _error_at(page, "attachments-1-file_id") == "须为整数"
    assert _error_at(page, "attachments-0-file_id") == "不小于 1"
    assert 'id="e-attachments-0-name"' in _row(page, 0) and 'id="e-attachments-1-file_id"' in _row(page, 1)
    assert _values(page, "attachments.") == rows
    assert show_task(svc, task.id).status == "ready"


def test_field_messages_follow_the_page_language(model, client):
    login(client, "clerk")
    wrong = {**COMPLAINT, "complainant.anonymous": "", "complainant.name": "王五", "complainant.phone": "1380013800",
             "complainant.id_number": "110105194912310021", "respondent.credit_code": "91110000600037341M"}
    client.get("/cases/new?lang=en")
    english = post(client, "/cases/new", wrong, token_from="/cases/new").get_data(as_text=True)
    assert _error_at(english, "complainant-phone") == ("Not a valid telephone number: an 11-digit mobile number, or "
                                                       "a landline number with its area code")
    assert _error_at(english, "complainant-id_number").startswith("Not a valid resident identity card number")
    assert _error_at(english, "respondent-credit_code").startswith("Not a valid unified social credit code")
    banner = _banner(english)
    assert "The form has errors" in banner and "Please correct the 3 marked fields below." in banner
    assert not re.search(r"[\u4e00-\u9fff]", banner + "".join(re.findall(r'class="field-error"[^>]*>(.*?)</p>',
                                                                           english)))
    assert "1380013800" in english  # typed back into its box, never into a message
    assert "1380013800" not in "".join(re.findall(r'class="field-error"[^>]*>(.*?)</p>', english))

    client.get("/cases/new?lang=zh")
    chinese = post(client, "/cases/new", wrong, token_from="/cases/new").get_data(as_text=True)
    assert _error_at(chinese, "complainant-phone") == "电话号码不正确：手机号码 11 位，固定电话须带区号"
    assert _error_at(chinese, "respondent-credit_code") == "统一社会信用代码不正确：18 位，末位校验码须符合 GB 32100-2015"
    assert "表单有误，未提交。" in _banner(chinese) and "请修改下面标红的 3 处" in _banner(chinese)
    assert "Not a valid" not in chinese and "invalid form data" not in chinese


def test_the_form_stars_what_the_schema_requires_when_and_starts_a_past_event_at_now(model, client):
    login(client, "clerk")
    page = client.get("/cases/new").get_data(as_text=True)
    moment = re.search(r'<input id="f-received_at"[^>]*>', page)
    assert moment and 'value="2026-09-19T09:00"' in moment.group(0)  # the app's clock, in Beijing time
    assert 'max="2026-09-19T09:00"' in moment.group(0)
    name = re.search(r'<div class="field field-string" data-required-when=\'([^\']*)\'>\s*<label for="f-complainant-name">'
                     r'.*?<span class="req req-when"[^>]*hidden>\*</span>', page, re.S)
    assert name and json.loads(htmllib.unescape(name.group(1))) == [[["complainant.anonymous", [False]]]]
    assert 'type="tel"' in re.search(r'<input id="f-complainant-phone"[^>]*>', page).group(0)
    assert re.search(r'<span class="req req-when"', page.split('for="f-complainant-address"')[1].split("</label>")[0]) is None


def test_error_places_are_the_fields_rows_cells_and_list_boxes_the_page_shows():
    fields = build_fields(_schema("register_evidence"), language="zh")
    values = {"evidence_items": [{"name": "a"}, {"name": "b"}]}
    errors = {"evidence_items.1": "x", "evidence_items.1.kind": "x", "evidence_items.2.name": "x", "next_action": "x",
              "(form)": "x", "evidence_items.0.colour": "x", "pin": "x"}
    marked, unshown = error_places(fields, values, errors)
    assert marked == ["evidence_items.1", "evidence_items.1.kind", "next_action", "pin"]
    assert unshown == ["evidence_items.2.name", "(form)", "evidence_items.0.colour"]  # stated in the banner instead
    none_yet, _ = error_places(fields, {}, {"evidence_items.0.name": "x", "evidence_items.1.name": "x"})
    assert none_yet == ["evidence_items.0.name"]  # no rows yet: the page shows one empty row
    hearing = build_fields(_schema("hold_hearing"), language="zh")  # 委托代理人: the names given and one empty box
    boxes, beyond = error_places(hearing, {"agents": ["甲"]}, {"agents.1": "x", "agents.2": "x"})
    assert boxes == ["agents.1"] and beyond == ["agents.2"]
    inspection = build_fields(_schema("onsite_inspection"), language="zh")
    # 执法人员 are picked: each one chosen may be refused (a lapsed 执法证), marked under the list
    chosen, unchosen = error_places(inspection, {"inspectors": ["officer1", "officer2"]},
                                    {"inspectors.1": "x", "inspectors.2": "x"})
    assert chosen == ["inspectors.1"] and unchosen == ["inspectors.2"]


def test_an_error_the_page_cannot_mark_is_stated_in_the_banner(model, client, svc):
    from engine import ValidationError

    login(client, "clerk")
    app = client.application
    with app.test_request_context("/cases/new"):
        from flask import render_template

        app.preprocess_request()
        fields = build_fields(INTAKE)
        exc = ValidationError("x (y)", {"(form)": "不允许的字段 (unexpected field): nickname", "received_at": "必填 (required)"})
        page = render_template("cases/new.html", fields=fields, values={}, errors=exc.errors, problem="表单有误，未提交。")
    banner = _banner(page)
    assert "请修改下面标红的 1 处" in banner and "不允许的字段: nickname" in banner
