"""What a form value must be beyond JSON Schema's own keywords, as pure checks the form validator applies.

Formats (the schema's `format`, checked by engine/usecases/forms.py with jsonschema's FormatChecker):
- `cn-uscc`: 统一社会信用代码, 18 characters with the check digit of GB 32100-2015 (python-stdnum `cn.uscc`);
- `cn-ric`: 居民身份证号码, 18 characters: birth date, administrative division and the ISO 7064 MOD 11-2 check
  digit of GB 11643-1999 (python-stdnum `cn.ric`);
- `cn-phone`: a mainland mobile number (11 digits from 13–19, optionally +86) or a landline with its area code
  (0 + 2–3 digits, a 7–8 digit number, optionally an extension).

Keywords:
- `x-not-future: true` on a `date` or `date-time` string: the moment of a past event (登记时间, 检查时间, 送达时间…)
  is not after now, give or take settings.json `forms.clock_tolerance_minutes`; a date not after today in the
  agency's zone;
- `x-article: "<article>"` beside `required` (a `then` of an `if`): a missing field's error names the article;
- `x-person: {"role": …}` on a string or an array of strings: the value names people by login id, each of whom
  must be eligible for one of the roles (engine/rules/people.py; checked against the users by
  engine/usecases/people.py); `"stand_aside": false` when the model's 回避 rules do not apply (a reminder);
- `x-agency: true` on a string: the value is an agency code of the platform, picked from those the jurisdiction
  rules let receive the case (engine/usecases/handover.py, a hand-over step's receiving agency);
- `multipleOf` is computed in decimal, not in binary floating point: 19.99 is a multiple of 0.01 (in floats
  19.99 / 0.01 = 1998.9999999999998, and jsonschema refuses it), 0.1 + 0.2 = 0.30000000000000004 is not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc

from engine.roles import all_roles
from engine.rules.people import PERSON_KEYWORD, person_roles

NOT_FUTURE = "x-not-future"
AGENCY = "x-agency"
ARTICLE = "x-article"  # beside `required`: the article that requires it (the error names it)
MOMENT_FORMATS = ("date", "date-time")

_MOBILE = re.compile(r"(?:(?:\+86|0086)[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}")
_LANDLINE = re.compile(r"(?:\(0\d{2,3}\)|0\d{2,3}[- ]?)[2-9]\d{6,7}(?:(?:-|转|ext\.?)\d{1,6})?")


def is_uscc(value: object) -> bool:
    """统一社会信用代码 with a correct GB 32100-2015 check digit (letters in either case)."""
    return not isinstance(value, str) or (len(value) == 18 and uscc.is_valid(value))


def is_ric(value: object) -> bool:
    """居民身份证号码 (18 characters) with a real birth date, division and GB 11643-1999 check digit."""
    return not isinstance(value, str) or (len(value) == 18 and ric.is_valid(value))


def is_phone(value: object) -> bool:
    """A mainland mobile number, or a landline number with its area code."""
    return not isinstance(value, str) or bool(_MOBILE.fullmatch(value) or _LANDLINE.fullmatch(value))


# Format name -> check; a non-string passes (the schema's `type` says what is wrong with it).
FORMATS: Mapping[str, Callable[[object], bool]] = {"cn-uscc": is_uscc, "cn-ric": is_ric, "cn-phone": is_phone}


def _decimal(number: int | float) -> Decimal:
    return Decimal(str(number))  # the shortest text of a float: the number as it was written in the JSON


def is_multiple(value: int | float, step: int | float) -> bool:
    """`value` an exact multiple of `step`, as written in decimal: 19.99 of 0.01 yes, 0.005 of 0.01 no."""
    try:
        return _decimal(value) % _decimal(step) == 0
    except InvalidOperation:  # infinity, NaN
        return False


def is_future(value: object, fmt: str | None, *, now: dt.datetime, zone: ZoneInfo, tolerance: dt.timedelta) -> bool:
    """A `date` after today in `zone`, or a `date-time` later than `now` by more than `tolerance` (a date-time
    without an offset is the agency's local time). What is not a date or date-time at all is `format`'s to refuse."""
    if not isinstance(value, str) or fmt not in MOMENT_FORMATS:
        return False
    try:
        if fmt == "date":
            return dt.date.fromisoformat(value) > now.astimezone(zone).date()
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment > now + tolerance


def _schemas(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every sub-schema of a form schema with its JSON pointer."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key not in ("enum", "const", "default", "examples", "required"):
                yield from _schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas(value, f"{path}/{index}")


def check_form_keywords(schema: Mapping[str, Any]) -> None:
    """Refuse (ValueError) a form schema whose use of our keywords cannot mean anything: `x-not-future` not
    `true` or on something other than a date or date-time string, a `cn-` format we do not know."""
    for path, node in _schemas(schema, ""):
        fmt = node.get("format")
        if isinstance(fmt, str) and fmt.startswith("cn-") and fmt not in FORMATS:
            raise ValueError(f"{path or '/'}: 未知的格式 (unknown format) {fmt!r}; 可用 (known): {', '.join(FORMATS)}")
        if ARTICLE in node and not (isinstance(node[ARTICLE], str) and node[ARTICLE] and node.get("required")):
            raise ValueError(f"{path or '/'}: {ARTICLE} 须为条文，且与 required 同用 (must be an article, beside required)")
        if PERSON_KEYWORD in node:
            _check_person_keyword(path or "/", node)
        if AGENCY in node and (node[AGENCY] is not True or node.get("type") != "string"):
            raise ValueError(f"{path or '/'}: {AGENCY} 只能为 true，且只用于字符串字段 (must be true, on a string)")
        if NOT_FUTURE in node and (node[NOT_FUTURE] is not True or fmt not in MOMENT_FORMATS):
            raise ValueError(f"{path or '/'}: {NOT_FUTURE} 只能为 true，且只用于 date / date-time 字段 "
                             f"(must be true, on a date or date-time string)")


def _check_person_keyword(path: str, node: Mapping[str, Any]) -> None:
    """`x-person` names known roles, on a string or an array of strings (its items' keyword is the array's)."""
    spec = node[PERSON_KEYWORD]
    roles = person_roles(spec)
    unknown = sorted(roles - set(all_roles()))
    items = node.get("items") if isinstance(node.get("items"), dict) else {}
    on_strings = node.get("type") == "string" or (node.get("type") == "array" and items.get("type") == "string")
    if not isinstance(spec, dict) or not roles or unknown or not on_strings or set(spec) - {"role", "stand_aside"} \
            or not isinstance(spec.get("stand_aside", True), bool):
        raise ValueError(f"{path}: {PERSON_KEYWORD} 须为 {{\"role\": 已知角色或其列表}}，用于字符串或字符串数组字段 "
                         f"(must be {{\"role\": a known role or a list of them}} on a string or an array of strings)"
                         + (f"; 未知角色 (unknown roles): {', '.join(unknown)}" if unknown else ""))
