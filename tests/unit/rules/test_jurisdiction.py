"""管辖 as rules in data (settings.json `jurisdiction`): who may receive a case handed over, each refusal with its
article — pure, no database."""

from __future__ import annotations

import pytest

from engine.rules.form_checks import check_form_keywords
from engine.rules.jurisdiction import AgencyFacts, parse_rules, refusal, territory
from engine.rules.settings import load_settings

TREE = {a.code: a for a in (
    AgencyFacts("prov", "示例省卫生健康委员会", "province", None),
    AgencyFacts("cz", "呈州市卫生健康委员会", "city", "prov"),
    AgencyFacts("hp", "和平区卫生健康局", "county", "cz", ("和平路", "和平区")),
    AgencyFacts("dq", "东区卫生健康局", "county", "cz", ("东风路",)),
    AgencyFacts("xz", "新镇卫生监督所", "station", "hp", ("新镇",)),
    AgencyFacts("old", "已撤销机构", "county", "cz", ("旧城",), active=False),
)}
RULES = parse_rules(load_settings().raw)
AT_HEPING = {"respondent": {"address": "呈州市和平路8号"}}


def _why(sender: str, receiver: str, data=AT_HEPING, arrived: str | None = None) -> str | None:
    found = refusal(RULES, sender=sender, receiver=receiver, tree=TREE, case_data=data, arrived_from=arrived)
    return None if found is None else found.rule


def test_an_agency_whose_territory_holds_the_place_receives_it() -> None:
    assert _why("cz", "hp") is None
    # a city covers its districts, an abolished one's streets too (they stay the city's)
    assert territory("cz", TREE) == {"和平路", "和平区", "东风路", "新镇", "旧城"}
    assert _why("dq", "cz") is None


@pytest.mark.parametrize(("sender", "receiver", "rule"), [
    ("cz", "cz", "another_agency"),
    ("cz", "xz", "level"),  # a 派出 unit is below 县级 (第二十二条)
    ("cz", "dq", "territorial"),  # 和平路 is not 东区's
    ("cz", "old", "unknown_agency"),
    ("cz", "nowhere", "unknown_agency"),
])
def test_a_receiver_without_jurisdiction_is_refused_by_the_rule_it_breaks(sender, receiver, rule) -> None:
    assert _why(sender, receiver) == rule


def test_a_case_received_by_transfer_goes_on_only_to_a_common_superior() -> None:
    """第二十五条 指定管辖: hp received it from dq; it may go to cz (above both), not to a sibling or below."""
    assert _why("hp", "dq", {"respondent": {"address": "东风路1号"}}, arrived="dq") == "no_retransfer"
    assert _why("hp", "cz", arrived="dq") is None
    refused = refusal(RULES, sender="hp", receiver="dq", tree=TREE, case_data={}, arrived_from="dq")
    assert refused is not None and "第二十五条" in refused.article and refused.message_en


def test_a_rule_with_an_unknown_check_is_refused_when_the_settings_are_read() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        parse_rules({"jurisdiction": {"rules": [{"id": "x", "check": "nearby", "article": "a", "message": "m"}]}})


def test_an_agency_field_is_a_string_marked_true() -> None:
    check_form_keywords({"type": "string", "x-agency": True})
    with pytest.raises(ValueError, match="x-agency"):
        check_form_keywords({"type": "array", "x-agency": True})
