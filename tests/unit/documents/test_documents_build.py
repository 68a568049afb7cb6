"""build(): plain form data -> typed 文书, with errors that name the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from documents import DocumentDataError, build
from documents.model import PartyKind, Vote
from documents.samples import sample_data
from documents.text import amount_upper, clean_text


def test_form_data_becomes_typed_values() -> None:
    doc = build("penalty_decision", sample_data("penalty_decision"))
    assert doc.date == dt.date(2026, 3, 28)
    assert doc.party.kind is PartyKind.ORGANIZATION
    assert doc.penalties[1].amount == Decimal("5000")
    assert isinstance(doc.evidence, tuple)
    vote = build("collegial_deliberation_record", sample_data("collegial_deliberation_record")).members[2].vote
    assert vote is Vote.DISAGREE


@pytest.mark.parametrize(("mutate", "field", "message"), [
    (lambda d: d.pop("facts"), "facts", "missing required field"),
    (lambda d: d["party"].pop("name"), "party.name", "missing required field"),
    (lambda d: d.update(date="28/03/2026"), "date", "not a date"),
    (lambda d: d["penalties"][1].update(amount="五千"), "penalties[1].amount", "not an amount"),
    (lambda d: d["penalties"][1].update(amount="-5"), "penalties[1].amount", "non-negative"),
    (lambda d: d.update(payment_deadline_days="15"), "payment_deadline_days", "whole number"),
    (lambda d: d.update(evidence="现场笔录"), "evidence", "expected a list"),
    (lambda d: d["party"].update(kind="company"), "party.kind", "not one of"),
    (lambda d: d.update(fine=1), "fine", "unknown field"),
])
def test_bad_form_data_names_the_field(mutate, field, message) -> None:
    data = sample_data("penalty_decision")
    mutate(data)
    with pytest.raises(DocumentDataError, match=message) as err:
        build("penalty_decision", data)
    assert err.value.field == field
    assert "行政处罚决定书 (penalty_decision)" in str(err.value)
    assert field in str(err.value)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(DocumentDataError, match="unknown document kind"):
        build("penalty_decisions", {})


def test_filing_needs_two_handlers() -> None:
    data = sample_data("case_filing_report")
    data["handlers"] = data["handlers"][:1]
    with pytest.raises(DocumentDataError, match="at least two officers") as err:
        build("case_filing_report", data)
    assert err.value.field == "handlers"


def test_publication_record_hides_a_natural_persons_identity_data() -> None:
    data = sample_data("publication_record")
    data["party"] = {"name": "张某", "kind": "individual", "id_number": "330102198805061234",
                     "address": "呈州市某小区3幢", "phone": "13800002222"}
    data["reason"] = "张某（身份证330102198805061234，电话13800002222）无证行医"
    doc = build("publication_record", data)
    assert doc.public_party_id == "" and doc.public_address == ""
    assert "330102198805061234" not in doc.public_reason and "13800002222" not in doc.public_reason
    assert "330102********1234" in doc.public_reason and "138****2222" in doc.public_reason


@pytest.mark.parametrize(("amount", "words"), [
    ("5000", "伍仟元整"), ("10005", "壹万零伍元整"), ("100500", "壹拾万零伍佰元整"), ("1200.50", "壹仟贰佰元伍角"),
    ("0.05", "零元伍分"), ("2000.07", "贰仟元零柒分"), ("30000000", "叁仟万元整"), ("100000005", "壹亿零伍元整"),
])
def test_amounts_are_written_in_capital_chinese(amount, words) -> None:
    assert amount_upper(Decimal(amount)) == words


def test_control_characters_become_visible_pictures() -> None:
    assert clean_text("a\x00b\x07c\x7fd\te\r\nf\rg\ud800") == "a\u2400b\u2407c\u2421d\te\nf\ng\ufffd"
