"""The checks form schemas name beyond JSON Schema's own: formats with check digits, phone numbers, past events
not in the future, amounts to the fen; each with valid and invalid examples, and through the validator."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jsonschema import Draft202012Validator

from engine.rules.form_checks import check_form_keywords, is_future, is_multiple, is_phone, is_ric, is_uscc
from engine.rules.settings import load_settings
from engine.spiff.validation import DefinitionError, check_form
from engine.usecases.forms import form_errors

FORMS = Path(__file__).resolve().parents[3] / "workflows" / "forms"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)  # 2026-03-02 09:00 in Beijing


@pytest.mark.parametrize("code", [
    "91110000600037341L",  # python-stdnum's own example
    "91350100M000100Y43",  # GB 32100-2015's example
    "91330100MA2C7D8E9K",  # the demo's 悦来宾馆 (check digit computed: K)
    "92330100ma2xxxxx05",  # letters typed in lower case are the same code
])
def test_a_unified_social_credit_code_with_its_check_digit_is_valid(code):
    assert is_uscc(code)


@pytest.mark.parametrize("code", [
    "91110000600037341M",  # one off in the check digit
    "91330100MA2C7D8E9F",  # the demo's code before this check: a made-up last character
    "9111000060003734",  # too short
    "91110000600037341L ",  # a space typed after it
    "9111000060003734IL",  # I is not in the code's alphabet (nor O, S, V, Z)
    "",
])
def test_a_wrong_unified_social_credit_code_is_refused(code):
    assert not is_uscc(code)


@pytest.mark.parametrize("number", [
    "11010519491231002X",  # GB 11643-1999's own example: check digit X
    "11010519491231002x",  # the X typed in lower case
    "360426199101010071",  # python-stdnum's example
    "330102199001011234",
])
def test_a_resident_identity_card_number_with_its_check_digit_is_valid(number):
    assert is_ric(number)


@pytest.mark.parametrize("number", [
    "110105194912310021",  # check digit should be X
    "330102198805061234",  # check digit should be 2
    "110105194902301238",  # 30 February
    "990105194912310023",  # no such division
    "110105491231002",  # the old 15-digit number: the 18-digit one is asked for
    "11010519491231002XX",
])
def test_a_wrong_resident_identity_card_number_is_refused(number):
    assert not is_ric(number)


@pytest.mark.parametrize("phone", [
    "13800138000", "19912345678", "+86 138 0013 8000", "+8613800138000", "138-0013-8000",
    "010-65123456", "0571-87001234", "057187001234", "(0571)87001234", "0571 8700123", "0571-87001234-801",
    "020-87001234转12",
])
def test_mainland_mobile_and_landline_numbers_are_valid(phone):
    assert is_phone(phone)


@pytest.mark.parametrize("phone", [
    "1380013800",  # ten digits
    "12345678901",  # no mobile number starts 12
    "87001234",  # a landline without its area code
    "0571-1234567",  # no local number starts with 1
    "138001380001", "phone", "", "+1 415 555 0100",
])
def test_other_phone_numbers_are_refused(phone):
    assert not is_phone(phone)


def test_amounts_are_checked_to_the_fen_in_decimal_where_floats_would_refuse_19_99():
    # jsonschema's own multipleOf divides in binary floating point: 19.99 / 0.01 = 1998.9999999999998
    plain = Draft202012Validator({"type": "number", "multipleOf": 0.01})
    assert not plain.is_valid(19.99)
    assert is_multiple(19.99, 0.01) and is_multiple(3000, 0.01) and is_multiple(0.07, 0.01)
    assert is_multiple(100000000, 0.01) and is_multiple(1234567.89, 0.01)
    assert not is_multiple(0.1 + 0.2, 0.01)  # 0.30000000000000004
    assert not is_multiple(19.999, 0.01) and not is_multiple(0.005, 0.01)
    assert not is_multiple(float("inf"), 0.01) and not is_multiple(float("nan"), 0.01)


def test_a_past_event_may_be_now_or_earlier_give_or_take_the_tolerance():
    tolerance = dt.timedelta(minutes=5)

    def future(value: str, fmt: str = "date-time") -> bool:
        return is_future(value, fmt, now=NOW, zone=SHANGHAI, tolerance=tolerance)

    assert not future("2026-03-02T09:00:00+08:00")
    assert not future("2026-03-02T01:04:59Z")  # within the tolerance
    assert future("2026-03-02T09:05:01+08:00")
    assert future("2030-01-01T09:00:00+08:00")
    assert not future("2026-03-02T09:00:00")  # no offset: the agency's local time
    assert future("2026-03-02T10:00:00")
    assert not future("2026-03-02", "date") and not future("2025-12-31", "date")
    assert future("2026-03-03", "date")  # tomorrow in Beijing
    late = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 2nd in Beijing, still the 1st in UTC
    assert not is_future("2026-03-02", "date", now=late, zone=SHANGHAI, tolerance=tolerance)
    assert not future("not a date") and not future("2030-01-01T09:00:00+08:00", "uri")


def _intake(**changes):
    data = {"channel": "letter", "received_at": "2026-03-02T08:30:00+08:00", "violation_type": "other",
            "content": "内容", "complainant": {"anonymous": False, "name": "王五", "phone": "0571-87001234",
                                               "id_number": "11010519491231002X"},
            "respondent": {"name": "某某游泳馆", "kind": "organisation", "credit_code": "91110000600037341L",
                           "address": "呈州市中山路3号"}}
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return data


def _schema(name: str) -> dict:
    return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _errors(name: str, data) -> dict[str, str]:
    return form_errors(_schema(name), data, now=NOW, settings=load_settings())


def test_the_intake_form_takes_a_valid_registration():
    assert _errors("intake", _intake()) == {}
    assert _errors("intake", _intake(complainant={"anonymous": True})) == {}  # nothing asked of an anonymous one


def test_the_intake_form_names_each_wrong_field_in_chinese_and_english_without_quoting_the_value():
    errors = _errors("intake", _intake(received_at="2030-01-01T09:00:00+08:00", complainant__phone="1380013800",
                                       complainant__id_number="110105194912310021",
                                       respondent__credit_code="91110000600037341M"))
    assert errors == {
        "received_at": "不能晚于当前时间（所记录的事已经发生） (Cannot be later than now: it records something that "
                       "has happened)",
        "complainant/phone": "电话号码不正确：手机号码 11 位，固定电话须带区号 (Not a valid telephone number: an "
                             "11-digit mobile number, or a landline number with its area code)",
        "complainant/id_number": "居民身份证号码不正确：18 位，出生日期、地址码和末位校验码须符合 GB 11643-1999 (Not a "
                                 "valid resident identity card number: 18 characters whose birth date, division code "
                                 "and check digit follow GB 11643-1999)",
        "respondent/credit_code": "统一社会信用代码不正确：18 位，末位校验码须符合 GB 32100-2015 (Not a valid unified "
                                  "social credit code: 18 characters ending in the check digit of GB 32100-2015)",
    }
    assert not any("1380013800" in message for message in errors.values())


def test_a_named_complainant_needs_name_and_phone_an_anonymous_one_does_not():
    named = _intake(complainant={"anonymous": False})
    assert _errors("intake", named) == {"complainant/name": "必填 (required)", "complainant/phone": "必填 (required)"}


def test_a_citizen_respondent_is_identified_by_identity_card_or_credit_code():
    citizen = {"name": "刘某", "kind": "citizen", "address": "呈州市和平路9号"}
    assert _errors("intake", _intake(respondent={**citizen, "credit_code": "11010519491231002X"})) == {}
    assert _errors("intake", _intake(respondent={**citizen, "credit_code": "91110000600037341L"})) == {}  # 个体工商户
    wrong = _errors("intake", _intake(respondent={**citizen, "credit_code": "110105194912310021"}))
    assert wrong == {"respondent/credit_code": "不是有效的居民身份证号码或统一社会信用代码（请核对校验位） (Not a valid "
                                               "resident identity card number or unified social credit code: check "
                                               "the check digit)"}


def test_amounts_and_their_messages():
    paid = {"payment_status": "paid", "paid_at": "2026-03-02T08:00:00+08:00"}
    assert _errors("record_payment", {**paid, "amount_paid": 19.99}) == {}
    assert _errors("record_payment", {**paid, "amount_paid": 0.1 + 0.2}) == {
        "amount_paid": "最多 2 位小数 (At most 2 decimal places)"}
    assert _errors("record_payment", {**paid, "amount_paid": -1}) == {"amount_paid": "不小于 0 (At least 0)"}
    assert _errors("record_payment", {**paid, "amount_paid": "100"}) == {"amount_paid": "须为数字 (Must be a number)"}
    assert _errors("record_payment", {**paid, "amount_paid": 5, "paid_at": "2026-03-03T09:00:00+08:00"}) == {
        "paid_at": "不能晚于当前时间（所记录的事已经发生） (Cannot be later than now: it records something that has happened)"}


def test_every_amount_in_yuan_is_to_the_fen_and_every_past_event_not_in_the_future():
    amounts, moments = [], []
    for path in sorted(FORMS.glob("*.schema.json")):
        for key, prop in json.loads(path.read_text(encoding="utf-8"))["properties"].items():
            if prop.get("type") == "number" and "（元）" in prop.get("title", ""):
                amounts.append((path.name, key, prop.get("minimum"), prop.get("multipleOf")))
            if prop.get("format") == "date-time":
                moments.append((path.name, key, prop.get("x-not-future", False)))
    assert amounts and all(minimum == 0 and step == 0.01 for _, _, minimum, step in amounts), amounts
    future_events = [(name, key) for name, key, past in moments if not past]
    assert future_events == [("schedule_hearing.schema.json", "hearing_at")]  # the one that is set ahead


def test_a_form_with_a_misspelt_check_is_refused_when_the_model_is_loaded():
    schema = _schema("intake")
    check_form("intake.schema.json", json.dumps(schema).encode())
    typo = copy.deepcopy(schema)
    typo["properties"]["complainant"]["properties"]["phone"]["format"] = "cn-mobile"
    with pytest.raises(DefinitionError, match="cn-mobile"):
        check_form("intake.schema.json", json.dumps(typo).encode())
    misplaced = copy.deepcopy(schema)
    misplaced["properties"]["content"]["x-not-future"] = True
    with pytest.raises(DefinitionError, match="x-not-future"):
        check_form("intake.schema.json", json.dumps(misplaced).encode())
    with pytest.raises(ValueError, match="x-not-future"):
        check_form_keywords({"type": "string", "format": "date-time", "x-not-future": "yes"})
