"""Load-time checks of a model's text: everything a case would otherwise trip over at run time.

Each check raises `DefinitionError` naming file, line and element id, so an administrator who uploads a
model learns exactly what to fix, and nothing half-valid is ever stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from engine.rules.carry import check_carry_keywords
from engine.rules.case_summary import check_summary_keywords
from engine.rules.confidential import confidential_fields
from engine.rules.evidence import evidence_declaration_problem
from engine.rules.form_checks import check_form_keywords
from engine.rules.indicators import mark_problem
from engine.spiff.scripting import ScriptRejected, check_expression, check_script

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
LIMIT_CALL = re.compile(r"""\b(?:due|warn)\(\s*(?:"([^"]*)"|'([^']*)'|(?!["'])([^,)]*))""")
TASK_PROPERTIES = {"stage", "document", "formJsonSchemaFilename", "candidatesFrom", "assigneeFrom",
                   "excludeActorsOf", "excludeUsersFrom", "supervision", "publication", "stopsClock",
                   "signatureBlock", "documentVariant", "fineField", "nameEn", "notice", "agencyFrom", "handOver"}
#: `agencyFrom`: the case data field naming the agency whose people act on the step, when it is not the agency
#: handling the case (a superior agency's supervisor's 督办 steps); its task is that agency's (issue 16).
# What the engine keys on, said by the model instead of by step ids in Python (each value closed, checked at load):
#: `publication`: the step's part in the publication register (双公示, 行政处罚法 Art 48).
PUBLICATION_ROLES = frozenset({"prepare", "decision", "release", "withdraw"})
#: `signatureBlock`: where the step's actor signs its 文书 (numbered blocks: by ballot or by 承办人 order).
SIGNATURE_BLOCKS = frozenset({"officer", "head", "approver", "recorder", "member", "handler"})
#: `documentVariant`: which wording of its 文书 the step writes (the same 文书 made at several steps).
#: `notice`: what the step's new task tells its people (issue 15) when it is not a plain offer or assignment:
#: `returned` — every time it is ready the case came back to them (a 补正 loop); `returned_on_repeat` — the first
#: time is ordinary, each later one a return (退回 to a step done before).
NOTICE_AS = frozenset({"returned", "returned_on_repeat"})
#: `handOver`: the step's part in a hand-over to another agency on the platform (转办/移送, engine/usecases/handover.py):
#: `send` — completing it opens the case at the receiving agency its form picks (`x-agency`), in the same transaction;
#: `await` — the sender's case waits here for the answer, a task nobody here takes (the receiver's step completes
#: it); `answer` — in a case that arrived by transfer, completing it answers the sender's waiting step.
HAND_OVER_PARTS = frozenset({"send", "await", "answer"})
DOCUMENT_VARIANTS = frozenset({"approval", "correction", "judicial", "not_accepted", "filing", "result",
                               "serves_notice", "serves_decision", "prepare", "withdraw"})


class DefinitionError(Exception):
    """A model file is invalid. str() gives "file:line element_id: message"."""

    def __init__(self, file: str, line: int | None, element_id: str | None, message: str) -> None:
        self.file = file
        self.line = line
        self.element_id = element_id
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.element_id or '-'}: {self.message}"


def parse_xml(name: str, content: bytes) -> etree._Element:
    # No entities, no network: an uploaded file must not read local files (XXE) or call out.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=False, huge_tree=False)
    try:
        return etree.fromstring(content, parser=parser, base_url=name)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else (exc.position[0] if exc.position else None)
        raise DefinitionError(name, line, None, f"XML 语法错误 (XML syntax error): {exc.msg}") from exc


def element_error(name: str, node: Any, message: str) -> DefinitionError:
    return DefinitionError(name, getattr(node, "sourceline", None), node.get("id") if node is not None else None,
                           message)


@dataclass(frozen=True)
class Gate:
    """A hard legal gate: the step is refused, with the article, when `refuse_if` is true. The article and the
    message in English (`article_en`, `message_en`) are empty when the model gives none: English pages then
    show the Chinese."""

    task_spec_id: str
    refuse_if: str
    article: str
    message: str
    article_en: str = ""
    message_en: str = ""

    def worded(self, names: Mapping[str, Any]) -> Gate:
        """The gate with each `{thresholds.<id>}` in its messages replaced by the province's value from the task
        data's `settings`: a limit the law leaves to the province is written once, in settings.json, and the
        refusal states the value in force."""
        thresholds = (names.get("settings") or {}).get("thresholds") or {}

        def value(match: re.Match[str]) -> str:
            found = thresholds.get(match.group(1))
            return match.group(0) if found is None else f"{found:g}" if isinstance(found, float) else str(found)

        return replace(self, message=_THRESHOLD.sub(value, self.message),
                       message_en=_THRESHOLD.sub(value, self.message_en))


_THRESHOLD = re.compile(r"\{thresholds\.([A-Za-z0-9_]+)\}")


def properties_of(node: Any) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in
            node.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", namespaces=NS)}


def check_expressions(name: str, root: Any, limit_ids: set[str]) -> None:
    """Conditions, scripts, timers: restricted syntax; timers call due()/warn() with known limits only."""
    for cond in root.iter(f"{{{BPMN_NS}}}conditionExpression"):
        _check(name, cond.getparent(), cond.text or "", check_expression, "条件表达式 (condition)")
    for script in root.iter(f"{{{BPMN_NS}}}script"):
        _check(name, script.getparent(), script.text or "", check_script, "脚本 (script)")
    for tag in ("preScript", "postScript"):
        for script in root.iter(f"{{{SPIFF_NS}}}{tag}"):
            owner = script.getparent().getparent()
            _check(name, owner, script.text or "", check_script, tag)
    for timer in root.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        event = timer.getparent()
        kinds = [etree.QName(c).localname for c in timer if isinstance(c.tag, str)]
        if kinds != ["timeDate"]:
            raise element_error(name, event, "定时器只能使用 timeDate 表达式（由 due()/warn() 按工作日计算），不支持 "
                                f"timeDuration/timeCycle (only timeDate timers are supported): {kinds}")
        text = timer[0].text or ""
        _check(name, event, text, check_expression, "定时器 (timer)")
        for match in LIMIT_CALL.finditer(text):
            limit = next(g for g in match.groups() if g is not None).strip()
            if limit not in limit_ids:
                raise element_error(name, event, f"未定义的期限 (undefined time limit id): {limit}")


def _check(name: str, node: Any, text: str, check: Any, what: str) -> None:
    try:
        check(text)
    except ScriptRejected as exc:
        raise element_error(name, node, f"{what}: {exc}") from exc


def check_dmn(name: str, root: Any) -> None:
    for expr in root.iter("{*}inputExpression"):
        text = "".join(expr.itertext()).strip()
        _check(name, expr.getparent(), text, check_expression, "DMN 输入 (input)")
    for entry in root.iter("{*}inputEntry"):
        text = "".join(t for c in entry if etree.QName(c).localname == "text" for t in c.itertext()).strip()
        if text in ("", "-"):
            continue
        probe = text.replace("?", "dmninputexpr")
        if probe == text and re.match(r"^\s*(<|>|<=|>=|==|!=|in\b|not\s+in\b)", text):
            probe = f"dmninputexpr {text}"
        _check(name, entry, probe, check_expression, "DMN 规则 (rule entry)")
    for entry in root.iter("{*}outputEntry"):
        text = "".join(t for c in entry if etree.QName(c).localname == "text" for t in c.itertext()).strip()
        if text:
            _check(name, entry, text, check_expression, "DMN 输出 (output entry)")


def check_form(name: str, content: bytes, *, meta_schema: bool = True) -> dict[str, Any]:
    try:
        schema = json.loads(content.decode("utf-8"))
        if meta_schema:
            Draft202012Validator.check_schema(schema)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError(name, getattr(exc, "lineno", None), None, f"表单不是合法的 JSON (not JSON): {exc}") from exc
    except SchemaError as exc:
        raise DefinitionError(name, None, None, f"表单不是合法的 JSON Schema (invalid schema): {exc.message}") from exc
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise DefinitionError(name, None, None, "表单必须是 object 类型的 JSON Schema (form must be an object schema)")
    try:  # a field marked confidential with an unknown class: refused at load, not when a step is signed
        confidential_fields(schema)
    except ValueError as exc:
        raise DefinitionError(name, None, None, f"表单的保密标记有误 (invalid x-confidential): {exc}") from exc
    if (problem := evidence_declaration_problem(schema.get("x-evidence"))) is not None:
        raise DefinitionError(name, None, None, f"表单的证据声明有误 (invalid x-evidence): {problem}")
    if (problem := mark_problem(schema)) is not None:  # an indicator mark no column takes would count nothing
        raise DefinitionError(name, None, None, f"表单的指标标记有误 (invalid x-indicator): {problem}")
    try:  # x-not-future, our formats, the case summary's keywords: a typo would silently check nothing
        check_form_keywords(schema)
        check_summary_keywords(schema)
    except ValueError as exc:
        raise DefinitionError(name, None, None, f"表单的校验标记有误 (invalid form keyword): {exc}") from exc
    try:  # x-from, x-range-from, x-document-number: a typo would silently carry nothing
        check_carry_keywords(schema)
    except ValueError as exc:
        raise DefinitionError(name, None, None, f"表单的取值标记有误 (invalid carry keyword): {exc}") from exc
    return schema


def check_lanes(name: str, root: Any, roles: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Lane ids are Lane_<role>, lane names the role's Chinese name; returns flow node id -> role."""
    role_of: dict[str, str] = {}
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        lane_id = lane.get("id", "")
        role = lane_id.removeprefix("Lane_")
        if not lane_id.startswith("Lane_") or role not in roles:
            raise element_error(name, lane, f"泳道必须对应角色 Lane_<role> (lane must be Lane_<role>; roles: "
                                f"{', '.join(sorted(roles))})")
        if lane.get("name") != roles[role]["lane_name"]:
            raise element_error(name, lane, f"泳道名称应为 (lane name must be) {roles[role]['lane_name']}")
        for ref in lane.iter(f"{{{BPMN_NS}}}flowNodeRef"):
            role_of[(ref.text or "").strip()] = role
    return role_of


def check_user_task(name: str, node: Any, role_of: Mapping[str, str], files: Mapping[str, bytes],
                    task_ids: set[str], needs_stage: bool = True, *,
                    limit_ids: set[str] | None = None) -> dict[str, str]:
    """A user task's properties, checked: known names, closed values, references that resolve.

    `limit_ids`: the province's time limits (settings.json) a `stopsClock` may name; None skips that check
    (no readable settings, as for timers)."""
    props = properties_of(node)
    unknown = set(props) - TASK_PROPERTIES
    if unknown:
        raise element_error(name, node, f"未知的任务属性 (unknown task properties): {', '.join(sorted(unknown))}")
    for prop, allowed in (("publication", PUBLICATION_ROLES), ("signatureBlock", SIGNATURE_BLOCKS),
                          ("documentVariant", DOCUMENT_VARIANTS), ("notice", NOTICE_AS),
                          ("handOver", HAND_OVER_PARTS)):
        if prop in props and props[prop] not in allowed:
            raise element_error(name, node, f"任务属性 {prop} 的值无效 (unknown {prop} value): {props[prop]} "
                                f"(allowed: {', '.join(sorted(allowed))})")
    if limit_ids:
        for limit in _split(props.get("stopsClock")):
            if limit not in limit_ids:
                raise element_error(name, node, f"stopsClock 引用了未定义的期限 (undefined time limit id): {limit}")
    if node.get("id") not in role_of:
        raise element_error(name, node, "用户任务必须位于一个角色泳道中 (user task must be in a role lane)")
    if needs_stage and not props.get("stage"):
        raise element_error(name, node, "缺少 stage 属性 (missing stage property)")
    form = props.get("formJsonSchemaFilename")
    if not form:
        raise element_error(name, node, "缺少表单 formJsonSchemaFilename (missing form)")
    if f"forms/{form}" not in files:
        raise element_error(name, node, f"表单文件不存在 (form file not found): forms/{form}")
    for ref in _split(props.get("excludeActorsOf")):
        if ref not in task_ids:
            raise element_error(name, node, f"excludeActorsOf 引用了不存在的任务 (unknown task id): {ref}")
    if "fineField" in props:
        _check_fine_field(name, node, props["fineField"], files[f"forms/{form}"])
    return props


def _check_fine_field(name: str, node: Any, field: str, form: bytes) -> None:
    """`fineField` names a number of the task's own form: the amount of the fine the step imposes (CNY)."""
    try:
        schema = json.loads(form.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # the form's own check reports it
    prop = (schema.get("properties") or {}).get(field) if isinstance(schema, dict) else None
    if not isinstance(prop, dict) or prop.get("type") not in ("number", "integer"):
        raise element_error(name, node, f"fineField 须为本任务表单中的数值字段 (fineField must name a number field "
                            f"of the task's form): {field}")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def split_list(value: str | None) -> tuple[str, ...]:
    return tuple(_split(value))


def check_gates(content: bytes, task_ids: set[str]) -> dict[str, list[Gate]]:
    name = "gates.json"
    try:
        raw = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError(name, getattr(exc, "lineno", None), None, f"不是合法的 JSON (not JSON): {exc}") from exc
    gates: dict[str, list[Gate]] = {}
    for task_id, entries in raw.items():
        if task_id.startswith("$"):
            continue
        if task_id not in task_ids:
            raise DefinitionError(name, None, task_id, "关卡引用了不存在的用户任务 (gate names an unknown user task)")
        for entry in entries:
            refuse_if, article, message = entry.get("refuse_if"), entry.get("article"), entry.get("message")
            if not (refuse_if and article and message):
                raise DefinitionError(name, None, task_id, "关卡需要 refuse_if、article、message (incomplete gate)")
            english = _gate_english(name, task_id, entry)
            try:
                check_expression(refuse_if)
            except ScriptRejected as exc:
                raise DefinitionError(name, None, task_id, f"关卡表达式 (gate expression): {exc}") from exc
            gates.setdefault(task_id, []).append(Gate(task_id, refuse_if, article, message, *english))
    return gates


def _gate_english(name: str, task_id: str, entry: Mapping[str, Any]) -> tuple[str, str]:
    """A gate's (article_en, message_en): both or neither (a model from before they existed has neither), as
    plain text without ASCII parentheses — a refusal reads "中文 (English)", and a bracket would split it."""
    article_en, message_en = entry.get("article_en", ""), entry.get("message_en", "")
    if not (isinstance(article_en, str) and isinstance(message_en, str)) or bool(article_en) != bool(message_en):
        raise DefinitionError(name, None, task_id, "关卡的英文须同时给出 article_en 与 message_en "
                                                   "(a gate in English needs both article_en and message_en)")
    if any(bracket in article_en + message_en for bracket in "()"):
        raise DefinitionError(name, None, task_id, "关卡的英文不得含半角括号 (no parentheses in a gate's English)")
    return article_en, message_en


def user_task_nodes(root: Any) -> Iterable[Any]:
    return root.iter(f"{{{BPMN_NS}}}userTask")
