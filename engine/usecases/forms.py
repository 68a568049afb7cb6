"""Form data is validated against the task's JSON Schema before anything is written.

Besides JSON Schema 2020-12: the formats and the `x-not-future` keyword of engine/rules/form_checks.py, checked
against the use case's clock, and `multipleOf` in decimal. Each error is worded once here, per validator
keyword, "中文 (English)" like every message of the engine; the web shows the half in the page's language.
Two keywords of the model's own besides:
- `"contentMediaType": "image/png"` on a string: the value is a data URL of a real PNG within the settings'
  bounds (`Settings.drawn_images`; engine/rules/drawn_images.py) — the party's signature drawn on the screen;
  with `"x-drawn-file": true` beside it, the value may also be the reference to that image stored as a file (what
  the record keeps: engine/usecases/drawn_images.py);
- `"x-later-than": {"a": "b"}` on an object: its date-time `a` must be later than its date-time `b` (an
  inspection ends after it starts).
A `then` that carries `"x-article"` beside its `required` names that article in a missing field's error (the reason
法制审核 owes for approving an item it did not confirm: 《行政处罚法》第五十八条).
A `readOnly` field is never submitted: the case's (the 文号 of a 文书 served) or the engine's own (the step's 文号,
`x-document-number`, engine/rules/carry.py); one in the data is refused.
A `oneOf` whose choices are told apart by a `const` (a drawn signature, or 拒绝签名) reports the errors of the
choice the data made, field by field, rather than "not valid under any of the given schemas".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError as SchemaError

from engine.errors import ValidationError
from engine.rules.carry import read_only_fields
from engine.rules.drawn_images import (
    DRAWN_FILE,
    PNG_MEDIA_TYPE,
    DrawnImageError,
    png_from_data_url,
    reference_problem,
)
from engine.rules.form_checks import ARTICLE, FORMATS, NOT_FUTURE, is_future, is_multiple
from engine.rules.settings import Settings

FORMAT_CHECKER = FormatChecker()
for _name, _check in FORMATS.items():
    FORMAT_CHECKER.checks(_name)(_check)

REQUIRED = "必填 (required)"
# What a value of a `format` must be: (中文, English).
FORMAT_RULES: dict[str, tuple[str, str]] = {
    "date-time": ("日期或时间格式不正确", "Not a valid date and time"),
    "date": ("日期格式不正确", "Not a valid date"),
    "uri": ("须为完整网址，如 https://…", "Must be a full web address, such as https://…"),
    "cn-uscc": ("统一社会信用代码不正确：18 位，末位校验码须符合 GB 32100-2015",
                "Not a valid unified social credit code: 18 characters ending in the check digit of GB 32100-2015"),
    "cn-ric": ("居民身份证号码不正确：18 位，出生日期、地址码和末位校验码须符合 GB 11643-1999",
               "Not a valid resident identity card number: 18 characters whose birth date, division code and "
               "check digit follow GB 11643-1999"),
    "cn-phone": ("电话号码不正确：手机号码 11 位，固定电话须带区号",
                 "Not a valid telephone number: an 11-digit mobile number, or a landline number with its area code"),
}
FORMAT_NAMES = {"cn-uscc": ("统一社会信用代码", "unified social credit code"),
                "cn-ric": ("居民身份证号码", "resident identity card number"),
                "cn-phone": ("电话号码", "telephone number")}
TYPES = {"string": ("文字", "text"), "number": ("数字", "a number"), "integer": ("整数", "a whole number"),
         "boolean": ("是或否", "yes or no"), "array": ("列表", "a list"), "object": ("一组字段", "a group of fields")}


def _bilingual(chinese: str, english: str) -> str:
    return f"{chinese} ({english})"


def _decimals(step: Any) -> int | None:
    """0.01 -> 2, 1 -> 0; None when the step is not a power of ten."""
    exponent = Decimal(str(step)).normalize().as_tuple()
    return -int(exponent.exponent) if exponent.digits == (1,) and isinstance(exponent.exponent, int) else None


def _format_message(fmt: Any) -> str:
    return _bilingual(*FORMAT_RULES.get(str(fmt), ("格式不正确", "Not in the required format")))


def _alternatives_message(err: SchemaError) -> str:
    """anyOf / oneOf of our formats (a citizen's credit_code: 身份证号 or 统一社会信用代码): the formats' names."""
    names = [FORMAT_NAMES.get(str(e.validator_value)) if e.validator == "format" else None for e in err.context or ()]
    if names and all(names):
        chinese = "或".join(n[0] for n in names if n)
        english = " or ".join(n[1] for n in names if n)
        return _bilingual(f"不是有效的{chinese}（请核对校验位）", f"Not a valid {english}: check the check digit")
    return _bilingual("不符合任何一种可选的形式", "Matches none of the allowed forms")


def _length_message(keyword: str, n: Any) -> str:
    if keyword == "minLength":
        return _bilingual("不能为空", "Must not be empty") if n == 1 else _bilingual(f"至少 {n} 个字符", f"At least {n} characters")
    if keyword == "maxLength":
        return _bilingual(f"不超过 {n} 个字符", f"At most {n} characters")
    if keyword == "minItems":
        return _bilingual(f"至少 {n} 项", f"At least {n} items")
    return _bilingual(f"不超过 {n} 项", f"At most {n} items")


def _multiple_message(step: Any) -> str:
    decimals = _decimals(step)
    if decimals == 0:
        return _bilingual("须为整数", "Must be a whole number")
    if decimals is not None and decimals > 0:
        return _bilingual(f"最多 {decimals} 位小数", f"At most {decimals} decimal places")
    return _bilingual(f"须为 {step} 的整数倍", f"Must be a multiple of {step}")


_BOUNDS = {"minimum": ("不小于 {n}", "At least {n}"), "maximum": ("不大于 {n}", "At most {n}"),
           "exclusiveMinimum": ("须大于 {n}", "Must be more than {n}"),
           "exclusiveMaximum": ("须小于 {n}", "Must be less than {n}")}
_FIXED = {"enum": ("请从选项中选择", "Choose one of the options"), "const": ("请从选项中选择", "Choose one of the options"),
          "pattern": ("格式不正确", "Not in the required format"),
          "uniqueItems": ("各项不得重复", "Items must not repeat"),
          NOT_FUTURE: ("不能晚于当前时间（所记录的事已经发生）", "Cannot be later than now: it records something that has happened")}


OWN_WORDING = ("contentMediaType", DRAWN_FILE, "x-later-than")


def message_for(err: SchemaError) -> str:
    """The message of one jsonschema error, by its validator keyword, without the value it quotes back (a
    complainant's phone number has no place in an error message)."""
    keyword, value = str(err.validator), err.validator_value
    if keyword in ("minLength", "maxLength", "minItems", "maxItems"):
        return _length_message(keyword, value)
    if keyword in _BOUNDS:
        chinese, english = _BOUNDS[keyword]
        return _bilingual(chinese.format(n=value), english.format(n=value))
    if keyword == "multipleOf":
        return _multiple_message(value)
    if keyword == "format":
        return _format_message(value)
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        wanted = [TYPES[k] for k in kinds if k in TYPES and k != "null"] or [("其他类型", "another type")]
        return _bilingual("须为" + "或".join(z for z, _ in wanted), "Must be " + " or ".join(e for _, e in wanted))
    if keyword in OWN_WORDING:  # our own keywords word their errors themselves, in both languages
        return str(err.message)
    if keyword in ("anyOf", "oneOf"):
        return _alternatives_message(err)
    if keyword in _FIXED:
        return _bilingual(*_FIXED[keyword])
    return _bilingual("不符合表单要求", "Does not meet the form's rules")


class _Checking:
    """What the form's own keywords compare with while one form is checked: the use case's clock and settings.
    The validator class is built once (jsonschema's `extend` makes a new class: most of a check's cost), so its
    keywords read these from a context variable set around the check instead of closing over them."""

    def __init__(self, now: dt.datetime, settings: Settings) -> None:
        self.now, self.settings = now, settings


_CHECKING: ContextVar[_Checking] = ContextVar("form_checking")


def _not_future(validator: Any, enabled: Any, instance: Any, node: dict[str, Any]) -> Iterator[SchemaError]:
    at = _CHECKING.get()
    if enabled is True and is_future(instance, node.get("format"), now=at.now, zone=at.settings.zone,
                                     tolerance=at.settings.form_clock_tolerance):
        yield SchemaError(f"{instance!r} is in the future")


def _multiple_of(validator: Any, step: Any, instance: Any, node: dict[str, Any]) -> Iterator[SchemaError]:
    if validator.is_type(instance, "number") and not is_multiple(instance, step):
        yield SchemaError(f"{instance!r} is not a multiple of {step}")


def _content_media_type(_v: Any, media_type: Any, instance: Any, _node: Any) -> Iterator[SchemaError]:
    if media_type != PNG_MEDIA_TYPE or not isinstance(instance, str):
        return
    try:
        png_from_data_url(instance, _CHECKING.get().settings.drawn_images)
    except DrawnImageError as exc:
        yield SchemaError(str(exc))


def _drawn_file(_v: Any, enabled: Any, instance: Any, _node: Any) -> Iterator[SchemaError]:
    if enabled is True and (problem := reference_problem(instance)) is not None:
        yield SchemaError(problem)


def _later_than(_v: Any, pairs: Any, instance: Any, node: dict[str, Any]) -> Iterator[SchemaError]:
    if not isinstance(instance, dict) or not isinstance(pairs, dict):
        return
    for later, earlier in pairs.items():
        end, start = _moment(instance.get(later)), _moment(instance.get(str(earlier)))
        if end is None or start is None or end > start:
            continue
        titles = node.get("properties", {})
        name = titles.get(str(earlier), {}).get("title", earlier)
        name_en = titles.get(str(earlier), {}).get("x-title-en", earlier)
        yield SchemaError(f"须晚于“{name}” (must be later than “{name_en}”)", path=[later])


# A 2020-12 validator with our formats, `x-not-future` against the check's `now`, and `multipleOf` in decimal.
_FORM_VALIDATOR = validators.extend(Draft202012Validator, {
    NOT_FUTURE: _not_future, "multipleOf": _multiple_of, "contentMediaType": _content_media_type,
    DRAWN_FILE: _drawn_file, "x-later-than": _later_than})


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None  # format: date-time already refuses a naive one


def _chosen(err: SchemaError) -> list[SchemaError]:
    """A `oneOf`/`anyOf` error as the errors of the choice the data meant: the choices whose `const` matched (a
    choice refused on its `const` is another kind of value), the one with the fewest errors. Else the error."""
    if err.validator not in ("oneOf", "anyOf") or not err.context:
        return [err]
    by_choice: dict[int, list[SchemaError]] = {}
    for sub in err.context:
        by_choice.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    told_apart = [any(s.validator == "const" for s in subs) for subs in by_choice.values()]
    if not any(told_apart):  # alternatives of one value (identity card or credit code): said as a whole
        return [err]
    meant = [subs for subs, other in zip(by_choice.values(), told_apart, strict=True) if not other]
    if not meant:
        return [err]
    return [leaf for sub in min(meant, key=len) for leaf in _chosen(sub)]


def _path(err: SchemaError) -> str:
    return "/".join(str(p) for p in err.absolute_path)


def _required(node: Any) -> str:
    """必填, and the article that makes it so when the (sub)schema requiring it names one (`x-article`: a `then` of
    an `if` that a law attaches to a choice, such as the reason 法制审核 owes for approving an unconfirmed item)."""
    article = node.get(ARTICLE) if isinstance(node, dict) else None
    return _bilingual(f"必填（依据：{article}）", f"required by {article}") if isinstance(article, str) and article else REQUIRED


READ_ONLY = "由系统填写，不能提交 (filled in by the system: it cannot be submitted)"


def form_errors(schema: dict[str, Any], data: Any, *, now: dt.datetime, settings: Settings) -> dict[str, str]:
    """Each wrong field's path (`photos/0/sha256`; `(form)` for the form as a whole) and what is wrong with it."""
    # A readOnly field is the case's (a served 文书's 文号) or the engine's own (the step's 文号): never typed.
    errors: dict[str, str] = {key: READ_ONLY for key in sorted(read_only_fields(schema))
                              if isinstance(data, dict) and key in data}
    checking = _CHECKING.set(_Checking(now, settings))
    try:  # the errors are found while iterating: the context stays set until all are
        found = sorted((leaf for e in _FORM_VALIDATOR(schema, format_checker=FORMAT_CHECKER).iter_errors(data)
                        for leaf in _chosen(e)), key=lambda e: [str(p) for p in e.absolute_path])
    finally:
        _CHECKING.reset(checking)
    for err in found:
        path = _path(err)
        if err.validator == "required":
            for missing in err.validator_value:
                if isinstance(err.instance, dict) and missing not in err.instance:
                    errors.setdefault(f"{path}/{missing}" if path else missing, _required(err.schema))
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            extra = sorted(set(err.instance) - set(err.schema.get("properties") or {}))
            errors.setdefault(path or "(form)", f"不允许的字段 (unexpected field): {', '.join(extra)}")
        else:
            errors.setdefault(path or "(form)", message_for(err))
    return errors


def validate_form(schema: dict[str, Any] | None, data: Any, *, title: str, now: dt.datetime,
                  settings: Settings) -> dict[str, Any]:
    """`data` if it is valid for the step's form `schema` at `now` (the use case's clock), else ValidationError."""
    if not isinstance(data, dict):
        raise ValidationError(f"{title}: 表单数据必须是 JSON 对象 (form data must be a JSON object)")
    if schema is None:
        return data
    errors = form_errors(schema, data, now=now, settings=settings)
    if errors:
        raise ValidationError(f"{title}: 表单数据有误 (invalid form data)", errors)
    return data
