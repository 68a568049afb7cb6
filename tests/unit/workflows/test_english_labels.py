"""Every label a form or step shows has an English version for English pages (the Chinese stays the original)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.spiff.definitions import load_default_definition
from engine.spiff.instance import ENDED_STAGE
from web.messages import STAGES

WORKFLOWS = Path(__file__).resolve().parents[3] / "workflows"
FORMS = sorted((WORKFLOWS / "forms").glob("*.schema.json"))
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NAMED_STEPS = ("userTask", "startEvent", "callActivity")  # the nodes whose names the workbench shows
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _english(text: Any, where: str) -> None:
    assert isinstance(text, str) and text.strip(), f"{where}: no English"
    assert not CHINESE.search(text), f"{where}: the English label has Chinese in it: {text}"


def _check_enum(node: dict[str, Any], where: str) -> None:
    values = [str(v) for v in node["enum"]]
    chinese, english = node.get("x-enum-titles"), node.get("x-enum-titles-en")
    assert english is not None, f"{where}: enum without x-enum-titles-en"
    assert type(english) is type(chinese), f"{where}: x-enum-titles-en is not shaped like x-enum-titles"
    if isinstance(english, list):
        assert len(english) == len(values), f"{where}: {len(english)} English titles for {len(values)} values"
        labels = dict(zip(values, english, strict=True))
    else:
        assert set(english) == set(values), f"{where}: English titles for {sorted(english)}, values {values}"
        labels = english
    for value, label in labels.items():
        _english(label, f"{where}[{value}]")


def _walk(node: dict[str, Any], where: str) -> int:
    """Checks a displayed schema node (the form, a property, an array's items) and everything shown under it;
    returns how many labels it checked."""
    _english(node.get("x-title-en"), f"{where} x-title-en")
    checked = 1
    if "description" in node:
        _english(node.get("x-description-en"), f"{where} x-description-en")
        checked += 1
    if "enum" in node:
        _check_enum(node, where)
        checked += 1
    for choice_key in ("oneOf", "anyOf"):
        for i, choice in enumerate(node.get(choice_key) or ()):
            if "const" in choice:
                _english(choice.get("x-title-en"), f"{where}/{choice_key}/{i} x-title-en")
                checked += 1
            elif "properties" in choice:  # a choice of fields (a signature drawn, or refused): shown as a group
                checked += _walk(choice, f"{where}/{choice_key}/{i}")
    for name, prop in (node.get("properties") or {}).items():
        checked += _walk(prop, f"{where}/properties/{name}")
    if isinstance(node.get("items"), dict):
        checked += _walk(node["items"], f"{where}/items")
    return checked


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_every_form_label_has_english(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    checked = _walk(schema, path.name)
    assert checked > len(schema["properties"])  # the form's own title and each property at least


def test_the_walk_finds_a_missing_translation_anywhere_in_the_tree():
    schema = json.loads((WORKFLOWS / "forms" / "register_evidence.schema.json").read_text(encoding="utf-8"))
    kind = schema["properties"]["evidence_items"]["items"]["properties"]["kind"]
    kind["x-enum-titles-en"] = kind["x-enum-titles-en"][:-1]
    with pytest.raises(AssertionError, match="kind"):
        _walk(schema, "register_evidence")
    del kind["x-enum-titles-en"]
    del kind["x-title-en"]
    with pytest.raises(AssertionError, match="kind x-title-en"):
        _walk(schema, "register_evidence")


def _step_names() -> dict[str, str]:
    names = {}
    for path in sorted(WORKFLOWS.glob("*.bpmn")):
        root = etree.parse(str(path)).getroot()
        for kind in NAMED_STEPS:
            for node in root.iter(f"{BPMN}{kind}"):
                names[node.get("id")] = node.get("name") or ""
    return names


def test_every_step_of_the_model_has_an_english_name_in_the_model():
    """`nameEn` beside the Chinese `name`, parsed once into the definition (and into each user task's TaskMeta)."""
    definition = load_default_definition()
    steps = _step_names()
    assert "acceptance_review" in steps and "panel_vote" in steps  # the BPMN files were read
    missing = sorted(set(steps) - set(definition.names_en))
    assert not missing, f"no nameEn for {missing}"
    for spec_id, name in definition.names_en.items():
        _english(name, f"nameEn of {spec_id}")
    for spec_id, meta in definition.metas.items():
        assert meta.name_en == definition.names_en[spec_id], spec_id


def test_every_stage_of_the_model_has_an_english_name():
    definition = load_default_definition()
    stages = {m.stage for m in definition.metas.values() if m.stage} | set(definition.call_stages.values())
    stages |= {definition.start_meta.get("stage", ""), ENDED_STAGE}
    assert {"intake", "deliberation", "closing"} <= stages
    for stage in sorted(stages):
        assert stage in STAGES, f"stage {stage!r} has no label"
        _english(STAGES[stage][1], f"stage {stage}")
