"""Who may be chosen for a person field (engine/rules/people.py): pure rules, no database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine.rules.people import (
    PeoplePolicy,
    Person,
    PersonField,
    certificate_problems,
    person_fields,
    refusal,
)
from engine.rules.settings import load_settings

FORMS = Path(__file__).resolve().parents[3] / "workflows" / "forms"
DAY = dt.date(2026, 11, 2)
POLICY = load_settings().people
OFFICERS = PersonField("case_officers", frozenset({"officer"}), True, "承办人", "Case officers")
RECORDER = PersonField("recorder", frozenset({"panel", "legal"}), False, "记录人", "Recorder")


def _officer(until: dt.date | None = dt.date(2031, 6, 30), cert_no: str | None = "呈卫执 2023-0101", **kw) -> Person:
    return Person(id=kw.pop("id", "officer1"), name="王承办", unit="公共场所卫生监督科", cert_no=cert_no,
                  cert_valid_until=until, roles=frozenset(kw.pop("roles", {"officer"})), active=kw.pop("active", True))


def test_a_certificate_is_valid_up_to_and_including_its_last_day():
    assert _officer(until=DAY).certified_on(DAY)
    assert not _officer(until=DAY - dt.timedelta(days=1)).certified_on(DAY)
    assert _officer(until=None).certified_on(DAY)  # recorded without an end date
    assert not _officer(cert_no=None).certified_on(DAY)


def test_the_shipped_settings_require_the_certificate_of_officers_citing_article_42():
    assert POLICY.certified_roles == frozenset({"officer"}) and "第四十二条" in POLICY.article
    assert POLICY.needs_certificate({"officer"})
    assert not POLICY.needs_certificate({"panel", "legal"}) and not POLICY.needs_certificate({"officer", "legal"})
    assert not POLICY.needs_certificate(())


def test_a_lapsed_officer_is_refused_naming_the_field_the_day_and_the_article():
    why = refusal(_officer(until=dt.date(2026, 10, 31)), "officer1", OFFICERS, on=DAY, excluded=frozenset(),
                  policy=POLICY)
    assert why is not None
    assert "“承办人”" in why and "2026-10-31" in why and "第四十二条" in why and "“Case officers”" in why
    assert refusal(_officer(), "officer1", OFFICERS, on=DAY, excluded=frozenset(), policy=POLICY) is None


def test_unknown_inactive_wrong_role_and_barred_people_are_refused():
    assert "officer7" in (refusal(None, "officer7", OFFICERS, on=DAY, excluded=frozenset(), policy=POLICY) or "")
    assert refusal(_officer(active=False), "officer1", OFFICERS, on=DAY, excluded=frozenset(), policy=POLICY)
    clerk = _officer(id="clerk", roles={"intake"})
    assert "承办人" in (refusal(clerk, "clerk", OFFICERS, on=DAY, excluded=frozenset(), policy=POLICY) or "")
    barred = refusal(_officer(id="dual", roles={"panel"}), "dual", RECORDER, on=DAY, excluded=frozenset({"dual"}),
                     policy=POLICY)
    assert barred is not None and "回避" in barred


def test_a_recorder_need_not_hold_an_enforcement_certificate():
    panel = _officer(id="panel1", roles={"panel"}, cert_no=None)
    assert refusal(panel, "panel1", RECORDER, on=DAY, excluded=frozenset(), policy=POLICY) is None
    assert refusal(panel, "panel1", OFFICERS, on=DAY, excluded=frozenset(),
                   policy=PeoplePolicy(frozenset({"officer"}), "第四十二条", "", "")) is not None


def test_the_forms_mark_every_field_that_names_people():
    marked = {form.name.removesuffix(".schema.json"): {f.key for f in person_fields(json.loads(form.read_text()))}
              for form in sorted(FORMS.glob("*.schema.json"))}
    assert marked["acceptance_review"] == {"case_officers"}
    assert marked["appoint_panel"] == {"panel_members", "presiding_member", "recorder"}
    assert marked["schedule_hearing"] == {"hearing_chair", "hearing_clerk"}
    assert marked["onsite_inspection"] == {"inspectors"}
    # no form left with a login-id pattern that is not a picker
    for form in FORMS.glob("*.schema.json"):
        schema = json.loads(form.read_text())
        for key, sub in schema.get("properties", {}).items():
            pattern = (sub.get("items") or {}).get("pattern") or sub.get("pattern")
            if pattern == "^[A-Za-z0-9_.\\-]+$":
                assert key in marked[form.name.removesuffix(".schema.json")], f"{form.name} {key}"


@pytest.mark.parametrize(("cert_no", "until", "field"), [
    ("<script>", None, "cert_no"), ("x" * 41, None, "cert_no"), (None, dt.date(2031, 1, 1), "cert_valid_until"),
    ("  ", dt.date(2031, 1, 1), "cert_valid_until")])
def test_a_malformed_certificate_is_refused_by_field(cert_no, until, field):
    assert set(certificate_problems(cert_no, until)) == {field}


def test_a_plausible_certificate_is_accepted():
    assert certificate_problems("浙卫执（2023）3301-0047", dt.date(2031, 1, 1)) == {}
    assert certificate_problems(None, None) == {}
