"""What an agency may set (settings.json `agency_settings`) and how the tree's settings combine: pure rules."""

from __future__ import annotations

import dataclasses

import pytest

from engine.errors import ConfigurationError, ValidationError
from engine.rules.agency_overrides import apply_overrides, document_prefixes, setting_value
from engine.rules.agency_settings import check_override, inherited, parse_agency_settings
from engine.rules.settings import load_settings

SETTINGS = load_settings()
ALLOWED = SETTINGS.agency_settings
CITIZEN = "thresholds.hearing_large_fine_citizen"


def test_every_allowed_key_names_its_article_and_is_read_by_the_engine():
    assert set(ALLOWED) == {CITIZEN, "thresholds.hearing_large_fine_organisation", "legal_review.all_general_procedure",
                            "discretion.benchmark"}
    for key, spec in ALLOWED.items():
        assert "第" in spec.basis and spec.basis_en, key
        setting_value(SETTINGS, key)  # raises for a key the engine does not read


def test_a_key_the_engine_does_not_read_cannot_be_allowed():
    with pytest.raises(ConfigurationError):
        parse_agency_settings({"panel.size": {"type": "number", "basis": "x"}}, SETTINGS.thresholds)
    with pytest.raises(ConfigurationError):  # no basis
        parse_agency_settings({CITIZEN: {"type": "number"}}, SETTINGS.thresholds)


@pytest.mark.parametrize(("key", "raw", "value"), [
    (CITIZEN, "3000", 3000), (CITIZEN, " 2500.5 ", 2500.5), (CITIZEN, 4000, 4000),
    ("legal_review.all_general_procedure", "false", False), ("legal_review.all_general_procedure", "是", True),
    ("discretion.benchmark", " cz-xs-2026 ", "cz-xs-2026"),
])
def test_values_are_read_as_the_key_holds_them(key, raw, value):
    assert check_override(ALLOWED, key, raw) == value


@pytest.mark.parametrize(("key", "raw"), [(CITIZEN, "0"), (CITIZEN, "nan"), (CITIZEN, "inf"), (CITIZEN, True),
                                          ("legal_review.all_general_procedure", "2"), ("panel.size", "5"),
                                          ("discretion.benchmark", "西山 基准"), ("discretion.benchmark", 3)])
def test_what_the_law_does_not_let_an_agency_set_is_refused(key, raw):
    with pytest.raises(ValidationError) as refused:
        check_override(ALLOWED, key, raw)
    assert key in refused.value.errors


def test_the_nearest_agency_that_sets_a_key_wins_and_unknown_keys_are_dropped():
    chain = [{CITIZEN: 3000, "panel.size": 5}, {}, {CITIZEN: 5000, "document_numbers.case_transfer": "和卫移"}]
    assert inherited(chain, ALLOWED) == {CITIZEN: 5000}
    applied = apply_overrides(SETTINGS, {CITIZEN: 5000, "legal_review.all_general_procedure": False})
    assert applied.for_process()["thresholds"]["hearing_large_fine_citizen"] == 5000
    assert applied.legal_review_all_general is False
    assert apply_overrides(SETTINGS, {"discretion.benchmark": "cz-xs-2026"}).discretion.benchmark == "cz-xs-2026"
    assert SETTINGS.discretion.benchmark == "platform"
    assert SETTINGS.threshold("hearing_large_fine_citizen") == 2000  # the platform's stay as they were


def test_an_agency_numbers_with_its_own_short_name_and_penalty_prefix():
    district = dataclasses.replace(SETTINGS.agency, code="cz-hp", short="和卫", case_number_prefix="和卫投",
                                   penalty_number_prefix="和卫罚")
    prefixes = document_prefixes(SETTINGS, district, {"document_numbers.case_transfer": "和卫移送"})
    assert prefixes["penalty_prior_notice"] == "和卫罚告" and prefixes["no_penalty_decision"] == "和卫不罚"
    assert prefixes["penalty_decision"] == "和卫罚" and prefixes["case_transfer"] == "和卫移送"
    assert document_prefixes(SETTINGS, SETTINGS.agency, {}) == dict(SETTINGS.document_numbers)


def test_the_standing_wording_names_the_agency_s_own_review_body_and_court():
    from engine.rules.agency_overrides import agency_wording

    district = dataclasses.replace(SETTINGS.agency, code="cz-xs", review_agency="呈州市西山区人民政府",
                                   court="呈州市西山区人民法院")
    remedy = agency_wording(SETTINGS, district)["remedy"]["text"]
    assert "呈州市西山区人民政府申请行政复议" in remedy and "向呈州市西山区人民法院提起行政诉讼" in remedy
    assert "呈州市人民政府" not in remedy and "和平区" not in remedy
    assert agency_wording(SETTINGS, SETTINGS.agency) == SETTINGS.raw["wording"]
