"""管辖: which agency on the platform may receive a case handed over (转办/移送), as rules in data.

settings.json `jurisdiction.rules` lists the checks in order, each with its article; the first that fails
refuses the hand-over with it. What a rule reads is the agencies' own data (the agencies table: level, parent,
`settings.areas`, the place names of an agency's territory) and the case's:
- `not_self`: the receiving agency is another agency (行政处罚法 第二十二条: the case goes where jurisdiction is);
- `level`: the receiving agency's level is one of `levels` (第二十二条、第二十三条: 县级以上 — a 派出机构 does not);
- `area`: the place named by `field` of the case's data (the respondent's address) lies in the receiving
  agency's territory: one of its areas, or of the agencies below it, occurs in it (地域管辖, 违法行为发生地);
- `no_retransfer`: a case that arrived by transfer goes on only to a common superior of both agencies, which
  designates jurisdiction (第二十五条 指定管辖; the old 卫生行政处罚程序 第十条: the receiver may not transfer again).
Pure: no I/O; engine/usecases/handover.py reads the agencies and the case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

CHECKS = ("not_self", "level", "area", "no_retransfer")
# A hand-over goes to an agency with jurisdiction (第二十二条): one the platform does not have has none here.
UNKNOWN_ARTICLE = "《中华人民共和国行政处罚法》第二十二条"
UNKNOWN_ARTICLE_EN = "Administrative Penalty Law of the PRC, Art 22"


@dataclass(frozen=True)
class AgencyFacts:
    """What the rules read of an agency: its place in the tree and the place names of its territory."""

    code: str
    name: str
    level: str
    parent_code: str | None
    areas: tuple[str, ...] = ()
    active: bool = True


@dataclass(frozen=True)
class JurisdictionRule:
    id: str
    check: str
    article: str
    message: str
    article_en: str = ""
    message_en: str = ""
    levels: tuple[str, ...] = ()
    field: str = ""


@dataclass(frozen=True)
class Refusal:
    """A failed rule: its article and message (Chinese and English), as a legal gate states them."""

    rule: str
    article: str
    message: str
    article_en: str
    message_en: str


def parse_rules(raw: Mapping[str, Any]) -> tuple[JurisdictionRule, ...]:
    """The rules of settings.json `jurisdiction` (ValueError on an unknown check: a typo would check nothing)."""
    rules = []
    for item in (raw.get("jurisdiction") or {}).get("rules", ()):
        if item.get("check") not in CHECKS:
            raise ValueError(f"jurisdiction rule {item.get('id')!r}: unknown check {item.get('check')!r}")
        if item["check"] == "area" and not item.get("field"):
            raise ValueError(f"jurisdiction rule {item.get('id')!r}: an area check names the case's field")
        rules.append(JurisdictionRule(
            id=str(item["id"]), check=item["check"], article=item["article"], message=item["message"],
            article_en=item.get("article_en", ""), message_en=item.get("message_en", ""),
            levels=tuple(item.get("levels", ())), field=item.get("field", "")))
    return tuple(rules)


def ancestors(code: str | None, tree: Mapping[str, AgencyFacts]) -> list[str]:
    """The agency and those above it, nearest first (a loop in bad data ends the walk)."""
    out: list[str] = []
    while code is not None and code in tree and code not in out:
        out.append(code)
        code = tree[code].parent_code
    return out


def territory(code: str, tree: Mapping[str, AgencyFacts]) -> frozenset[str]:
    """The place names an agency covers: its own areas and those of every agency below it."""
    return frozenset(area for agency in tree.values() if code in ancestors(agency.code, tree) for area in agency.areas)


def field_value(data: Mapping[str, Any], dotted: str) -> str:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) else ""


def refusal(rules: Sequence[JurisdictionRule], *, sender: str, receiver: str, tree: Mapping[str, AgencyFacts],
            case_data: Mapping[str, Any], arrived_from: str | None) -> Refusal | None:
    """The first rule that refuses handing the case of agency `sender` to `receiver`, or None.
    `arrived_from`: the agency the case itself came from by transfer (None: registered here)."""
    target = tree.get(receiver)
    if target is None or not target.active:
        return Refusal("unknown_agency", UNKNOWN_ARTICLE, "接收机关不是平台上的在用机关", UNKNOWN_ARTICLE_EN,
                       "the receiving agency is not an active agency on the platform")
    for rule in rules:
        if not _passes(rule, sender, target, tree, case_data, arrived_from):
            return Refusal(rule.id, rule.article, rule.message, rule.article_en, rule.message_en)
    return None


def _passes(rule: JurisdictionRule, sender: str, target: AgencyFacts, tree: Mapping[str, AgencyFacts],
            case_data: Mapping[str, Any], arrived_from: str | None) -> bool:
    if rule.check == "not_self":
        return target.code != sender
    if rule.check == "level":
        return target.level in rule.levels
    if rule.check == "area":
        place = field_value(case_data, rule.field)
        return any(area and area in place for area in territory(target.code, tree))
    # no_retransfer: only to an agency above both the origin and this one (指定管辖)
    return arrived_from is None or (target.code in ancestors(sender, tree) and target.code in ancestors(arrived_from, tree))


__all__ = ["AgencyFacts", "JurisdictionRule", "Refusal", "ancestors", "parse_rules", "refusal", "territory"]
