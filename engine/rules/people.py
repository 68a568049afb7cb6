"""Who may be chosen for a person field of a form (承办人, 合议人员, 主持人, 听证主持人…): pure rules, no I/O.

A form field naming people carries `"x-person": {"role": "panel"}` (or a list of roles): its value is a login id
(a list of them for an array), and it must be someone eligible — an active user holding one of the roles, not
barred from the case by the model's separation of duties (回避), and, for the roles settings.json
`people.certified_roles` names, holding an 执法证 valid on the day (行政处罚法 第四十二条: 行政处罚应当由具有行政执法
资格的执法人员实施). The words of the refusal and the article come from the settings, not from here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import ConfigurationError
from engine.roles import all_roles

PERSON_KEYWORD = "x-person"


@dataclass(frozen=True)
class Person:
    """Someone who may be picked: login id, name, unit, 执法证号 and the last day it is valid."""

    id: str
    name: str
    unit: str
    cert_no: str | None
    cert_valid_until: dt.date | None
    roles: frozenset[str] = frozenset()
    active: bool = True
    agency: str = ""  # the agency they work for: they are chosen only for its cases

    def certified_on(self, day: dt.date) -> bool:
        """Holds an 执法证 valid on `day` (a certificate recorded without an end date has none)."""
        return bool(self.cert_no) and (self.cert_valid_until is None or day <= self.cert_valid_until)

    def label(self) -> str:
        """姓名 · 单位 · 执法证号 (有效期至 …), as a picker shows it."""
        parts = [self.name, self.unit] if self.unit else [self.name]
        if self.cert_no:
            until = f"（有效期至 {self.cert_valid_until.isoformat()}）" if self.cert_valid_until else ""
            parts.append(f"{self.cert_no}{until}")
        return " · ".join(parts)


@dataclass(frozen=True)
class PeoplePolicy:
    """settings.json `people`: the roles whose holders must be certified, and the law that says so."""

    certified_roles: frozenset[str]
    article: str
    message: str
    message_en: str

    def needs_certificate(self, roles: Iterable[str]) -> bool:
        """Whether a part taken by one of `roles` is an 执法人员's: every role of it needs the certificate (a
        记录员 who may be a panel member or an officer is not acting as an officer)."""
        wanted = frozenset(roles)
        return bool(wanted) and wanted <= self.certified_roles


def parse_people_policy(data: Mapping[str, Any]) -> PeoplePolicy:
    try:
        certified = data["certified_roles"]
        return PeoplePolicy(certified_roles=frozenset(str(r) for r in certified["value"]),
                            article=str(certified["article"]), message=str(certified["message"]),
                            message_en=str(certified["message_en"]))
    except (KeyError, TypeError) as exc:
        raise ConfigurationError(f"人员配置格式错误 (malformed settings: people): {exc!r}") from exc


@dataclass(frozen=True)
class PersonField:
    """A form field that names people: its path, the roles it takes, whether it takes several, its titles."""

    key: str
    roles: frozenset[str]
    many: bool
    title: str
    title_en: str


# 远程合议 across agencies (issue 16): a 合议 panel may include a member of the superior agency or an expert invited
# from another agency on the platform — the programme's 远程案件合议系统, each vote signed with the member's own
# certificate. Pickers scoped to the case's agency (need-to-know by agency) leave these fields unscoped.
CROSS_AGENCY_ROLES = frozenset({"panel"})


def invited_across_agencies(field: PersonField) -> bool:
    """Whether a person field may name people of any agency of the platform, not only the case's: a field every
    role of which is a 合议 member's (a 记录员 who may also be the legal reviewer stays with the case's agency)."""
    return roles_invited_across_agencies(field.roles)


def roles_invited_across_agencies(roles: frozenset[str]) -> bool:
    """`invited_across_agencies` for a part taken by one of `roles` (a picker's, a command's)."""
    return bool(roles) and roles <= CROSS_AGENCY_ROLES


def person_roles(spec: Any) -> frozenset[str]:
    """The roles of an `x-person` keyword: `{"role": "panel"}` or `{"role": ["panel", "officer"]}`."""
    role = spec.get("role") if isinstance(spec, dict) else None
    roles = [role] if isinstance(role, str) else role if isinstance(role, list) else []
    return frozenset(r for r in roles if isinstance(r, str) and r)


def person_fields(schema: Mapping[str, Any] | None) -> tuple[PersonField, ...]:
    """The top-level properties of a form schema that name people (x-person on a string, or on an array of
    strings: on the array or on its items)."""
    found = []
    for key, sub in ((schema or {}).get("properties") or {}).items():
        if not isinstance(sub, dict):
            continue
        items = sub.get("items") if isinstance(sub.get("items"), dict) else {}
        spec = sub.get(PERSON_KEYWORD) or items.get(PERSON_KEYWORD)
        if spec is None:
            continue
        found.append(PersonField(key=key, roles=person_roles(spec), many=sub.get("type") == "array",
                                 title=str(sub.get("title") or key), title_en=str(sub.get("x-title-en") or key)))
    return tuple(found)


def chosen_ids(value: Any) -> Iterator[tuple[str, str]]:
    """(error path suffix, login id) for each person a field's value names: "" for a single value, "/0"… in a list."""
    if isinstance(value, str):
        yield "", value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                yield f"/{index}", item


def refusal(person: Person | None, user_id: str, field: PersonField, *, on: dt.date, excluded: frozenset[str],
            policy: PeoplePolicy, agency: str | None = None) -> str | None:
    """Why `user_id` may not be chosen for `field` on day `on` (for a case of `agency`: only its own people,
    engine.rules.duties `refusal_to_act`), in words naming the field; None when they may."""
    title = f"“{field.title}”"
    title_en = f"“{field.title_en}”"
    if person is None or not person.active or not (person.roles & field.roles):
        labels = all_roles()
        zh = "或".join(labels.get(r, {}).get("zh", r) for r in sorted(field.roles))
        en = " or ".join(labels.get(r, {}).get("en", r) for r in sorted(field.roles))
        return (f"{title}：{user_id} 不是可选人员（须为在岗的{zh}） "
                f"({title_en}: {user_id} cannot be chosen: not an active {en})")
    if agency is not None and person.agency != agency and not invited_across_agencies(field):
        return (f"{title}：{person.name}（{person.id}）不属于办理本案的单位，不能选择 "
                f"({title_en}: {person.id} works for another agency than the one handling this case)")
    if person.id in excluded:
        return (f"{title}：{person.name}（{person.id}）参与了本案调查，应当回避，不得担任 "
                f"({title_en}: {person.id} took part in investigating this case and must stand aside)")
    if policy.needs_certificate(field.roles) and not person.certified_on(on):
        why = (f"执法证已于 {person.cert_valid_until.isoformat()} 到期" if person.cert_no and person.cert_valid_until
               else "未登记执法证")
        why_en = (f"enforcement certificate expired on {person.cert_valid_until.isoformat()}"
                  if person.cert_no and person.cert_valid_until else "no enforcement certificate recorded")
        return (f"{title}：{person.name}（{person.id}）{why}，{policy.message}（依据：{policy.article}） "
                f"({title_en}: {person.id}: {why_en}; {policy.message_en}, {policy.article})")
    return None


# 执法证号 as printed (e.g. 浙卫执 33010012, 3301-2026-0047): letters, digits, Chinese characters, brackets, -/ and spaces.
CERT_NO = re.compile(r"^[\w\u3400-\u9fff（）()〔〕\-/ ]{1,40}$")


def cert_no_or_none(value: str | None) -> str | None:
    """A 执法证号 as recorded: trimmed; None when empty (no certificate)."""
    return (value or "").strip() or None


def certificate_problems(cert_no: str | None, valid_until: dt.date | None) -> dict[str, str]:
    """What is wrong with a 执法证号 and its last valid day, by field ({} when they may be recorded)."""
    number = cert_no_or_none(cert_no)
    if number is not None and not CERT_NO.match(number):
        return {"cert_no": "执法证号为 1–40 个字母、数字、汉字、括号或 -/ (1–40 letters, digits, Chinese characters, "
                           "brackets or -/)"}
    if number is None and valid_until is not None:
        return {"cert_valid_until": "未填执法证号，不能填有效期 (a validity needs a certificate number)"}
    return {}
