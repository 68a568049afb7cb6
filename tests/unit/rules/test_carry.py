"""engine/rules/carry.py: which value a form field starts with, read from the schema's keywords alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.rules.carry import (
    Range,
    carried,
    check_carry_keywords,
    document_number_field,
    lookup,
    ranges,
    read_only_fields,
)
from engine.spiff.scripting import majority

FORMS = Path(__file__).resolve().parents[3] / "workflows" / "forms"
FINE = {"type": "number", "x-from": ["revised_fine", {"from": "tally.fine", "title": "合议"}, "proposed_fine"],
        "x-range-from": {"min": "fine_min", "max": "fine_max", "basis": "benchmark_basis"}}
SCHEMA = {"type": "object", "properties": {
    "fine": FINE,
    "facts": {"type": "string", "x-from": [{"template": "{facts}\n证据：{evidence}"}, "facts"]},
    "warning": {"type": "boolean", "x-from": "proposed_warning"},
    "ground": {"type": "string", "enum": ["minor", "no_fault"], "x-from": "exemption"},
    "served": {"type": "string", "readOnly": True, "x-from": ["decision_number", "notice_number"]},
    "number": {"type": "string", "readOnly": True, "x-document-number": True},
    "typed": {"type": "string"},
}}


def _values(data):
    return {c.key: c.value for c in carried(SCHEMA, data)}


def test_the_first_source_the_case_has_wins():
    assert _values({"proposed_fine": 3000})["fine"] == 3000
    assert _values({"proposed_fine": 3000, "tally": {"fine": 3200}})["fine"] == 3200
    assert _values({"proposed_fine": 3000, "tally": {"fine": 3200}, "revised_fine": 2500})["fine"] == 2500
    found = {c.key: c for c in carried(SCHEMA, {"tally": {"fine": 3200}})}
    assert (found["fine"].source.root, found["fine"].source.title) == ("tally", "合议")


def test_a_template_needs_every_variable_else_the_next_source():
    assert _values({"facts": "无证营业", "evidence": "笔录"})["facts"] == "无证营业\n证据：笔录"
    assert _values({"facts": "无证营业"})["facts"] == "无证营业"
    assert "facts" not in _values({"evidence": "笔录"})


def test_a_value_of_another_type_or_outside_the_choices_is_not_carried():
    data = {"proposed_fine": "3000", "proposed_warning": "yes", "exemption": "minor_mandatory", "tally": {"fine": True}}
    assert _values(data) == {}
    assert _values({"exemption": "no_fault", "proposed_warning": False}) == {"ground": "no_fault", "warning": False}


def test_a_part_in_braces_is_the_value_of_a_variable():
    wording = {"orders": {"public_place_unlicensed": {"text": "责令限期改正"}}}
    assert lookup({"wording": wording, "violation_type": "public_place_unlicensed"},
                  "wording.orders.{violation_type}.text") == "责令限期改正"
    assert lookup({"wording": wording, "violation_type": "other"}, "wording.orders.{violation_type}.text") is None
    assert lookup({"wording": wording}, "wording.orders.{violation_type}.text") is None
    check_carry_keywords({"type": "object", "properties": {"f": {"x-from": "wording.orders.{violation_type}.text"}}})


def test_empty_or_missing_values_are_absent():
    assert lookup({"a": {"b": ""}}, "a.b") is None and lookup({"a": 1}, "a.b") is None
    assert lookup({"a": {"b": 0}}, "a.b") == 0
    assert _values({"revised_fine": None, "proposed_fine": 0})["fine"] == 0


def test_the_benchmark_range_needs_both_ends():
    assert ranges(SCHEMA, {"fine_min": 1500, "fine_max": 3500, "benchmark_basis": "第三十五条"}) == (
        Range("fine", 1500.0, 3500.0, "第三十五条"),)
    assert ranges(SCHEMA, {"fine_min": 1500}) == ()


def test_fixed_and_numbered_fields_are_read_from_the_schema():
    assert read_only_fields(SCHEMA) == {"served", "number"}
    assert document_number_field(SCHEMA) == "number"
    served = next(c for c in carried(SCHEMA, {"notice_number": "呈卫罚告〔2026〕001号"}) if c.key == "served")
    assert served.fixed and served.value == "呈卫罚告〔2026〕001号"


@pytest.mark.parametrize("bad", [
    {"x-from": []},
    {"x-from": "facts;drop"},
    {"x-from": "wording.{a.b}.text"},
    {"x-from": {"template": "no variables"}},
    {"x-from": {"from": "a", "template": "{b}"}},
    {"x-from": {"from": "a", "colour": "red"}},
    {"type": "string", "x-range-from": {"min": "a", "max": "b"}},
    {"type": "number", "x-range-from": {"min": "a"}},
    {"type": "string", "x-document-number": True},
    {"type": "string", "readOnly": True, "x-document-number": "yes"},
])
def test_a_declaration_that_would_carry_nothing_is_refused_at_load(bad):
    with pytest.raises(ValueError):
        check_carry_keywords({"type": "object", "properties": {"f": bad}})


def test_a_read_only_field_cannot_be_required():
    with pytest.raises(ValueError, match="readOnly"):
        check_carry_keywords({"type": "object", "required": ["f"], "properties": {"f": {"readOnly": True}}})


def test_the_models_forms_declare_what_they_carry_correctly_and_type_no_number():
    numbered = {}
    for path in sorted(FORMS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        check_carry_keywords(schema)
        if (field := document_number_field(schema)) is not None:
            numbered[path.name] = field
        for key, node in schema["properties"].items():  # a 文号 is the engine's or the case's, never typed
            if node.get("title") in ("文号", "编号", "送达文书文号"):
                assert node.get("readOnly") is True, f"{path.name}: {key}"
    assert numbered == {"make_decision.schema.json": "decision_number", "no_penalty_decision.schema.json":
                        "no_penalty_number", "prior_notice.schema.json": "notice_number",
                        "summary_penalty.schema.json": "summary_number", "transfer_letter.schema.json":
                        "transfer_number", "hand_over.schema.json": "transfer_number"}


def test_the_panels_fine_is_the_highest_a_majority_backs():
    def ballot(vote, fine):
        return {"vote": vote, "suggested_fine": fine}

    assert majority([ballot("penalty", 2800), ballot("penalty", 3400), ballot("penalty", 3200)])["fine"] == 3200
    # A member voting for another option backs no fine: 2 of 3 back at least 3000.
    assert majority([ballot("penalty", 3000), ballot("penalty", 5000), ballot("no_penalty_minor", 0)])["fine"] == 3000
    assert majority([ballot("penalty", 3000), ballot("no_penalty_minor", 0), ballot("referred_judicial", 0)])[
        "fine"] is None  # no majority, no panel's fine
    assert majority([ballot("penalty", 2500.5), ballot("penalty", 2500.5), ballot("penalty", 9000)])["fine"] == 2500.5


def test_the_closing_report_and_the_payment_start_from_the_decision():
    def form(name):
        return json.loads((FORMS / f"{name}.schema.json").read_text(encoding="utf-8"))

    data = {"final_fine": 3000.0, "amount_paid": 3000, "case_cause": "未取得公共场所卫生许可证擅自营业"}
    closing = {c.key: c.value for c in carried(form("closing_report"), data)}
    assert closing == {"execution_summary": "罚款3000元，当事人已缴纳3000元。"}
    assert {c.key: c.value for c in carried(form("record_payment"), data)} == {"amount_paid": 3000.0}
    summary = {c.key: c.value for c in carried(form("closing_report"), {"summary_fine": 150.5})}
    assert summary == {"execution_summary": "当场处罚，罚款150.5元。"}
    assert {c.key: c.value for c in carried(form("prepare_publication"), data)} == {
        "redacted_summary": "未取得公共场所卫生许可证擅自营业"}
