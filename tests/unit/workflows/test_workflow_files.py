"""The model files: diagram interchange complete and tidy, forms labelled in Chinese, roles consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lxml import etree

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
FLOW_NODES = {"startEvent", "endEvent", "userTask", "scriptTask", "businessRuleTask", "callActivity",
              "exclusiveGateway", "parallelGateway", "boundaryEvent", "intermediateCatchEvent"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
DOCUMENT_KINDS = {
    "case_filing_report", "penalty_decision", "prior_notice", "deliberation_record", "legal_review_opinion",
    "hearing_record", "service_receipt", "closing_report", "transfer_letter", "complaint_register",
    "acceptance_record", "not_filed_notice", "onsite_record", "inquiry_record", "evidence_preservation_decision",
    "investigation_final_report", "statement_record", "hearing_notice", "hearing_report",
    "collective_discussion_record", "summary_penalty_decision", "no_penalty_decision", "publication_record",
    "complainant_feedback", "supervision_notice", "supervision_report",
}
BPMN_FILES = sorted(WORKFLOWS.glob("*.bpmn"))
FORMS = sorted((WORKFLOWS / "forms").glob("*.schema.json"))


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_every_element_has_diagram_interchange(path):
    root = etree.parse(str(path)).getroot()
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{DI}BPMNShape")}
    edges = {e.get("bpmnElement"): e for e in root.iter(f"{DI}BPMNEdge")}
    for el in root.iter():
        local = etree.QName(el).localname if isinstance(el.tag, str) else ""
        if el.tag.startswith(BPMN) if isinstance(el.tag, str) else False:
            if local in FLOW_NODES or local in ("lane", "participant"):
                assert el.get("id") in shapes, f"{path.name}: no BPMNShape for {el.get('id')}"
            if local == "sequenceFlow":
                assert el.get("id") in edges, f"{path.name}: no BPMNEdge for {el.get('id')}"
                assert len(edges[el.get("id")].findall("{http://www.omg.org/spec/DD/20100524/DI}waypoint")) >= 2


@pytest.mark.parametrize("path", BPMN_FILES, ids=lambda p: p.name)
def test_flow_nodes_do_not_overlap_and_sit_in_their_lane(path):
    root = etree.parse(str(path)).getroot()
    bounds = {}
    for shape in root.iter(f"{DI}BPMNShape"):
        b = shape.find(f"{DC}Bounds")
        bounds[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    nodes = [el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.tag.startswith(BPMN)
             and etree.QName(el).localname in FLOW_NODES - {"boundaryEvent"}]
    for i, a in enumerate(nodes):
        ax, ay, aw, ah = bounds[a]
        for b in nodes[i + 1:]:
            bx, by, bw, bh = bounds[b]
            assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay, f"{a} overlaps {b}"
    for lane in root.iter(f"{BPMN}lane"):
        lx, ly, lw, lh = bounds[lane.get("id")]
        for ref in lane.iter(f"{BPMN}flowNodeRef"):
            x, y, w, h = bounds[ref.text]
            assert lx <= x and x + w <= lx + lw and ly - 20 <= y and y + h <= ly + lh + 20, ref.text


def test_lanes_are_roles_and_user_tasks_name_known_documents():
    roles = json.loads((WORKFLOWS / "roles.json").read_text(encoding="utf-8"))
    assert set(roles) == {"intake", "officer", "panel", "legal", "head", "publisher", "supervisor"}
    for path in BPMN_FILES:
        root = etree.parse(str(path)).getroot()
        for lane in root.iter(f"{BPMN}lane"):
            role = lane.get("id").removeprefix("Lane_")
            assert lane.get("name") == roles[role]["lane_name"] == roles[role]["zh"]
        for prop in root.iter("{http://spiffworkflow.org/bpmn/schema/1.0/core}property"):
            if prop.get("name") == "document":
                assert prop.get("value") in DOCUMENT_KINDS, prop.get("value")


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_forms_are_labelled_in_chinese_and_bounded(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert CHINESE.search(schema["title"])
    assert schema["required"]

    def walk(node, where):
        for name, prop in node.get("properties", {}).items():
            assert CHINESE.search(prop.get("title", "")), f"{where}.{name} needs a Chinese title"
            if prop.get("type") == "string" and "enum" not in prop and "contentMediaType" not in prop:
                assert "maxLength" in prop, f"{where}.{name} needs maxLength"  # a drawn image: settings bound it
            if "enum" in prop:
                assert len(prop["x-enum-titles"]) == len(prop["enum"])
            if prop.get("type") == "object":
                walk(prop, f"{where}.{name}")
                for i, choice in enumerate(prop.get("oneOf") or ()):
                    walk(choice, f"{where}.{name}/oneOf/{i}")
            if prop.get("type") == "array" and prop["items"].get("type") == "object":
                walk(prop["items"], f"{where}.{name}[]")

    walk(schema, path.name)


# Issue 14: the steps that take evidence files (the upload on their page, `casetrail evidence add --task`, the API),
# by the names the issue gives them.
EVIDENCE_STEPS = {"intake": "投诉举报登记", "onsite_inspection": "现场检查", "inquiry": "询问",
                  "register_evidence": "证据登记", "approve_preservation": "先行登记保存", "hold_hearing": "听证",
                  "await_party_response": "陈述申辩", "review_statement": "陈述申辩"}


@pytest.mark.parametrize("form", sorted(EVIDENCE_STEPS))
def test_every_step_the_issue_names_takes_evidence_files_photos_among_them(form) -> None:
    schema = json.loads((WORKFLOWS / "forms" / f"{form}.schema.json").read_text(encoding="utf-8"))
    assert EVIDENCE_STEPS[form][:2] in schema["title"]
    spec = schema["x-evidence"]
    assert CHINESE.search(spec["title"]) and "image" in spec["accept"]  # a phone's camera may take them
