"""A task's JSON Schema made into an HTML form, and the submitted form made back into JSON data.

Supported: objects (fieldsets), strings (maxLength, format date / date-time, long text as textarea),
integers and numbers (minimum / maximum), booleans, enums with Chinese labels (`x-enum-titles` or
`oneOf: [{const, title}]`), arrays of strings or enums, arrays of objects (repeatable rows).
Field names are dotted paths (`items.0.name`) so the engine's error paths (`items/0/name`) map back;
`error_places` says which of them a page marks, so its banner counts exactly those.

What the engine checks is drawn too: a field required only in some cases (`if`/`then` on the object, such as
姓名/电话 unless anonymous) carries those cases (`required_when`) and web/static/app.js stars it when they hold;
a past event's date-time (`x-not-future`) starts at now, in the agency's time zone, and offers no later time.

A signature (`"x-widget": "signature-pad"` on an object whose `oneOf` choices are told apart by a `mode` const: drawn,
or refused with a note and a witness) is a choice of radio buttons, each choice's fields below it; a string with
`"contentMediaType": "image/png"` is a drawing pad (`<canvas>`, web/static/app.js) that fills a hidden field with the
drawing's PNG data URL. Without JavaScript the choices that need no drawing still work.

A field naming people (`x-person`, a login id or a list of them) is a picker: a <select> (a checkbox list for a
list) of those eligible, each shown as 姓名 · 单位 · 执法证号 (有效期), its value the login id — the choices drawn
for one case by web/pickers.py (`x-person-choices`); the engine checks the choice again whatever was sent.

Labels are in the page's language: on English pages the vendor keywords `x-title-en`, `x-description-en`
and `x-enum-titles-en` (or `x-title-en` in a `oneOf` choice); the Chinese wherever one is missing, so a
model uploaded without translations still shows every label.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import g, has_app_context
from werkzeug.datastructures import MultiDict

from web.zone import local_zone

TEXTAREA_FROM = 500  # strings allowed to be longer than this get a textarea
DATETIME_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DATETIME_LOCAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


@dataclass(frozen=True)
class Field:
    name: str
    key: str
    title: str
    kind: str
    required: bool = False
    description: str = ""
    options: tuple[tuple[Any, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    children: tuple[Field, ...] = ()
    read_only: bool = False
    default: Any = None
    min_items: int = 0
    # The cases in which the field is required besides `required`: any case whose every (field name, allowed
    # values) holds. From `if`/`then` of the object schema: {"if": {"properties": {"anonymous": {"const": false}}},
    # "then": {"required": ["name"]}} -> ((("complainant.anonymous", (False,)),),)
    required_when: tuple[tuple[tuple[str, tuple[Any, ...]], ...], ...] = ()
    not_future: bool = False  # x-not-future: a past event's date or time
    format: str = ""
    data_options: bool = False  # x-data-options: the choices are data (the case's files), not wording

    @property
    def html_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return _resolve(merged, root)
    return schema


def page_language() -> str:
    """The language web.i18n chose for this request; Chinese outside a request."""
    return str(g.get("lang", "zh")) if has_app_context() else "zh"


def _text(schema: dict[str, Any], keyword: str, language: str) -> Any:
    """`title` / `description` in the language, the Chinese when there is no translation."""
    if language == "en":
        english = schema.get(f"x-{keyword}-en")
        if english:
            return english
    return schema.get(keyword)


def _labels(titles: Any, values: list[Any]) -> dict[str, str]:
    if isinstance(titles, dict):
        return {str(v): str(titles[str(v)]) for v in values if titles.get(str(v))}
    if isinstance(titles, list) and len(titles) == len(values):
        return {str(v): str(t) for v, t in zip(values, titles, strict=True) if t}
    return {}


def enum_options(schema: dict[str, Any], language: str | None = None) -> tuple[tuple[Any, str], ...]:
    """(value, label) pairs; the label in `language` (default: the page's), else the Chinese, else the value."""
    language = language or page_language()
    if "enum" in schema:
        values = list(schema["enum"])
        chinese = _labels(schema.get("x-enum-titles") or schema.get("enumTitles") or schema.get("x-enumNames"), values)
        english = _labels(schema.get("x-enum-titles-en"), values) if language == "en" else {}
        return tuple((v, english.get(str(v)) or chinese.get(str(v)) or str(v)) for v in values)
    choices = schema.get("oneOf") or schema.get("anyOf")
    if isinstance(choices, list) and choices and all(isinstance(c, dict) and "const" in c for c in choices):
        return tuple((c["const"], str(_text(c, "title", language) or c["const"])) for c in choices)
    return ()


PERSON_KEYWORD = "x-person"
PERSON_CHOICES = "x-person-choices"  # [{id, name, unit, cert_no, cert_valid_until}], drawn per case (web/pickers.py)


def person_label(choice: dict[str, Any], language: str) -> str:
    """姓名 · 单位 · 执法证号（有效期至 …）: who a picker offers, told apart by more than a name."""
    parts = [str(choice.get("name") or choice.get("id")), str(choice.get("unit") or "")]
    if choice.get("cert_no"):
        until = choice.get("cert_valid_until")
        valid = (f" (valid until {until})" if language == "en" else f"（有效期至 {until}）") if until else ""
        parts.append(f"{choice['cert_no']}{valid}")
    return " · ".join(p for p in parts if p)


def person_options(schema: dict[str, Any], language: str) -> tuple[tuple[Any, str], ...]:
    choices = schema.get(PERSON_CHOICES) or ()
    return tuple((str(c["id"]), person_label(c, language)) for c in choices if isinstance(c, dict) and c.get("id"))


def _type(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    if isinstance(kind, list):  # ["string", "null"]: the non-null one
        kind = next((k for k in kind if k != "null"), "string")
    return str(kind)


SIGNATURE_WIDGET = "signature-pad"
CHOICE_KEY = "mode"  # the property whose `const` tells a signature's choices apart
PNG_DATA_URL = "data:image/png;base64,"


def _choices(name: str, schema: dict[str, Any], root: dict[str, Any], language: str) -> tuple[Field, ...]:
    """A signature's choices: one object field per `oneOf` choice, keyed by its `mode` const, without the `mode`."""
    out = []
    for choice in schema.get("oneOf") or ():
        choice = _resolve(choice, root) if isinstance(choice, dict) else {}
        props = choice.get("properties") or {}
        mode = (props.get(CHOICE_KEY) or {}).get("const")
        if mode is None:
            continue
        rest = {**choice, "properties": {k: v for k, v in props.items() if k != CHOICE_KEY}}
        out.append(Field(name=name, key=str(mode), title=str(_text(choice, "title", language) or mode), kind="object",
                         children=build_fields(rest, prefix=name, root=root, language=language)))
    return tuple(out)


Cases = tuple[tuple[tuple[str, tuple[Any, ...]], ...], ...]


def _required_when(schema: dict[str, Any], prefix: str) -> dict[str, Cases]:
    """Property -> the cases of `if`/`then` (the object's own, and each of `allOf`) that require it. Only an `if`
    on the values of the object's own properties (`const` or `enum`) can be drawn; the engine checks every rule."""
    if "#" in prefix:  # inside a repeatable row: its fields have no one name to look at
        return {}
    rules = [r for r in (schema.get("allOf") or ()) if isinstance(r, dict)] + ([schema] if "if" in schema else [])
    found: dict[str, list[tuple[tuple[str, tuple[Any, ...]], ...]]] = {}
    for rule in rules:
        condition, then = rule.get("if"), rule.get("then")
        if not isinstance(condition, dict) or not isinstance(then, dict):
            continue
        clauses = []
        for key, sub in (condition.get("properties") or {}).items():
            values = (sub["const"],) if isinstance(sub, dict) and "const" in sub else (
                tuple(sub["enum"]) if isinstance(sub, dict) and isinstance(sub.get("enum"), list) else None)
            if values is None:
                clauses = []
                break
            clauses.append((f"{prefix}.{key}" if prefix else key, values))
        for key in then.get("required") or () if clauses else ():
            found.setdefault(key, []).append(tuple(clauses))
    return {key: tuple(cases) for key, cases in found.items()}


def _field(name: str, key: str, schema: dict[str, Any], required: bool, root: dict[str, Any],
           language: str, required_when: Cases = ()) -> Field:
    schema = _resolve(schema, root)
    title = str(_text(schema, "title", language) or key)
    common = {"name": name, "key": key, "title": title, "required": required,
              "description": str(_text(schema, "description", language) or ""),
              "read_only": bool(schema.get("readOnly")), "default": schema.get("default"),
              "required_when": () if required else required_when}
    if schema.get("x-widget") == SIGNATURE_WIDGET:
        return Field(kind="signature", children=_choices(name, schema, root, language), **common)
    if schema.get("contentMediaType") == "image/png":
        return Field(kind="png", **common)
    kind = _type(schema)
    if PERSON_KEYWORD in schema or PERSON_KEYWORD in (schema.get("items") or {}):
        return Field(kind="persons" if kind == "array" else "person", options=person_options(schema, language),
                     min_items=int(schema.get("minItems", 0)), **common)
    options = enum_options(schema, language)
    if options:
        return Field(kind="enum", options=options, data_options=schema.get("x-data-options") is True, **common)
    if kind == "object":
        return Field(kind="object", children=build_fields(schema, prefix=name, root=root, language=language), **common)
    if kind == "array":
        items = _resolve(schema.get("items", {}), root)
        item_options = enum_options(items, language)
        if item_options:
            return Field(kind="multienum", options=item_options, **common)
        if _type(items) == "object":
            children = build_fields(items, prefix=f"{name}.#", root=root, language=language)
            return Field(kind="rows", children=children, **common)
        return Field(kind="strings", max_length=items.get("maxLength"), min_items=int(schema.get("minItems", 0)), **common)
    if kind in ("integer", "number"):
        return Field(kind=kind, minimum=schema.get("minimum"), maximum=schema.get("maximum"), **common)
    if kind == "boolean":
        return Field(kind="boolean", **common)
    max_length = schema.get("maxLength")
    fmt = schema.get("format")
    widget = schema.get("x-widget") or schema.get("x-ui-widget")
    if fmt == "date":
        text_kind = "date"
    elif fmt == "date-time":
        text_kind = "datetime"
    elif widget == "textarea" or fmt == "textarea" or (max_length or 0) > TEXTAREA_FROM:
        text_kind = "textarea"
    else:
        text_kind = "string"
    return Field(kind=text_kind, max_length=max_length, not_future=schema.get("x-not-future") is True,
                 format=str(fmt or ""), **common)


# Built fields of whole schemas by (id, language). The model's schemas are the definition's own objects,
# parsed once per process, so a page with twenty completed steps builds no field twice. The schema is
# kept with its fields: its id cannot be reused while it is here, and the identity check refuses a new
# object at an old address.
_BUILT: dict[tuple[int, str], tuple[dict[str, Any], tuple[Field, ...]]] = {}
_BUILT_MAX = 512


def build_fields(schema: dict[str, Any] | None, *, prefix: str = "", root: dict[str, Any] | None = None,
                 language: str | None = None) -> tuple[Field, ...]:
    """The fields of an object schema, in the schema's property order, labelled in `language` (default: the page's).

    Fields are immutable; a whole schema's are built once per process and language."""
    if not schema:
        return ()
    language = language or page_language()
    if prefix or root is not None:
        return _build_fields(schema, prefix, root, language)
    key = (id(schema), language)
    kept = _BUILT.get(key)
    if kept is not None and kept[0] is schema:
        return kept[1]
    fields = _build_fields(schema, "", schema, language)
    if len(_BUILT) >= _BUILT_MAX:
        _BUILT.clear()
    _BUILT[key] = (schema, fields)
    return fields


def _build_fields(schema: dict[str, Any], prefix: str, root: dict[str, Any], language: str) -> tuple[Field, ...]:
    schema = _resolve(schema, root)
    required = set(schema.get("required", ()))
    conditional = _required_when(schema, prefix)
    out = []
    for key, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, dict) or sub.get("x-hidden"):
            continue
        out.append(_field(f"{prefix}.{key}" if prefix else key, key, sub, key in required, root, language,
                          conditional.get(key, ())))
    return tuple(out)


@dataclass
class Parsed:
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def parse_form(fields: tuple[Field, ...], form: MultiDict[str, str], *, prefix: str = "") -> Parsed:
    """The submitted form as JSON data for the engine, plus the values that could not be read at all."""
    result = Parsed()
    for f in fields:
        if f.read_only:
            continue
        name = f"{prefix}.{f.key}" if prefix else f.key
        value = _parse_one(f, name, form, result.errors)
        if value is not None:
            result.data[f.key] = value
    return result


def _parse_one(f: Field, name: str, form: MultiDict[str, str], errors: dict[str, str]) -> Any:
    if f.kind == "signature":  # only the chosen choice's fields: the others' are left on the page, unread
        mode = form.get(f"{name}.{CHOICE_KEY}", "")
        choice = next((c for c in f.children if c.key == mode), None)
        if choice is None:
            return None
        inner = parse_form(choice.children, form, prefix=name)
        errors.update(inner.errors)
        return {CHOICE_KEY: choice.key, **inner.data}
    if f.kind == "object":
        inner = parse_form(f.children, form, prefix=name)
        errors.update(inner.errors)
        return inner.data if inner.data or f.required else None
    if f.kind == "rows":
        return _parse_rows(f, name, form, errors)
    if f.kind in ("strings", "persons"):
        items = [v.strip() for v in form.getlist(name) if v.strip()]
        return items if items or f.required else None
    if f.kind == "multienum":
        chosen = set(form.getlist(name))
        items = [v for v, _ in f.options if str(v) in chosen]
        return items if items or f.required else None
    if f.kind == "boolean":
        return form.get(name) in ("on", "true", "1", "yes")
    raw = form.get(name, "")
    # Browsers send a textarea's line breaks as CRLF (HTML): a text carried in with "\n" comes back as it was.
    raw = raw.replace("\r\n", "\n") if f.kind == "textarea" else raw.strip()
    if raw == "":
        return None
    if f.kind == "datetime" and DATETIME_LOCAL.fullmatch(raw):
        # <input type=datetime-local> gives the agency's wall time without a zone: say which (RFC 3339)
        try:
            wall = dt.datetime.fromisoformat(raw)
        except ValueError:
            return raw  # 2026-02-30T10:00: the engine says it is no date
        return wall.replace(tzinfo=local_zone()).isoformat(timespec="seconds")
    if f.kind == "enum":
        for v, _ in f.options:
            if str(v) == raw:
                return v
        return raw  # not one of the choices: the engine says so
    if f.kind in ("integer", "number"):
        try:
            number = float(raw.replace(",", ""))
        except ValueError:
            errors[name] = "须为数字 (must be a number)"
            return raw
        if f.kind == "integer":
            if not number.is_integer():
                errors[name] = "须为整数 (must be a whole number)"
                return raw
            return int(number)
        return int(number) if number.is_integer() and "." not in raw else number
    return raw


def _parse_rows(f: Field, name: str, form: MultiDict[str, str], errors: dict[str, str]) -> list[Any] | None:
    indices: set[int] = set()
    start = f"{name}."
    for key in form:
        if key.startswith(start):
            head = key[len(start):].split(".", 1)[0]
            if head.isdigit():
                indices.add(int(head))
    rows: list[Any] = []
    for index in sorted(indices):
        inner = parse_form(f.children, form, prefix=f"{name}.{index}")
        # `is False`, not `in (False, …)`: 0 == False in Python, and a row holding only a 0 is a typed value
        meaningful = {k: v for k, v in inner.data.items() if v is not False and v not in (None, "", [])}
        if not meaningful:
            continue  # an empty row left over from "add row"
        for key, message in inner.errors.items():
            errors[key.replace(f"{name}.{index}.", f"{name}.{len(rows)}.", 1)] = message
        rows.append(inner.data)
    return rows if rows or f.required else None


def _local(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(local_zone())
    return moment.strftime("%Y-%m-%d %H:%M")


def error_key(path: str) -> str:
    """The engine's error path (`items/0/name`) as a form field name (`items.0.name`)."""
    return path.replace("/", ".")


def _list_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _places(f: Field, name: str, value: Any) -> Iterator[str]:
    """The names web/templates/_form.html can mark an error at, for field `f` shown as `name` with `value`."""
    yield name
    if f.kind == "object":
        for child in f.children:
            yield from _places(child, f"{name}.{child.key}", value.get(child.key) if isinstance(value, dict) else None)
    elif f.kind == "rows":
        rows = _list_of(value) or [None]  # no rows: one empty row is shown
        for index, row in enumerate(rows):
            yield f"{name}.{index}"  # the row as a whole
            for child in f.children:
                yield from _places(child, f"{name}.{index}.{child.key}", row.get(child.key) if isinstance(row, dict) else None)
    elif f.kind == "strings":
        items = _list_of(value)
        for index in range(len(items) + max(f.min_items - len(items), 1)):  # as many boxes as the page shows
            yield f"{name}.{index}"
    elif f.kind == "persons":  # each chosen person's refusal is shown under the list
        for index in range(len(_list_of(value))):
            yield f"{name}.{index}"


def error_places(fields: tuple[Field, ...], values: dict[str, Any] | None, errors: dict[str, str],
                 *, extra: tuple[str, ...] = ("pin",)) -> tuple[list[str], list[str]]:
    """(the errors marked at a field of the page, the others): the page's banner counts the first and states the
    second (an error of the form as a whole, or at a field the form does not show)."""
    shown = set(extra)
    for f in fields:
        shown.update(_places(f, f.key, (values or {}).get(f.key)))
    marked = [key for key in errors if key in shown]
    return marked, [key for key in errors if key not in shown]


def display_value(f: Field, value: Any) -> str:
    """A stored value as a reader sees it: enum titles instead of codes, 是/否 for booleans."""
    if value is None or value == "":
        return "—"
    if f.kind == "enum":
        return next((label for v, label in f.options if v == value), str(value))
    if f.kind == "multienum" and isinstance(value, list):
        separator = ", " if page_language() == "en" else "、"
        return separator.join(next((label for v, label in f.options if v == item), str(item)) for item in value)
    if f.kind == "boolean":
        return "是" if value else "否"
    if f.kind == "png":
        return "（手写签名）" if page_language() != "en" else "(drawn signature)"
    if f.kind == "datetime" and isinstance(value, str) and DATETIME_ISO.match(value):
        return _local(value)
    if isinstance(value, list):
        return ("; " if page_language() == "en" else "；").join(str(v) for v in value)
    return str(value)
