"""The platform's agency tree (issue 16): administrators add and change agencies; a case is its agency's — its
number, the name and 文号 on its 文书 — and runs with the settings the law lets that agency (or the one above) set."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select, update

from engine.agencies import ancestors, case_settings, subtree_codes
from engine.db.admin_tables import AdminEventRow
from engine.db.document_tables import DocumentRow
from engine.db.tables import AgencyRow, CaseRow, CertificateRow, UserRow
from engine.demo import SCENARIOS, play
from engine.demo_users import DEMO_AGENCIES, cast_of
from engine.errors import ConfigurationError, Conflict, Forbidden, NotFound, ValidationError
from engine.keystore import AGENCY_SEALS_DIR
from engine.seed import seed_agencies
from engine.usecases.agencies import (
    add_agency,
    agency_detail,
    deactivate_agency,
    edit_agency,
    list_agencies,
    set_agency_setting,
)
from engine.usecases.cases import case_data
from engine.usecases.users import add_user
from engine.values import (
    AddAgency,
    AddUser,
    DeactivateAgency,
    EditAgency,
    SetAgencySetting,
    fixed_clock,
)
from tests.dbtemplates import Template, starting_point
from tests.integration.conftest import PLAY_START, READY, SETUP_TIME

CLOCK = fixed_clock(SETUP_TIME)
DISTRICTS = READY.then("two districts with their people", lambda svc: seed_agencies(svc, CLOCK))
HP_CASE = DISTRICTS.then("a 和平区 case", lambda svc: play(svc, SCENARIOS["penalty_waiver"], start=PLAY_START,
                                                         cast=cast_of(DEMO_AGENCIES[0])).case)


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, districts=DISTRICTS, hp_case=HP_CASE)


@pytest.fixture
def districts(ready_svc):
    return ready_svc


@pytest.fixture
def hp_case(ready_svc, template_result):
    return template_result


def _station(code: str = "cz-hp-ds", **changes) -> AddAgency:
    fields = {"code": code, "name": "和平区东山卫生监督所", "short": "和东卫", "parent_code": "cz-hp", "level": "station",
              "case_number_prefix": "和东卫投", "penalty_number_prefix": "和东卫罚", "by": "admin"}
    return AddAgency(**{**fields, **changes})


def _events(svc) -> int:
    with svc.uow.read() as session:
        return session.scalar(select(func.count()).select_from(AdminEventRow)) or 0


def test_the_tree_lists_depth_first_and_walks_down_and_up(districts) -> None:
    svc = districts
    add_agency(_station(), svc=svc, clock=CLOCK)
    listed = [(v.code, v.depth) for v in list_agencies(svc)]
    assert listed == [("cz", 0), ("cz-hp", 1), ("cz-hp-ds", 2), ("cz-xs", 1)]
    with svc.uow.read() as session:
        assert subtree_codes(session, "cz") == ["cz", "cz-hp", "cz-hp-ds", "cz-xs"]
        assert subtree_codes(session, "cz-hp") == ["cz-hp", "cz-hp-ds"]
        assert [a.code for a in ancestors(session, "cz-hp-ds")] == ["cz", "cz-hp"]
        assert ancestors(session, "cz") == []
        with pytest.raises(NotFound):
            ancestors(session, "nowhere")


@pytest.mark.parametrize(("changes", "field"), [
    ({"parent_code": "nowhere"}, "parent"),
    ({"level": "city"}, "level"),  # not below the county it sits under
    ({"level": "township"}, "level"),
    ({"code": "Bad Code"}, "code"),
    ({"name": " "}, "name"),
])
def test_an_invalid_agency_is_refused_with_the_field_and_nothing_written(districts, changes, field) -> None:
    before = _events(districts)
    with pytest.raises(ValidationError) as refused:
        add_agency(_station(**changes), svc=districts, clock=CLOCK)
    assert field in refused.value.errors
    assert _events(districts) == before
    assert [v.code for v in list_agencies(districts)] == ["cz", "cz-hp", "cz-xs"]


@pytest.mark.parametrize("changes", [
    {"code": "cz-xs"},  # the code is taken
    {"case_number_prefix": "西卫投"},  # another agency's case numbers
    {"penalty_number_prefix": "呈卫投"},  # crosses with the city's case numbers
    {"case_number_prefix": "西卫罚告"},  # another agency's 文号 (derived from its short)
    {"short": "西卫"},  # the 文号 would be 西山区's
])
def test_a_code_prefix_or_short_name_taken_on_the_platform_is_refused(districts, changes) -> None:
    before = _events(districts)
    with pytest.raises(Conflict):
        add_agency(_station(**changes), svc=districts, clock=CLOCK)
    assert _events(districts) == before


def _written(svc) -> tuple[int, int, list[str]]:
    """What adding an agency writes: admin events, certificate rows, files under the agency keys."""
    keys = svc.agency_keys.directory
    with svc.uow.read() as session:
        certificates = session.scalar(select(func.count()).select_from(CertificateRow)) or 0
    return _events(svc), certificates, sorted(str(p.relative_to(keys)) for p in keys.rglob("*"))


def test_a_seal_that_cannot_be_written_adds_no_agency_and_leaves_no_key_file(ready_svc) -> None:
    """The agency row, its journal entry and its seal's certificate commit together after the key is written
    aside; a key store that cannot take the seal (a file where the seals' directory goes: as root, a read-only
    mode would not stop the write) leaves nothing behind."""
    svc = ready_svc
    seals = svc.agency_keys.directory / AGENCY_SEALS_DIR
    assert not seals.exists()  # the home agency seals with the root's seal: no agency seal yet
    seals.write_text("")
    before = _written(svc)
    district = _station(code="cz-hp", name="呈州市和平区卫生健康局", short="和卫", parent_code="cz", level="county",
                        case_number_prefix="和卫投", penalty_number_prefix="和卫罚")
    with pytest.raises(ConfigurationError, match="cz-hp"):
        add_agency(district, svc=svc, clock=CLOCK)
    assert _written(svc) == before
    assert [v.code for v in list_agencies(svc)] == ["cz"]
    seals.unlink()
    add_agency(district, svc=svc, clock=CLOCK)  # the same agency, once the seal can be written
    events, certificates, files = _written(svc)
    assert (events, certificates) == (before[0] + 1, before[1] + 1)
    assert [f for f in files if f.startswith(AGENCY_SEALS_DIR)] == [
        AGENCY_SEALS_DIR, f"{AGENCY_SEALS_DIR}/cz-hp", f"{AGENCY_SEALS_DIR}/cz-hp/seal.cert.pem",
        f"{AGENCY_SEALS_DIR}/cz-hp/seal.key.wrapped"]
    assert svc.agency_keys.agency_seal_signer("cz-hp") is not None


def test_only_an_administrator_manages_agencies_and_each_change_is_journalled(districts) -> None:
    with pytest.raises(Forbidden):
        add_agency(_station(by="head"), svc=districts, clock=CLOCK)
    add_agency(_station(), svc=districts, clock=CLOCK)
    edited = edit_agency(EditAgency(code="cz-hp-ds", by="admin", name="和平区东山卫生健康监督所"), svc=districts,
                         clock=CLOCK)
    assert edited.name == "和平区东山卫生健康监督所"
    with pytest.raises(Conflict):  # the 简称 of 西山区
        edit_agency(EditAgency(code="cz-hp-ds", by="admin", short="西卫"), svc=districts, clock=CLOCK)
    with districts.uow.read() as session:
        events = session.execute(select(AdminEventRow.kind, AdminEventRow.actor, AdminEventRow.detail)
                                 .where(AdminEventRow.subject == "cz-hp-ds").order_by(AdminEventRow.id)).all()
    assert [(k, a) for k, a, _ in events] == [("agency_added", "admin"), ("agency_edited", "admin")]
    assert events[1].detail["before"] == {"name": "和平区东山卫生监督所"}


def test_an_agency_with_active_people_or_agencies_is_not_retired(districts) -> None:
    with pytest.raises(Conflict, match="hp."):
        deactivate_agency(DeactivateAgency(code="cz-hp", by="admin", reason="合并"), svc=districts, clock=CLOCK)
    with pytest.raises(Conflict):
        deactivate_agency(DeactivateAgency(code="cz", by="admin", reason="x"), svc=districts, clock=CLOCK)
    add_agency(_station(), svc=districts, clock=CLOCK)
    retired = deactivate_agency(DeactivateAgency(code="cz-hp-ds", by="admin", reason="撤并"), svc=districts,
                                clock=CLOCK)
    assert not retired.active
    with pytest.raises(ValidationError):  # nobody is put in a retired agency, nothing is added below it
        add_user(AddUser(user_id="late", name="迟到", password="a-long-pass-phrase-2026", roles=["officer"],
                         agency_code="cz-hp-ds"), svc=districts, clock=CLOCK)
    with pytest.raises(ValidationError):
        add_agency(_station("cz-hp-ds2", parent_code="cz-hp-ds", short="和东二", case_number_prefix="和东二投",
                            penalty_number_prefix="和东二罚", level="station"), svc=districts, clock=CLOCK)


def test_a_user_is_put_in_an_existing_agency_else_the_home_agency(districts) -> None:
    with districts.uow.read() as session:
        assert session.get(UserRow, "hp.officer1").agency_code == "cz-hp"
        assert session.get(UserRow, "officer1").agency_code == "cz"
    with pytest.raises(ValidationError) as refused:
        add_user(AddUser(user_id="nobody", name="无", password="a-long-pass-phrase-2026", roles=["officer"],
                         agency_code="nowhere"), svc=districts, clock=CLOCK)
    assert "agency" in refused.value.errors


def test_what_the_law_lets_an_agency_set_is_inherited_down_the_tree(districts) -> None:
    svc = districts
    add_agency(_station(), svc=svc, clock=CLOCK)
    key = "thresholds.hearing_large_fine_organisation"
    set_agency_setting(SetAgencySetting(code="cz", key=key, value="30000", by="admin"), svc=svc, clock=CLOCK)
    set_agency_setting(SetAgencySetting(code="cz-hp", key=key, value="50000", by="admin"), svc=svc, clock=CLOCK)
    set_agency_setting(SetAgencySetting(code="cz-hp", key="legal_review.all_general_procedure", value="false",
                                        by="admin"), svc=svc, clock=CLOCK)
    assert agency_detail(svc, "cz-hp-ds").effective[key] == 50000  # the nearest above it
    assert agency_detail(svc, "cz-xs").effective[key] == 30000  # the city's
    assert agency_detail(svc, "cz-hp-ds").effective["legal_review.all_general_procedure"] is False
    with svc.uow.read() as session:
        settings = case_settings(session, svc.settings, "cz-hp-ds")
    assert settings.for_process()["thresholds"]["hearing_large_fine_organisation"] == 50000
    assert settings.for_process()["legal_review_all_general"] is False
    set_agency_setting(SetAgencySetting(code="cz-hp", key=key, value=None, by="admin"), svc=svc, clock=CLOCK)
    assert agency_detail(svc, "cz-hp-ds").effective[key] == 30000


def test_case_settings_are_derived_once_per_chain_and_follow_any_change_of_it(districts) -> None:
    svc = districts
    key = "thresholds.hearing_large_fine_organisation"
    with svc.uow.read() as session:
        first = case_settings(session, svc.settings, "cz-hp")
        assert case_settings(session, svc.settings, "cz-hp") is first  # kept: the chain read is the same
    # Written as another process (or a restore) would: no use case of this one was told.
    with svc.uow() as work:
        work.session.execute(update(AgencyRow).where(AgencyRow.code == "cz").values(settings={key: 40000}, name="呈州新名"))
        work.commit()
    with svc.uow.read() as session:
        changed = case_settings(session, svc.settings, "cz-hp")
        city = case_settings(session, svc.settings, "cz")
    assert changed is not first
    assert changed.for_process()["thresholds"]["hearing_large_fine_organisation"] == 40000  # inherited at once
    assert city.agency.name == "呈州新名"
    with svc.uow.read() as session, pytest.raises(NotFound):
        case_settings(session, svc.settings, "no-such")


@pytest.mark.parametrize(("key", "value", "article"), [
    ("thresholds.summary_fine_max_citizen", "500", "agency_settings"),  # 第五十一条: the law's own figure
    ("panel.size", "5", "agency_settings"),
    ("thresholds.hearing_large_fine_citizen", "lots", "第六十三条"),
    ("thresholds.hearing_large_fine_citizen", "-1", "第六十三条"),
    ("legal_review.all_general_procedure", "maybe", "第五十八条"),
    ("document_numbers.no_such_kind", "和卫X", "unknown document kind"),
])
def test_a_setting_the_law_does_not_let_an_agency_set_is_refused_naming_why(districts, key, value, article) -> None:
    before = _events(districts)
    with pytest.raises(ValidationError) as refused:
        set_agency_setting(SetAgencySetting(code="cz-hp", key=key, value=value, by="admin"), svc=districts, clock=CLOCK)
    assert article in refused.value.errors[key]
    assert _events(districts) == before


def test_each_agency_numbers_its_documents_with_its_own_prefixes(districts) -> None:
    hp = agency_detail(districts, "cz-hp").document_numbers
    city = agency_detail(districts, "cz").document_numbers
    assert city == dict(districts.settings.document_numbers)
    assert hp["penalty_prior_notice"] == "和卫罚告" and hp["penalty_decision"] == "和卫罚"
    set_agency_setting(SetAgencySetting(code="cz-hp", key="document_numbers.case_transfer", value="和卫移送",
                                        by="admin"), svc=districts, clock=CLOCK)
    assert agency_detail(districts, "cz-hp").document_numbers["case_transfer"] == "和卫移送"
    with pytest.raises(Conflict):  # the city's
        set_agency_setting(SetAgencySetting(code="cz-xs", key="document_numbers.case_transfer", value="呈卫移",
                                            by="admin"), svc=districts, clock=CLOCK)


def test_a_district_case_carries_its_agency_number_name_and_settings(hp_case, ready_svc) -> None:
    svc = ready_svc
    assert hp_case.number == "和卫投〔2026〕0001号"
    with svc.uow.read() as session:
        case = session.scalar(select(CaseRow).where(CaseRow.number == hp_case.number))
        assert case.agency_code == "cz-hp"
        numbers = set(session.scalars(select(DocumentRow.doc_number).where(DocumentRow.case_id == case.id)))
    numbered = {n for n in numbers if n and "〔" in n}
    assert numbered and all(n.startswith("和卫") for n in numbered), numbered
    assert case_data(svc, hp_case.number)["settings"]["agency_name"] == "呈州市和平区卫生健康局"
    with svc.uow.read() as session:
        pdfs = session.scalars(select(DocumentRow.pdf).where(DocumentRow.case_id == case.id,
                                                            DocumentRow.doc_number.like("和卫罚〔%"))).all()
    assert pdfs  # the 处罚决定书, numbered 和卫罚〔2026〕001号
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdfs[0])).pages)
    assert "呈州市和平区卫生健康局" in text and "呈州市和平区人民政府" in text  # its name and its 复议机关
    assert "呈州市卫生健康委员会" not in text


def test_a_case_starts_with_its_agency_s_inherited_thresholds(districts) -> None:
    svc = districts
    set_agency_setting(SetAgencySetting(code="cz", key="thresholds.hearing_large_fine_citizen", value="5000",
                                        by="admin"), svc=svc, clock=CLOCK)
    case = play(svc, SCENARIOS["penalty_waiver"], start=PLAY_START, stop_before=1,
                cast=cast_of(DEMO_AGENCIES[1])).case
    assert case.number.startswith("西卫投")
    assert case_data(svc, case.number)["settings"]["thresholds"]["hearing_large_fine_citizen"] == 5000


def test_the_home_agency_is_the_settings_agency_with_nothing_overridden(ready_svc) -> None:
    with ready_svc.uow.read() as session:
        settings = case_settings(session, ready_svc.settings, ready_svc.settings.agency.code)
        assert session.scalar(select(func.count()).select_from(AgencyRow)) == 1
    assert settings.for_process() == ready_svc.settings.for_process()
    assert dataclasses.replace(settings.agency) == ready_svc.settings.agency


def test_a_district_case_dossier_is_its_agency_s(hp_case, ready_svc) -> None:
    from engine.usecases.dossier import build_case_dossier

    pdf = build_case_dossier(ready_svc, hp_case.number, clock=fixed_clock(PLAY_START + dt.timedelta(days=120)))
    cover = "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert "呈州市和平区卫生健康局" in cover and "和卫投〔2026〕0001号" in cover
