"""Loading refuses a bad model whole, naming file, line and element."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from engine.spiff.definitions import DefinitionError, definition_files, load_definition

# Kept here, not imported from web/: the check must not narrow with the code it checks.
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def files() -> dict[str, bytes]:
    return definition_files()


def _edit(files, name, old, new):
    text = files[name].decode("utf-8")
    assert old in text, old
    return {**files, name: text.replace(old, new, 1).encode("utf-8")}


def _refused(files) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_definition(files, "case_procedure")
    return info.value


def test_default_definition_loads_with_a_stable_hash(files):
    first = load_definition(files, "case_procedure")
    assert first.sha256 == load_definition(dict(files), "case_procedure").sha256
    assert load_definition({**files, "gates.json": files["gates.json"] + b" "}, "case_procedure").sha256 != first.sha256
    assert first.start_form_schema()["title"] == "投诉举报登记"
    meta = first.task_meta("legal_review")
    assert meta.role == "legal" and meta.stage == "legal_review" and meta.document == "legal_review_opinion"
    assert "investigation_report" in meta.exclude_actors_of and meta.exclude_users_from == ("case_officers",)
    assert set(first.bpmn_files()) >= {"case_procedure.bpmn", "deliberation.bpmn", "hearing.bpmn"}


def test_broken_xml_rejected_with_line(files):
    text = files["hearing.bpmn"].decode("utf-8").splitlines()
    text[9] = text[9] + "<bpmn:unclosed"
    err = _refused({**files, "hearing.bpmn": "\n".join(text).encode("utf-8")})
    assert err.file == "hearing.bpmn" and err.line is not None and err.line >= 10
    assert str(err).startswith(f"hearing.bpmn:{err.line} ")


def test_unknown_called_element_rejected(files):
    err = _refused(_edit(files, "case_procedure.bpmn", 'calledElement="hearing"', 'calledElement="hearing_x"'))
    assert err.element_id == "hearing" and "calledElement" in err.message and err.line


def test_unknown_decision_rejected(files):
    err = _refused(_edit(files, "case_procedure.bpmn", ">exemption<", ">exemption_x<"))
    assert err.element_id == "dmn_exemption" and "decisionRef" in err.message


def test_missing_form_file_rejected(files):
    err = _refused(_edit(files, "case_procedure.bpmn", 'value="legal_review.schema.json"', 'value="nope.schema.json"'))
    assert err.element_id == "legal_review" and "forms/nope.schema.json" in err.message


def test_gate_on_unknown_task_rejected(files):
    err = _refused({**files, "gates.json": b'{"no_such_task": [{"refuse_if": "True", "article": "a", "message": "m"}]}'})
    assert err.file == "gates.json" and err.element_id == "no_such_task"


def test_undefined_time_limit_rejected(files):
    err = _refused(_edit(files, "case_procedure.bpmn", 'warn("acceptance_review"', 'warn("acceptance_reviewx"'))
    assert err.element_id == "warn_acceptance_review" and "acceptance_reviewx" in err.message


def test_duration_timer_rejected(files):
    err = _refused(_edit(files, "hearing.bpmn", '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">hearing_at</bpmn:timeDate>',
                         '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P5D</bpmn:timeDuration>'))
    assert err.element_id == "wait_hearing_date" and "timeDate" in err.message


def test_hostile_script_rejected_with_element(files):
    err = _refused(_edit(files, "case_procedure.bpmn", "accepted_at = now()", "accepted_at = __import__('os')"))
    assert err.element_id == "accepted" and err.file == "case_procedure.bpmn" and err.line


def test_hostile_dmn_entry_rejected(files):
    err = _refused(_edit(files, "exemption.dmn", "<text>True</text>", "<text>open('/etc/passwd')</text>"))
    assert err.file == "exemption.dmn" and "open" in err.message


def test_lane_must_name_a_role(files):
    err = _refused(_edit(files, "hearing.bpmn", 'name="法制审核人员"', 'name="审核员"'))
    assert err.element_id == "Lane_legal"


def test_external_entities_are_not_resolved(files):
    evil = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + files["hearing.bpmn"].split(b"?>", 1)[1].replace('name="听证"'.encode(), b'name="&x;"', 1))
    with pytest.raises(DefinitionError):
        load_definition({**files, "hearing.bpmn": evil}, "case_procedure")


def test_the_properties_the_engine_keys_on_are_read_into_the_task_metadata(files):
    loaded = load_definition(files, "case_procedure")
    assert loaded.publication_steps == {"prepare_publication": "prepare", "make_decision": "decision",
                                        "release_publication": "release", "withdraw_publication": "withdraw"}
    assert loaded.clock_stops == {"decision_deadline": frozenset({"make_decision", "no_penalty_decision",
                                                                   "refer_judicial"})}
    assert loaded.fine_fields == {"make_decision": "final_fine", "summary_penalty": "summary_fine"}
    assert loaded.task_meta("filing_approval").signature_block == "approver"
    assert loaded.task_meta("serve_decision").document_variant == "serves_decision"
    # the timers attached to a step, as SpiffWorkflow parsed them (no second reading of the XML)
    assert loaded.task_meta("make_decision").timers == ('warn("decision_deadline", filed_at)',)
    assert loaded.task_meta("legal_review").timers == ()


@pytest.mark.parametrize(("old", "new", "says"), [
    ('name="publication" value="release"', 'name="publication" value="publish"', "(unknown publication value): publish"),
    ('name="signatureBlock" value="approver" />\n          <spiffworkflow:property name="documentVariant" '
     'value="approval"', 'name="signatureBlock" value="chief" />\n          <spiffworkflow:property '
     'name="documentVariant" value="approval"', "(unknown signatureBlock value): chief"),
    ('name="documentVariant" value="judicial"', 'name="documentVariant" value="police"', "unknown documentVariant"),
    ('name="stopsClock" value="decision_deadline" />\n          <spiffworkflow:property name="fineField"',
     'name="stopsClock" value="ninety_days" />\n          <spiffworkflow:property name="fineField"',
     "undefined time limit id): ninety_days"),
    ('name="fineField" value="final_fine"', 'name="fineField" value="basis"', "fineField"),
])
def test_a_bad_value_of_a_keyed_property_is_refused_with_the_element(files, old, new, says):
    name = "publication.bpmn" if "release" in old else "case_procedure.bpmn"
    error = _refused(_edit(files, name, old, new))
    assert error.file == name and error.element_id and says in error.message


def test_confidential_fields_are_read_once_at_load_and_a_bad_mark_refuses_the_version():
    """`x-confidential` is read when the version loads: the intake seals the complainant, the vote its opinion;
    an unknown class refuses the whole version rather than failing when a step is signed."""
    import json

    files = definition_files()
    loaded = load_definition(files, "case_procedure")
    assert "/complainant/phone" in loaded.start_confidential_fields
    assert loaded.confidential_fields("panel_vote").get("/opinion") == "vote"
    assert loaded.confidential_fields("make_decision") == {}
    intake = json.loads(files["forms/intake.schema.json"])
    intake["properties"]["complainant"]["properties"]["phone"]["x-confidential"] = "secret"
    broken = {**files, "forms/intake.schema.json": json.dumps(intake).encode()}
    with pytest.raises(DefinitionError, match="x-confidential"):
        load_definition(broken, "case_procedure")


def test_every_shipped_gate_cites_its_article_in_english_too(files):
    """English pages show the refusal in English: each gate of the shipped model gives its article and message in
    both languages, and the English cites the law by name (no Chinese left in it)."""
    definition = load_definition(files, "case_procedure")
    shipped = [gate for gates in definition.gate_table.values() for gate in gates]
    written = json.loads(files["gates.json"])
    assert len(shipped) == sum(len(entries) for key, entries in written.items() if not key.startswith("$")) > 20
    for gate in shipped:
        assert gate.article_en and gate.message_en, gate
        assert not CJK.search(gate.article_en + gate.message_en), gate.article_en
    [two_officers] = definition.gates("acceptance_review")
    assert two_officers.article_en == "Article 42 of the Administrative Penalty Law of the PRC"


def test_a_gate_with_half_its_english_or_a_bracket_in_it_is_refused(files):
    half = {"refuse_if": "True", "article": "a", "message": "m", "article_en": "Article 1"}
    err = _refused({**files, "gates.json": json.dumps({"acceptance_review": [half]}).encode()})
    assert err.element_id == "acceptance_review" and "article_en" in err.message
    bracket = {**half, "message_en": "refused (see above)"}
    err = _refused({**files, "gates.json": json.dumps({"acceptance_review": [bracket]}).encode()})
    assert "parentheses" in err.message


def test_a_gate_without_english_still_loads_and_words_its_limits_in_both(files):
    """A model stored before the English existed still runs: its gates have the Chinese only."""
    plain = {"refuse_if": "True", "article": "第一条", "message": "上限{thresholds.x}元"}
    [gate] = load_definition({**files, "gates.json": json.dumps({"acceptance_review": [plain]}).encode()},
                             "case_procedure").gates("acceptance_review")
    assert (gate.article_en, gate.message_en) == ("", "")
    english = replace(gate, article_en="Article 1", message_en="at most {thresholds.x} yuan")
    worded = english.worded({"settings": {"thresholds": {"x": 200.0}}})
    assert (worded.message, worded.message_en) == ("上限200元", "at most 200 yuan")
