"""Data carried forward (issue 15): a form's fields that start from what the case already recorded.

Nothing recorded in a case is typed twice. A form says, in its schema, where a field's first value comes from;
the engine reads these keywords once, here, for every step alike (no step id in Python):

- `"x-from": "facts"` — a variable of the case's data as the step sees it: what an earlier step recorded
  (调查终结报告's `facts`), a DMN output (`fine_min`), a script's result (`tally.fine`: a dotted path into a
  nested value), or the province's standing wording (`wording.remedy.text`, settings.json `wording`); a part
  in braces is a variable's value (`wording.correction_orders.{violation_type}.text`: 责令改正 for the violation).
- `"x-from": [...]` — sources in order of preference: the first the case has wins (the latest fine first:
  复核/补正, then 听证, then 告知).
- a source `{"template": "{facts}\\n证据：{evidence_summary}"}` — text made of several variables, used only when
  every one of them is recorded;
- a source `{"from": "tally.fine", "title": "合议", "x-title-en": "the panel's deliberation"}` — names where
  the value comes from when no step's form recorded it (a script's or a DMN's result).
- `"x-range-from": {"min": "fine_min", "max": "fine_max", "basis": "benchmark_basis"}` on a number: the
  裁量基准 range shown beside the field (行政处罚法 Art 34), never a limit of its own: the gates decide.
- `"readOnly": true` — a fact the user must not change (the 文号 of a 文书 served): shown from the case, never
  an input, refused when submitted (engine/usecases/forms.py).
- `"x-document-number": true` on a readOnly string: the 文号 of the step's own 文书, which the engine numbers
  when the step is signed (per document kind, agency and year: engine/stepdocs.py) and records in this field.
- `"x-in-force": "<agency setting>"` on a readOnly string: the value of that setting (settings.json
  `agency_settings`) in force for the case's agency when the step is signed, which the engine records in this
  field — the 裁量基准 the 调查终结报告 applies (`discretion.benchmark`), so the signed record, the model's decision
  and a later replay read it from the case, never from settings changed since.

The carried value is only where the form starts: what is submitted is validated like anything typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

FROM = "x-from"
RANGE_FROM = "x-range-from"
DOCUMENT_NUMBER = "x-document-number"
IN_FORCE = "x-in-force"
READ_ONLY = "readOnly"
RANGE_KEYS = frozenset({"min", "max", "basis"})
SOURCE_KEYS = frozenset({"from", "template", "title", "x-title-en"})
_SEGMENT = r"([A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})"
_PATH = re.compile(rf"{_SEGMENT}(\.{_SEGMENT})*")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Source:
    """One place a field's value may come from: a variable's path, or a template over several."""

    path: str = ""
    template: str = ""
    title: str = ""  # where it comes from, when no step's form recorded it
    title_en: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """The variables it reads, in order."""
        return tuple(_PLACEHOLDER.findall(self.template)) if self.template else (self.path,)

    @property
    def root(self) -> str:
        """The case variable the value is first recorded under (`tally` of `tally.fine`)."""
        return self.names[0].split(".", 1)[0]


@dataclass(frozen=True)
class Carried:
    """A field's first value, and the source it came from."""

    key: str
    value: Any
    source: Source
    fixed: bool  # readOnly: shown, never typed


@dataclass(frozen=True)
class Range:
    """The 裁量基准's range for a number field (CNY), with its basis."""

    key: str
    low: float
    high: float
    basis: str = ""


def lookup(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of `data`; None when any part is missing, empty or not a mapping. A part in
    braces is the value of that variable (`wording.correction_orders.{violation_type}.text`: the order for the
    case's violation)."""
    value: Any = data
    for part in path.split("."):
        if part.startswith("{") and part.endswith("}"):
            part = data.get(part[1:-1])
            if not isinstance(part, str):
                return None
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return None if value == "" or value == [] else value


def _sources(declared: Any) -> tuple[Source, ...]:
    items = declared if isinstance(declared, list) else [declared]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Source(path=item))
        elif isinstance(item, Mapping):
            out.append(Source(path=str(item.get("from", "")), template=str(item.get("template", "")),
                              title=str(item.get("title", "")), title_en=str(item.get("x-title-en", ""))))
    return tuple(out)


def _fits(node: Mapping[str, Any], value: Any) -> bool:
    """Whether `value` is of the field's type (a carried value of another type is left out, not converted)."""
    kind = node.get("type", "string")
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("number", "integer"):
        return isinstance(value, int | float) and not isinstance(value, bool) and (
            kind == "number" or float(value).is_integer())
    if "enum" in node:
        return value in node["enum"]
    return isinstance(value, str) and kind == "string"


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _value(source: Source, data: Mapping[str, Any]) -> Any:
    if not source.template:
        return lookup(data, source.path)
    values = [lookup(data, name) for name in source.names]
    if any(v is None or isinstance(v, Mapping | list) for v in values):
        return None
    parts = iter(_plain(v) for v in values)
    return _PLACEHOLDER.sub(lambda _m: next(parts), source.template)


def _properties(schema: Mapping[str, Any] | None) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key, node in ((schema or {}).get("properties") or {}).items():
        if isinstance(node, Mapping):
            yield str(key), node


def carried(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> tuple[Carried, ...]:
    """The fields of `schema` whose value the case `data` already holds, each from its first source present."""
    out = []
    for key, node in _properties(schema):
        for source in _sources(node.get(FROM)):
            value = _value(source, data)
            if value is not None and _fits(node, value):
                out.append(Carried(key, value, source, fixed=node.get(READ_ONLY) is True))
                break
    return tuple(out)


def ranges(schema: Mapping[str, Any] | None, data: Mapping[str, Any]) -> tuple[Range, ...]:
    """The 裁量基准 ranges of the number fields that declare one, where the case has both ends."""
    out = []
    for key, node in _properties(schema):
        declared = node.get(RANGE_FROM)
        if not isinstance(declared, Mapping):
            continue
        low, high = lookup(data, str(declared.get("min", ""))), lookup(data, str(declared.get("max", "")))
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
            continue
        basis = lookup(data, str(declared.get("basis", ""))) if declared.get("basis") else None
        out.append(Range(key, float(low), float(high), basis if isinstance(basis, str) else ""))
    return tuple(out)


def read_only_fields(schema: Mapping[str, Any] | None) -> frozenset[str]:
    """The fields nobody types: shown from the case or numbered by the engine."""
    return frozenset(key for key, node in _properties(schema) if node.get(READ_ONLY) is True)


def document_number_field(schema: Mapping[str, Any] | None) -> str | None:
    """The field that records the 文号 the engine gives the step's 文书, if the form has one."""
    return next((key for key, node in _properties(schema) if node.get(DOCUMENT_NUMBER) is True), None)


def in_force_fields(schema: Mapping[str, Any] | None) -> dict[str, str]:
    """The fields that record an agency setting in force when the step is signed: field -> setting key."""
    return {key: node[IN_FORCE] for key, node in _properties(schema) if isinstance(node.get(IN_FORCE), str)}


def check_carry_keywords(schema: Mapping[str, Any]) -> None:
    """ValueError for a carry keyword that would silently carry nothing: checked when a model is loaded."""
    numbered = [key for key, node in _properties(schema) if DOCUMENT_NUMBER in node]
    if len(numbered) > 1:
        raise ValueError(f"{DOCUMENT_NUMBER}: 只能有一个字段 (only one field may hold the 文号): {numbered}")
    for key, node in _properties(schema):
        if DOCUMENT_NUMBER in node and (node[DOCUMENT_NUMBER] is not True or node.get(READ_ONLY) is not True
                                         or node.get("type") != "string"):
            raise ValueError(f"{key}: {DOCUMENT_NUMBER} 须为 true，且字段为 readOnly 的文字 "
                             "(must be true on a readOnly string)")
        if IN_FORCE in node and (not isinstance(node[IN_FORCE], str) or not node[IN_FORCE]
                                 or node.get(READ_ONLY) is not True or node.get("type") != "string"):
            raise ValueError(f"{key}: {IN_FORCE} 须为机构设置项，且字段为 readOnly 的文字 "
                             "(must name an agency setting, on a readOnly string)")
        if node.get(READ_ONLY) is True and key in (schema.get("required") or ()):
            raise ValueError(f"{key}: readOnly 字段不能必填 (a readOnly field cannot be required: nobody types it)")
        if FROM in node:
            _check_sources(key, node[FROM])
        if RANGE_FROM in node:
            declared = node[RANGE_FROM]
            if (not isinstance(declared, Mapping) or not {"min", "max"} <= set(declared) <= RANGE_KEYS
                    or not all(isinstance(v, str) and _PATH.fullmatch(v) for v in declared.values())
                    or node.get("type") not in ("number", "integer")):
                raise ValueError(f"{key}: {RANGE_FROM} 须为数字字段上的 {{min, max[, basis]}} 变量路径 "
                                 "(must map min, max and optionally basis to variable paths, on a number)")


def _check_sources(key: str, declared: Any) -> None:
    items = declared if isinstance(declared, list) else [declared]
    if not items:
        raise ValueError(f"{key}: {FROM} 为空 (empty)")
    for item in items:
        if isinstance(item, str):
            item = {"from": item}
        if not isinstance(item, Mapping) or not set(item) <= SOURCE_KEYS or ("from" in item) == ("template" in item):
            raise ValueError(f"{key}: {FROM} 的来源须为变量路径、{{from}} 或 {{template}} "
                             "(a source is a variable path, {from: path} or {template: text})")
        names = _PLACEHOLDER.findall(str(item["template"])) if "template" in item else [item["from"]]
        if not names or not all(isinstance(n, str) and _PATH.fullmatch(n) for n in names):
            raise ValueError(f"{key}: {FROM} 引用的变量名无效 (invalid variable path): {names}")
