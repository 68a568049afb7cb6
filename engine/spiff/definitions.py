"""Loading a process definition: BPMN + DMN + forms + gates, validated whole or not at all.

A definition is identified by the sha256 of its files; running cases stay on the version they started
with. Parsed specs are cached per sha256 and shared by every case on that version.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine.errors import ConfigurationError
from engine.rules.case_summary import benchmark_fields
from engine.rules.confidential import confidential_fields
from engine.rules.settings import load_settings
from engine.spiff.serialization import StateSerializer
from engine.spiff.timers import attached_timers, replace_timers
from engine.spiff.validation import (
    BPMN_NS,
    NS,
    DefinitionError,
    Gate,
    check_dmn,
    check_expressions,
    check_form,
    check_gates,
    check_lanes,
    check_user_task,
    element_error,
    parse_xml,
    properties_of,
    split_list,
    user_task_nodes,
)

__all__ = ["DefinitionError", "Gate", "LoadedDefinition", "MessageStart", "ProcessDefinition", "TaskMeta",
           "load_definition",
           "load_default_definition", "definition_files", "forget_parsed_definitions", "parse_definition"]

WORKFLOWS_DIR = Path(__file__).resolve().parents[2] / "workflows"
DEFAULT_ENTRY = "case_procedure"
DEFINITION_SUFFIXES = (".bpmn", ".dmn")
EXTRA_FILES = ("gates.json", "roles.json")
# The elements whose names a person sees by id (a task, the start of a procedure, a stage run as a sub-process).
NAMED_STEPS = ("userTask", "startEvent", "callActivity")


@dataclass(frozen=True)
class ProcessDefinition:
    name: str
    sha256: str
    files: Mapping[str, bytes]
    entry_process_id: str


@dataclass(frozen=True)
class TaskMeta:
    """What the engine needs to know about a user task, read from the model's properties."""

    spec_id: str
    name: str
    process_id: str
    role: str
    lane_name: str
    stage: str | None
    document: str | None
    form: str | None
    exclude_actors_of: tuple[str, ...] = ()
    exclude_users_from: tuple[str, ...] = ()
    assignee_from: str | None = None
    candidates_from: str | None = None
    supervision: bool = False
    multi_instance: bool = False
    publication: str | None = None  # its part in the publication register: prepare, decision, release, withdraw
    stops_clocks: tuple[str, ...] = ()  # statutory clocks (time limit ids) its completion meets
    signature_block: str | None = None  # where its actor signs the 文书 (None: the 承办人's block)
    agency_from: str | None = None  # the data field naming the agency that acts on it (None: the case's)
    document_variant: str | None = None  # which wording of its 文书 it writes
    fine_field: str | None = None  # the form field holding the fine it imposes (CNY)
    timers: tuple[str, ...] = ()  # the timeDate expressions of the timers attached to it, as SpiffWorkflow parsed them
    name_en: str | None = None  # its English name (the `nameEn` property; `name` is the model's Chinese one)
    notice: str | None = None  # what its new task tells its people when not a plain offer: returned (补正), …
    hand_over: str | None = None  # its part in a hand-over on the platform: send, await, answer (`handOver`)


@dataclass(frozen=True)
class MessageStart:
    """A non-interrupting message start event of an event sub-process: a step a person takes on a running case
    without a task offering it (挂牌督办: a supervisor flags the case). The engine sends the BPMN message with the
    person's form as its payload; the step is signed like any other, under this start event's id."""

    spec_id: str
    message: str  # the BPMN message's name: what the engine sends
    name: str
    role: str  # the lane's role: who may take the step
    form: str
    document: str | None = None
    name_en: str | None = None
    steps: tuple[str, ...] = ()  # the user tasks of its event sub-process: open ones mean it still runs


def files_sha256(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        content = files[name]
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


@dataclass
class LoadedDefinition:
    """A validated, parsed definition. Immutable in use; shared by every case on this version."""

    sha256: str
    files: Mapping[str, bytes]
    entry_process_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    metas: dict[str, TaskMeta]
    forms: dict[str, dict[str, Any]]
    start_form: dict[str, Any]
    start_meta: dict[str, str]
    gate_table: dict[str, list[Gate]]
    call_stages: dict[str, str]
    serializer: StateSerializer = field(repr=False)
    # English names (`nameEn`) of the steps a person sees by id: user tasks, start events, call activities.
    names_en: dict[str, str] = field(default_factory=dict)
    # The message start events of event sub-processes, by id (engine.spiff.instance.ProcessInstance.receive).
    message_starts: dict[str, MessageStart] = field(default_factory=dict)

    def message_start(self, message: str) -> MessageStart | None:
        """The model's start event for the BPMN message `message`; None if this version has none."""
        return next((m for m in self.message_starts.values() if m.message == message), None)

    @property
    def definition(self) -> ProcessDefinition:
        return ProcessDefinition("casetrail", self.sha256, self.files, self.entry_process_id)

    def form_schema(self, task_spec_id: str) -> dict[str, Any] | None:
        meta = self.metas.get(task_spec_id)
        if meta is None or meta.form is None:
            return None
        return self.forms.get(meta.form)

    def start_form_schema(self) -> dict[str, Any]:
        return self.start_form

    def gates(self, task_spec_id: str) -> list[Gate]:
        return list(self.gate_table.get(task_spec_id, ()))

    def task_meta(self, task_spec_id: str) -> TaskMeta:
        try:
            return self.metas[task_spec_id]
        except KeyError:
            raise KeyError(f"未知的用户任务 (unknown user task): {task_spec_id}") from None

    def bpmn_files(self) -> dict[str, bytes]:
        return {n: c for n, c in self.files.items() if n.endswith(".bpmn")}

    @cached_property
    def _confidential(self) -> dict[str, dict[str, str]]:
        """form file -> {JSON Pointer: class} of its fields marked `x-confidential`: read once per version."""
        return {name: confidential_fields(schema) for name, schema in self.forms.items()}

    def confidential_fields(self, task_spec_id: str) -> dict[str, str]:
        """The fields of the step's form a signed record seals as salted digests (engine/rules/confidential.py)."""
        meta = self.metas.get(task_spec_id)
        return self._confidential.get(meta.form, {}) if meta is not None and meta.form else {}

    @cached_property
    def start_confidential_fields(self) -> dict[str, str]:
        """The intake form's fields a signed record seals (the complainant's identity)."""
        return confidential_fields(self.start_form)

    @cached_property
    def publication_steps(self) -> dict[str, str]:
        """step id -> its part in the publication register (the `publication` property)."""
        return {k: m.publication for k, m in self.metas.items() if m.publication}

    @cached_property
    def fine_fields(self) -> dict[str, str]:
        """step id -> the form field holding the fine the step imposes (the `fineField` property)."""
        return {k: m.fine_field for k, m in self.metas.items() if m.fine_field}

    @cached_property
    def clock_stops(self) -> dict[str, frozenset[str]]:
        """Statutory clocks of a case (time limit id) -> the steps whose completion meets them (`stopsClock`)."""
        out: dict[str, set[str]] = {}
        for key, meta in self.metas.items():
            for limit in meta.stops_clocks:
                out.setdefault(limit, set()).add(key)
        return {limit: frozenset(steps) for limit, steps in out.items()}


def _limit_ids() -> set[str]:
    try:
        return set(load_settings().time_limits)
    except ConfigurationError:  # no readable settings: fall back to checking syntax only
        return set()


def _roles(files: Mapping[str, bytes]) -> dict[str, dict[str, str]]:
    content = files.get("roles.json")
    if content is None:
        content = (WORKFLOWS_DIR / "roles.json").read_bytes()
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError("roles.json", None, None, f"不是合法的 JSON (not JSON): {exc}") from exc


def load_definition(files: Mapping[str, bytes], entry_process_id: str, *,
                    stored: bool = False) -> LoadedDefinition:
    """Parse and validate everything; raise DefinitionError with file, line and element id.

    `stored`: the files are a version the engine validated whole when it stored them (engine/usecases/
    definitions.py); their form schemas are not checked against the JSON Schema meta-schema again — that check
    is four fifths of a parse (~0.5 s), paid by every fresh process, every CLI command among them.

    Reading a model does not hold its 裁量基准 to the law's ranges in today's settings: that is a check on adopting
    a new version (store_definition, engine/spiff/benchmarks.py `check_model`), and a version stored before must
    load whatever the settings say now — its cases run on it.
    """
    files = dict(files)
    sha = files_sha256(files)
    with _LOCK:
        cached = _CACHE.get(sha)
    if cached is not None and cached.entry_process_id == entry_process_id:
        return cached
    loaded = parse_definition(files, entry_process_id, stored=stored)
    with _LOCK:
        _CACHE.setdefault(sha, loaded)
    return loaded


def parse_definition(files: Mapping[str, bytes], entry_process_id: str, *,
                     stored: bool = False) -> LoadedDefinition:
    """Parse and validate afresh, past the process's cache: what a process that has seen nothing gets."""
    files = dict(files)
    sha = files_sha256(files)
    bpmn = {n: parse_xml(n, c) for n, c in sorted(files.items()) if n.endswith(".bpmn")}
    dmn = {n: parse_xml(n, c) for n, c in sorted(files.items()) if n.endswith(".dmn")}
    if not bpmn:
        raise DefinitionError("(definition)", None, None, "没有 BPMN 文件 (no BPMN file)")
    forms = {n.removeprefix("forms/"): check_form(n, c, meta_schema=not stored) for n, c in files.items()
             if n.startswith("forms/") and n.endswith(".json")}
    roles = _roles(files)
    limits = _limit_ids()
    process_ids = {p.get("id") for root in bpmn.values() for p in root.iter(f"{{{BPMN_NS}}}process")}
    decision_ids = {d.get("id") for root in dmn.values() for d in root.iter("{*}decision")}
    task_ids = {t.get("id") for root in bpmn.values() for t in user_task_nodes(root)}
    message_starts: dict[str, MessageStart] = {}
    metas: dict[str, TaskMeta] = {}
    call_stages: dict[str, str] = {}
    names_en: dict[str, str] = {}
    for name, root in bpmn.items():
        role_of = check_lanes(name, root, roles)
        check_expressions(name, root, limits)
        for call in root.iter(f"{{{BPMN_NS}}}callActivity"):
            if call.get("calledElement") not in process_ids:
                raise element_error(name, call, f"调用的流程不存在 (unknown calledElement): {call.get('calledElement')}")
            call_stages[call.get("id")] = properties_of(call).get("stage", "")
        for rule in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
            ref = rule.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS)
            if (ref or "").strip() not in decision_ids:
                raise element_error(name, rule, f"决策表不存在 (unknown decisionRef): {ref}")
        for node in user_task_nodes(root):
            props = check_user_task(name, node, role_of, files, task_ids, limit_ids=limits)
            process = node.xpath("ancestor::bpmn:process", namespaces=NS)[0]
            role = role_of[node.get("id")]
            metas[node.get("id")] = TaskMeta(
                spec_id=node.get("id"), name=node.get("name") or node.get("id"), process_id=process.get("id"),
                role=role, lane_name=roles[role]["lane_name"], stage=props.get("stage"),
                document=props.get("document") or None, form=props["formJsonSchemaFilename"],
                exclude_actors_of=split_list(props.get("excludeActorsOf")),
                exclude_users_from=split_list(props.get("excludeUsersFrom")),
                assignee_from=props.get("assigneeFrom") or None, candidates_from=props.get("candidatesFrom") or None,
                supervision=props.get("supervision") == "true",
                multi_instance=node.find("bpmn:multiInstanceLoopCharacteristics", namespaces=NS) is not None,
                publication=props.get("publication") or None, stops_clocks=split_list(props.get("stopsClock")),
                signature_block=props.get("signatureBlock") or None,
                document_variant=props.get("documentVariant") or None, fine_field=props.get("fineField") or None,
                name_en=props.get("nameEn") or None, notice=props.get("notice") or None,
                agency_from=props.get("agencyFrom") or None, hand_over=props.get("handOver") or None,
            )
        message_starts.update(_message_starts(name, root, role_of, forms))
        for node in root.iter(*(f"{{{BPMN_NS}}}{tag}" for tag in NAMED_STEPS)):
            english = properties_of(node).get("nameEn")
            if english:
                names_en[node.get("id")] = english
    for name, root in dmn.items():
        check_dmn(name, root)
    for name, schema in forms.items():  # a 裁量基准 range read from a decision the model does not have
        for key, bench in benchmark_fields(schema).items():
            if bench.decision not in decision_ids:
                raise DefinitionError(f"forms/{name}", None, key, f"x-benchmark 的决策表不存在 (unknown decision): "
                                      f"{bench.decision}")
    start_form, start_meta = _start_form(bpmn, entry_process_id, files, forms)
    gate_table = check_gates(files["gates.json"], task_ids | set(message_starts)) if "gates.json" in files else {}
    spec, subprocess_specs = _parse_specs(bpmn, dmn, entry_process_id)
    timers = attached_timers(task_spec for process_spec in [spec, *subprocess_specs.values()]
                             for task_spec in process_spec.task_specs.values())
    metas = {k: replace(m, timers=tuple(timers.get(k, ()))) for k, m in metas.items()}
    return LoadedDefinition(
        sha256=sha, files=files, entry_process_id=entry_process_id, spec=spec, subprocess_specs=subprocess_specs,
        metas=metas, forms=forms, start_form=start_form, start_meta=start_meta, gate_table=gate_table,
        call_stages=call_stages, serializer=StateSerializer(spec, subprocess_specs, sha), names_en=names_en,
        message_starts=message_starts,
    )


def _message_starts(name: str, root: Any, role_of: Mapping[str, str],
                    forms: Mapping[str, dict[str, Any]]) -> dict[str, MessageStart]:
    """The message start events of event sub-processes (`triggeredByEvent`): each in a role's lane, with a form."""
    messages = {m.get("id"): m.get("name") for m in root.iter(f"{{{BPMN_NS}}}message")}
    found: dict[str, MessageStart] = {}
    for sub in root.iter(f"{{{BPMN_NS}}}subProcess"):
        if sub.get("triggeredByEvent") != "true":
            continue
        for start in sub.findall("bpmn:startEvent", namespaces=NS):
            definition = start.find("bpmn:messageEventDefinition", namespaces=NS)
            if definition is None:
                continue
            props = properties_of(start)
            message = messages.get(definition.get("messageRef"))
            if not message:
                raise element_error(name, start, f"消息不存在 (unknown messageRef): {definition.get('messageRef')}")
            if start.get("id") not in role_of:
                raise element_error(name, start, "消息开始事件必须位于一个角色泳道中 (message start must be in a role lane)")
            form = props.get("formJsonSchemaFilename")
            if not form or form not in forms:
                raise element_error(name, start, f"开始事件的表单不存在 (start form not found): {form}")
            found[start.get("id")] = MessageStart(
                spec_id=start.get("id"), message=message, name=start.get("name") or start.get("id"),
                role=role_of[start.get("id")], form=form, document=props.get("document") or None,
                name_en=props.get("nameEn") or None, steps=tuple(t.get("id") for t in user_task_nodes(sub)))
    return found


def _start_form(bpmn: Mapping[str, Any], entry: str, files: Mapping[str, bytes],
                forms: Mapping[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    for name, root in bpmn.items():
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            if process.get("id") != entry:
                continue
            starts = process.findall("bpmn:startEvent", namespaces=NS)
            if len(starts) != 1:
                raise element_error(name, process, "入口流程必须只有一个开始事件 (entry process needs one start event)")
            props = {**properties_of(starts[0]), "id": starts[0].get("id")}
            form = props.get("formJsonSchemaFilename")
            if not form or form not in forms:
                raise element_error(name, starts[0], f"开始事件的表单不存在 (start form not found): {form}")
            return forms[form], props
    raise DefinitionError("(definition)", None, entry, f"入口流程不存在 (entry process not found): {entry}")


def _parse_specs(bpmn: Mapping[str, Any], dmn: Mapping[str, Any], entry: str) -> tuple[Any, dict[str, Any]]:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    current = "(definition)"
    try:
        for name, root in dmn.items():
            current = name
            parser.add_dmn_xml(root, filename=name)
        for name, root in bpmn.items():
            current = name
            parser.add_bpmn_xml(root, filename=name)
        current = "(definition)"
        spec = parser.get_spec(entry)
        subprocess_specs = parser.get_subprocess_specs(entry)
    except ValidationException as exc:
        line = exc.line_number if isinstance(exc.line_number, int) else None
        raise DefinitionError(exc.file_name or current, line, exc.id or None, str(exc)) from exc
    for process_spec in [spec, *subprocess_specs.values()]:
        refused = replace_timers(iter(process_spec.task_specs.values()))
        if refused:
            task_spec, kind = refused[0]
            raise DefinitionError(process_spec.file or "(definition)", None, task_spec.bpmn_id,
                                  f"不支持的定时器 (unsupported timer {kind}): use timeDate with due()/warn()")
        wire_instance_merges(process_spec)
        wire_event_subprocesses(process_spec)
    return spec, subprocess_specs


def wire_instance_merges(process_spec: Any) -> None:
    """Connect every loop and multi-instance task to its instances' completion, once, at load.

    SpiffWorkflow 3.2 (since PR #414) merges an instance's result into its parent through the instance
    spec's `completed_event`, connected only when the parent creates an instance. A workflow restored in
    another process never created them there, so its instances would complete without being merged and the
    parent (a 合议 waiting for its ballots) would wait for ever. Connected here, restoring never depends on
    what this process did before; `create_child` sees the connection and does not add a second one.
    """
    for task_spec in process_spec.task_specs.values():
        if isinstance(task_spec, LoopTask):
            instance_spec = process_spec.task_specs[task_spec.task_spec]
            if not instance_spec.completed_event.is_connected(task_spec.merge_child):
                instance_spec.completed_event.connect(task_spec.merge_child)


def wire_event_subprocesses(process_spec: Any) -> None:
    """Connect every event sub-process (挂牌督办) as SpiffWorkflow 3.2 does when its event first comes, once, at load.

    The first event a process sees for it (`BpmnStartTask.trigger_wf`) wires the sub-process's spec below the start
    and to the end — on the shared spec, so only in that process. A workflow restored elsewhere then fails when the
    sub-process ends ("No input task connected"). Wired here, every process has the same spec whatever it did
    before; the start's outputs are left alone (as `trigger_wf` does once wired), so a new case does not start it.
    """
    start = getattr(process_spec, "start", None)
    for name in getattr(start, "trigger_specs", ()):
        sub = process_spec.task_specs.get(name)
        if sub is not None and start not in sub.inputs:
            sub.inputs = [*sub.inputs, start]  # a list built from names on each read: set, not appended to
            if process_spec.end not in sub.outputs:
                sub.connect(process_spec.end)


def definition_files(directory: Path = WORKFLOWS_DIR) -> dict[str, bytes]:
    """The files of a definition in a workflows directory (settings.json is province data, not model)."""
    files: dict[str, bytes] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix in DEFINITION_SUFFIXES or path.name in EXTRA_FILES:
            files[path.name] = path.read_bytes()
    for path in sorted((directory / "forms").glob("*.schema.json")):
        files[f"forms/{path.name}"] = path.read_bytes()
    return files


_CACHE: dict[str, LoadedDefinition] = {}
_LOCK = threading.Lock()


def forget_parsed_definitions() -> None:
    """Drop this process's parsed definitions. They are a cache: a process that parses afresh must behave
    exactly as one that has run cases before (the cross-process tests drop it between every two steps)."""
    with _LOCK:
        _CACHE.clear()


def load_default_definition() -> LoadedDefinition:
    """The definition in workflows/, parsed once per process and sha256. Read only: its 裁量基准 are held to the
    law's ranges when it is stored (store_default_definition goes through store_definition, as every version)."""
    return load_definition(definition_files(), DEFAULT_ENTRY)
