"""A second province's model with other step ids runs unchanged: the engine keys on what the model says.

The default model is copied with every task id renamed (`p2_` + id) in the BPMN, the gates and the form
file names, stored as a new version, and cases are played through the use cases on it: they reach the
same outcomes, with the same 文书, the same publication and the same statutory clock as on the default
model. A step id hard-coded in Python would break one of these.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from lxml import etree

from engine.demo import SCENARIOS, play
from engine.services import Services
from engine.spiff.definitions import DEFAULT_ENTRY, WORKFLOWS_DIR, definition_files
from engine.spiff.driving import TIMER, Scenario
from engine.usecases.cases import case_deadlines, show_case
from engine.usecases.definitions import store_definition
from engine.usecases.documents import list_documents
from engine.usecases.publications import list_publications
from engine.usecases.reports import dashboard
from engine.usecases.tasks import list_tasks
from engine.values import StoreDefinition, fixed_clock
from tests.conftest import at
from tests.integration.conftest import PLAY_START

PREFIX = "p2_"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"
TASKS = ("task", "userTask", "scriptTask", "manualTask", "serviceTask", "callActivity", "businessRuleTask",
         "sendTask", "receiveTask", "subProcess")
REFERENCES = ("sourceRef", "targetRef", "attachedToRef", "bpmnElement")


def _task_ids(roots: list[etree._Element]) -> set[str]:
    return {n.get("id") for root in roots for tag in TASKS for n in root.iter(f"{BPMN}{tag}")}


def second_province(target: Path) -> set[str]:
    """workflows/ copied to `target` with every task id renamed; returns the old ids."""
    (target / "forms").mkdir(parents=True)
    models = {f.name: etree.parse(str(f)) for f in sorted(WORKFLOWS_DIR.glob("*.bpmn"))}
    ids = _task_ids([m.getroot() for m in models.values()])
    forms = {f"{i}.schema.json" for i in ids if (WORKFLOWS_DIR / "forms" / f"{i}.schema.json").exists()}

    def renamed(value: str | None) -> str | None:
        return PREFIX + value if value in ids else value

    for name, tree in models.items():
        root = tree.getroot()
        for tag in TASKS:
            for node in root.iter(f"{BPMN}{tag}"):
                node.set("id", PREFIX + node.get("id"))
        for node in root.iter():
            for attribute in REFERENCES:
                if node.get(attribute) is not None:
                    node.set(attribute, renamed(node.get(attribute)))
        for ref in root.iter(f"{BPMN}flowNodeRef"):
            ref.text = renamed((ref.text or "").strip())
        for prop in root.iter(f"{SPIFF}property"):
            value = prop.get("value") or ""
            if prop.get("name") == "excludeActorsOf":
                prop.set("value", ",".join(PREFIX + v.strip() for v in value.split(",")))
            elif prop.get("name") == "formJsonSchemaFilename" and value in forms:
                prop.set("value", PREFIX + value)
        tree.write(str(target / name), xml_declaration=True, encoding="UTF-8")
    for source in WORKFLOWS_DIR.iterdir():
        if source.suffix == ".dmn" or source.name == "roles.json":
            (target / source.name).write_bytes(source.read_bytes())
    gates = json.loads((WORKFLOWS_DIR / "gates.json").read_text(encoding="utf-8"))
    (target / "gates.json").write_text(json.dumps({renamed(k): v for k, v in gates.items()}, ensure_ascii=False),
                                       encoding="utf-8")
    for form in (WORKFLOWS_DIR / "forms").glob("*.schema.json"):
        (target / "forms" / (PREFIX + form.name if form.name in forms else form.name)).write_bytes(form.read_bytes())
    return ids


def renamed_scenario(scenario: Scenario) -> Scenario:
    return dataclasses.replace(scenario, steps=tuple(
        s if s.spec_id == TIMER else dataclasses.replace(s, spec_id=PREFIX + s.spec_id) for s in scenario.steps))


def _summary(svc: Services, number: str) -> dict[str, object]:
    case = show_case(svc, number)
    done = [t for t in list_tasks(svc, case=number, include_done=True) if t.status == "completed"]
    return {
        "outcome": case.outcome, "status": case.status, "steps": len(done),
        "documents": sorted(d.kind for d in list_documents(svc, number)),
    }


def test_the_renamed_model_has_no_step_id_of_the_default(tmp_path: Path) -> None:
    ids = second_province(tmp_path)
    files = definition_files(tmp_path)
    renamed = _task_ids([etree.fromstring(c) for n, c in files.items() if n.endswith(".bpmn")])
    assert renamed == {PREFIX + i for i in ids}  # process ids (the sub-processes called) keep their names
    assert not [i for i in ids if f"forms/{i}.schema.json" in files]


def test_a_second_province_model_plays_a_published_penalty_and_a_case_not_filed(
        ready_svc: Services, tmp_path: Path) -> None:
    svc = ready_svc
    default = {name: play(svc, SCENARIOS[name], start=PLAY_START).case for name in ("penalty_waiver", "not_filed")}
    second_province(tmp_path)
    _, sha, created = store_definition(StoreDefinition(files=definition_files(tmp_path), entry_process_id=DEFAULT_ENTRY,
                                                       name="第二个省", user_id=None),
                                       svc=svc, clock=fixed_clock(PLAY_START))
    assert created
    later = PLAY_START + dt.timedelta(days=1)
    other = {name: play(svc, renamed_scenario(SCENARIOS[name]), start=later).case
             for name in ("penalty_waiver", "not_filed")}
    for name in default:
        assert other[name].definition_sha256 == sha != default[name].definition_sha256
        assert _summary(svc, other[name].number) == _summary(svc, default[name].number), name
    assert show_case(svc, other["penalty_waiver"].number).outcome == "penalty_published"
    assert show_case(svc, other["not_filed"].number).outcome == "not_filed"

    # the publication register (双公示): both penalties published, from the steps the model marks
    published = {p.case_id: p for p in list_publications(svc).items}
    first, second = published[default["penalty_waiver"].id], published[other["penalty_waiver"].id]
    assert (second.party, second.fine, second.withdrawn) == (first.party, first.fine, first.withdrawn)
    assert second.fine

    # Art 60: the 90-day clock from 立案, met by the decision, on each model
    now = at("2026-12-31 09:00")
    for case in (default["penalty_waiver"], other["penalty_waiver"]):
        [clock] = [d for d in case_deadlines(svc, case.number, now=now) if d.task_id is None]
        assert clock.limit_id == "decision_deadline" and clock.start is not None and clock.met_at is not None
    for case in (default["not_filed"], other["not_filed"]):
        assert [d for d in case_deadlines(svc, case.number, now=now) if d.task_id is None] == []

    # the dashboard's fines: the second model's decision counts as the default's does
    fines = dashboard(svc, now=now).fines_by_month
    assert sum(f.decisions for f in fines) == 2
