"""A form that comes back with errors: rows keep their cells, each error is marked where it is, the banner counts
what is marked, every message is in the page's language; what the form helps with before that (stars, now)."""

from __future__ import annotations

import html as htmllib
import json
import re
from pathlib import Path

from engine.usecases.viewer import case_for_viewer
from tests.web.webhelpers import PIN, login, post
from web.schema_form import build_fields, error_places

INTAKE = json.loads((Path(__file__).resolve().parents[2] / "workflows" / "forms" / "intake.schema.json").read_text(
    encoding="utf-8"))
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
COMPLAINT = {"channel": "letter", "received_at": "2026-09-15T10:30", "complainant.anonymous": "on",
             "respondent.name": "某某游泳馆", "respondent.kind": "organisation", "respondent.address": "呈州市中山路3号",
             "violation_type": "other", "content": "游泳馆无证经营。", "pin": PIN}


def _inputs(page: str, prefix: str) -> dict[str, str]:
    """name -> value of the inputs whose name starts with `prefix` (not the row template's)."""
    found = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        name, value = re.search(r'\bname="([^"]*)"', tag), re.search(r'\bvalue="([^"]*)"', tag)
        if name and name.group(1).startswith(prefix) and "__i__" not in name.group(1):
            found[name.group(1)] = htmllib.unescape(value.group(1)) if value else ""
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


def test_rows_come_back_whole_after_an_error_and_the_error_is_marked_in_its_row(model, client, svc):
    login(client, "clerk")
    rows = {"attachments.0.name": "门头.jpg", "attachments.0.sha256": SHA, "attachments.0.size": "1024",
            "attachments.1.name": "价目表.jpg", "attachments.1.sha256": "not-a-digest", "attachments.1.size": "2048"}
    first = post(client, "/cases/new", {**COMPLAINT, **rows}, token_from="/cases/new")
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert _inputs(page, "attachments.") == rows  # each cell in its own row, as typed
    assert _error_at(page, "attachments-1-sha256") == "格式不正确"
    assert _marked(page) == 1 and "请修改下面标红的 1 处" in _banner(page)
    assert 'class="row-item" data-row="0"' in page and 'data-row="1"' in page

    again = post(client, "/cases/new", {**COMPLAINT, **_inputs(page, "attachments."), "attachments.1.sha256": SHA},
                 token_from="/cases/new")
    assert again.status_code == 302, _banner(again.get_data(as_text=True))
    case = case_for_viewer(svc, int(again.headers["Location"].rsplit("/", 1)[1]), "clerk")
    assert case.intake["attachments"] == [{"name": "门头.jpg", "sha256": SHA, "size": 1024},
                                          {"name": "价目表.jpg", "sha256": SHA, "size": 2048}]


def test_a_whole_row_and_each_cell_are_marked_and_the_banner_counts_exactly_those(model, client):
    login(client, "clerk")
    rows = {"attachments.0.name": "", "attachments.0.sha256": SHA, "attachments.0.size": "-1",
            "attachments.1.name": "b.jpg", "attachments.1.sha256": "x", "attachments.1.size": "1.5"}
    page = post(client, "/cases/new", {**COMPLAINT, **rows, "received_at": "2030-01-01T09:00",
                                       "complainant.anonymous": ""}, token_from="/cases/new").get_data(as_text=True)
    marked = {"attachments-0-name", "attachments-0-size", "attachments-1-sha256", "attachments-1-size",
              "received_at", "complainant-name", "complainant-phone"}
    for name in marked:
        _error_at(page, name)
    assert _marked(page) == len(marked)
    assert f"请修改下面标红的 {len(marked)} 处" in _banner(page)
    assert _error_at(page, "received_at") == "不能晚于当前时间（所记录的事已经发生）"
    assert _error_at(page, "attachments-1-size") == "须为整数"


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
    fields = build_fields(INTAKE, language="zh")
    values = {"attachments": [{"name": "a"}, {"name": "b"}]}
    errors = {"attachments.1": "x", "attachments.1.sha256": "x", "attachments.2.name": "x", "received_at": "x",
              "(form)": "x", "complainant.nickname": "x", "pin": "x"}
    marked, unshown = error_places(fields, values, errors)
    assert marked == ["attachments.1", "attachments.1.sha256", "received_at", "pin"]
    assert unshown == ["attachments.2.name", "(form)", "complainant.nickname"]  # stated in the banner instead


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
