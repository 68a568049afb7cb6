"""Task forms, step names and field errors in the page's language: the Chinese of the model, or its English."""

from __future__ import annotations

import html as htmllib
import re

from engine.usecases.tasks import claim_task, list_tasks
from engine.values import ClaimTask
from tests.web.webcases import play_until, scenario
from tests.web.webhelpers import PIN, login, post
from web.schema_form import build_fields


def _acceptance_task(svc):
    played = play_until(svc, scenario(), "acceptance_review")
    task = next(t for t in list_tasks(svc, case=played.case.number) if t.spec_id == "acceptance_review")
    return played, task


def _error_at(page: str, name: str) -> str:
    found = re.search(rf'id="e-{name}" role="alert">(.*?)</p>', page, re.S)
    assert found, f"no error shown at {name}"
    return htmllib.unescape(found.group(1))


def test_a_task_form_reads_english_on_an_english_page_and_chinese_on_a_chinese_one(model, client, svc):
    _played, task = _acceptance_task(svc)
    login(client, "head")

    english = htmllib.unescape(client.get(f"/tasks/{task.id}?lang=en").get_data(as_text=True))
    assert "<h1>Acceptance review" in english
    assert "Case summary (time, place, key evidence, harm and impact)" in english  # a field
    assert "Accept and pass on for handling" in english  # a choice
    assert "Operating a public place without a hygiene licence" in english  # the intake's enum, in the case summary
    assert "Source channel" in english  # the registered complaint's labels
    for chinese in ("受理并转办", "案情摘要", "承办人（不少于两名执法人员）", "来源渠道"):
        assert chinese not in english

    chinese_page = htmllib.unescape(client.get(f"/tasks/{task.id}?lang=zh").get_data(as_text=True))
    assert "<h1>受理审查" in chinese_page
    assert "案情摘要（时间、地点、重要证据、危害和影响）" in chinese_page
    assert "受理并转办" in chinese_page
    assert "公共场所未取得卫生许可证擅自营业" in chinese_page
    for english_label in ("Accept and pass on for handling", "Case summary", "Source channel"):
        assert english_label not in chinese_page


def _timeline(page: str) -> str:
    found = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S)
    assert found, "no timeline on the case page"
    return found.group(1)


def test_step_names_are_english_in_the_task_list_and_on_the_case_page(model, client, svc, clock):
    played, task = _acceptance_task(svc)
    claim_task(ClaimTask(task.id, "head"), svc=svc, clock=clock)  # a timeline event that names the step
    login(client, "head")
    task_list = client.get("/tasks?lang=en").get_data(as_text=True)
    assert ">Acceptance review</a>" in task_list
    assert "受理审查" not in task_list

    case_page = client.get(f"/cases/{played.case.id}?lang=en").get_data(as_text=True)
    assert ">Acceptance review</a>" in case_page  # the open steps
    assert '<span class="sub">Acceptance review</span>' in _timeline(case_page)
    assert "受理审查" not in _timeline(case_page)

    chinese = client.get(f"/cases/{played.case.id}?lang=zh").get_data(as_text=True)
    assert ">受理审查</a>" in chinese
    assert '<span class="sub">受理审查</span>' in _timeline(chinese)


def _bad_acceptance(task_id: str) -> dict[str, object]:
    return {"acceptance_decision": "accept", "acceptance_opinion": "同意受理。", "case_summary": "",
            "unit": "科" * 201, "case_officers": ["officer1", "officer2"], "pin": PIN}


def test_field_errors_are_in_the_page_language(model, client, svc):
    _played, task = _acceptance_task(svc)
    login(client, "head")

    client.get("/tasks?lang=en")
    english = post(client, f"/tasks/{task.id}", _bad_acceptance(task.id))
    assert english.status_code == 422
    page = english.get_data(as_text=True)
    assert _error_at(page, "case_summary") == "required"
    assert _error_at(page, "unit") == "At most 200 characters"  # not the validator's echo of all 201 characters

    client.get("/tasks?lang=zh")
    chinese = post(client, f"/tasks/{task.id}", _bad_acceptance(task.id))
    assert chinese.status_code == 422
    page = chinese.get_data(as_text=True)
    assert _error_at(page, "case_summary") == "必填"
    assert _error_at(page, "unit") == "不超过 200 个字符"


def test_labels_fall_back_to_the_chinese_where_the_english_is_missing():
    schema = {
        "title": "表", "x-title-en": "Form", "type": "object",
        "properties": {
            "translated": {"type": "string", "title": "已译", "x-title-en": "Translated",
                           "description": "说明", "x-description-en": "Explanation"},
            "untranslated": {"type": "string", "title": "未译", "description": "说明"},
            "listed": {"type": "string", "title": "列表", "enum": ["a", "b"], "x-enum-titles": ["甲", "乙"],
                       "x-enum-titles-en": ["A", ""]},
            "keyed": {"type": "string", "title": "字典", "enum": ["a", "b"], "x-enum-titles": {"a": "甲", "b": "乙"},
                      "x-enum-titles-en": {"a": "A"}},
            "choices": {"type": "string", "title": "选择",
                        "oneOf": [{"const": "a", "title": "甲", "x-title-en": "A"}, {"const": "b", "title": "乙"}]},
            "rows": {"type": "array", "title": "行", "x-title-en": "Rows",
                     "items": {"type": "object", "properties": {"name": {"type": "string", "title": "名",
                                                                         "x-title-en": "Name"}}}},
        },
    }
    english = {f.key: f for f in build_fields(schema, language="en")}
    assert (english["translated"].title, english["translated"].description) == ("Translated", "Explanation")
    assert (english["untranslated"].title, english["untranslated"].description) == ("未译", "说明")
    assert english["listed"].options == (("a", "A"), ("b", "乙"))
    assert english["keyed"].options == (("a", "A"), ("b", "乙"))
    assert english["choices"].options == (("a", "A"), ("b", "乙"))
    assert english["rows"].children[0].title == "Name"
    chinese = {f.key: f for f in build_fields(schema, language="zh")}
    assert chinese["translated"].title == "已译"
    assert chinese["listed"].options == (("a", "甲"), ("b", "乙"))
    assert chinese["rows"].children[0].title == "名"
    assert build_fields(schema)[0].title == "已译"  # outside a request: the working language
