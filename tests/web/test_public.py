"""/public: published penalties without login; no ID number or phone number typed anywhere reaches it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from engine.db.publication_tables import PublicationRow
from engine.db.tables import CaseRow
from engine.spiff.driving import Step
from tests.dbtemplates import Template, starting_point
from tests.web.conftest import played
from tests.web.webcases import play_until, revoked_and_withdrawn, scenario
from web.redaction import redact_public, redact_public_text

ID_NUMBER = "110101199003077774"
MOBILE = "13912345678"
SCRIPT = "<script>alert(1)</script>"
COMPLAINT = {
    "complainant": {"anonymous": False, "name": "举报人赵某", "phone": MOBILE, "id_number": ID_NUMBER},
    "content": f"美容店无证营业，我是举报人，身份证{ID_NUMBER}，手机 {MOBILE}，店员电话１３９-１２３４-５６７８。",
}
PUBLISH = Step("prepare_publication", {
    "publish": True, "party_is_minor": False,
    "redacted_summary": f"当事人未取得卫生许可证营业。投诉人（身份证{ID_NUMBER}，电话{MOBILE}）已获告知。{SCRIPT}",
})
DECISION = Step("make_decision", {"final_fine": 3000, "final_warning": True,
                                  "facts_and_evidence": f"经查，举报人{MOBILE}反映属实。"})
NUMBER = "〔2026〕001号"  # the engine's: the first 处罚决定书 of the year (settings.json document_numbers)


PUBLISHED = played("a published penalty with numbers typed into it", scenario(
    intake=COMPLAINT, replace_steps={"prepare_publication": PUBLISH, "make_decision": DECISION}), "record_payment")


@pytest.fixture
def db_template(request: pytest.FixtureRequest, db_template: Template) -> Template:
    return starting_point(request, db_template, published=PUBLISHED)


@pytest.fixture
def published(model, template_result):
    return template_result


def _all_public_pages(client, case_id):
    return [client.get(p).get_data(as_text=True)
            for p in ("/public", f"/public/{case_id}", "/public?q=丽人", "/public?violation=public_place_unlicensed",
                      "/public?from=2026-01-01&to=2026-12-31", "/public?lang=en")]


def test_published_decisions_are_listed_without_login(published, client):
    html = client.get("/public").get_data(as_text=True)
    assert f"呈卫罚{NUMBER}" in html
    assert "呈州市丽人美容店" in html
    assert "罚款 3,000.00 元" in html
    detail = client.get(f"/public/{published.case.id}").get_data(as_text=True)
    assert "当事人未取得卫生许可证营业" in detail


def test_no_id_number_or_mobile_number_ever_reaches_public(published, client):
    for html in _all_public_pages(client, published.case.id):
        assert ID_NUMBER not in html
        assert MOBILE not in html
        assert "举报人赵某" not in html
        assert "1234-5678" not in html and "１２３４" not in html
        assert SCRIPT not in html


def test_markup_in_a_publication_is_shown_as_text(published, client):
    html = client.get(f"/public/{published.case.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("probe", [MOBILE, ID_NUMBER[:6], "１３９１２", "139-1234", "11010 1"])
def test_a_search_for_part_of_a_hidden_number_is_refused(published, client, probe):
    """The search runs on the stored values: a match on a masked number would reveal it digit by digit."""
    response = client.get("/public", query_string={"q": probe})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert NUMBER not in html
    assert "搜索词不能包含证件号码或电话号码" in html


def test_a_bad_date_is_refused_with_a_message(published, client):
    response = client.get("/public?from=2026-13-45")
    assert response.status_code == 422
    assert "日期格式错误" in response.get_data(as_text=True)


def test_public_pages_through_many_publications(published, client, svc):
    _more_publications(svc, 24)
    first = client.get("/public").get_data(as_text=True)
    assert "共 25 条" in first
    assert first.count('href="/public/') == 20
    assert "第 1 / 2 页" in first
    second = client.get("/public?page=2").get_data(as_text=True)
    assert second.count('href="/public/') == 5
    assert NUMBER in second  # the oldest release comes last
    assert client.get("/public?page=99").get_data(as_text=True).count('href="/public/') == 5
    narrowed = client.get("/public?q=分店&page=2").get_data(as_text=True)
    assert "共 24 条" in narrowed and 'q=%E5%88%86%E5%BA%97' in narrowed


def _more_publications(svc, n: int) -> None:
    """Rows written straight into the publications table: the paging, not the workflow, is under test."""
    with svc.uow() as work:
        session = work.session
        case = session.scalars(select(CaseRow)).one()
        base = session.scalars(select(PublicationRow)).one()
        for i in range(n):
            row = CaseRow(number=f"T-{i}", definition_id=case.definition_id,
                             agency_code=case.agency_code, status="closed", stage="closed",
                          outcome="penalty_published", respondent=f"连锁{i}分店", violation=case.violation,
                          channel="", state=b"", opened_by="clerk", created_at=case.created_at,
                          updated_at=case.created_at)
            session.add(row)
            session.flush()
            session.add(PublicationRow(
                case_id=row.id, decision_number=f"呈卫罚〔2026〕1{i:03d}号", party=row.respondent,
                party_credit_code="", violation=row.violation, warning=True, fine=None, other_measures="",
                basis="", decision_date=dt.date(2026, 9, 1), summary="", released_at=base.released_at
                + dt.timedelta(hours=i + 1), url="", withdrawn=False, withdrawal_reason=""))
        work.commit()


def test_public_search_by_party_violation_and_date(published, client):
    assert NUMBER in client.get("/public?q=丽人").get_data(as_text=True)
    assert NUMBER not in client.get("/public?q=不存在").get_data(as_text=True)
    assert NUMBER not in client.get("/public?violation=other").get_data(as_text=True)
    assert NUMBER not in client.get("/public?from=2027-01-01").get_data(as_text=True)


def test_a_withdrawn_publication_is_marked(model, svc, client):
    played = play_until(svc, revoked_and_withdrawn(), None)
    html = client.get("/public").get_data(as_text=True)
    assert "已撤回" in html
    detail = client.get(f"/public/{played.case.id}").get_data(as_text=True)
    assert "本公示已撤回" in detail
    assert "行政复议决定撤销原处罚决定" in detail


def test_an_unpublished_case_is_404_on_public(model, svc, client, at_legal_review):
    played = at_legal_review
    assert client.get(f"/public/{played.case.id}").status_code == 404


@pytest.mark.parametrize("text", [
    f"身份证{ID_NUMBER}", "身份证11010119900307777X", "ID 110101 19900307 7777", f"电话{MOBILE}", "139 1234 5678",
    "139-1234-5678", "１３９１２３４５６７８", "+86 13912345678", "座机 0571-87654321", "卡号6222021234567890123",
])
def test_the_public_redaction_masks_every_form_of_the_numbers(text):
    masked = redact_public_text(text)
    digits = "".join(c for c in masked if c.isdigit())
    assert len(digits) < 7, masked


def test_the_public_redaction_keeps_amounts_dates_and_document_numbers():
    text = "罚款3000元，2026-09-15决定，呈卫罚〔2026〕0007号，统一社会信用代码92330100MA2CT8QJ0J"
    assert redact_public_text(text) == text
    assert redact_public({"complainant": {"name": "x"}, "a": [MOBILE]}) == {"a": ["＊＊＊"]}


def _pdf_text(pdf: bytes, tmp_path) -> str:
    import subprocess

    path = tmp_path / "decision.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_the_redacted_decision_downloads_as_a_pdf_without_personal_data(published, client, tmp_path):
    response = client.get(f"/public/{published.case.id}/decision.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    flat = "".join(text.split())
    assert "行政处罚信息公示" in flat and "呈卫罚〔2026〕001号" in flat and "呈州市丽人美容店" in flat  # the engine's 文号
    assert "公示期限" in flat and "当事人未取得卫生许可证营业" in flat
    for secret in (ID_NUMBER, MOBILE, "举报人赵某", "1234-5678", "１３９"):
        assert secret not in flat, secret
    assert "＊＊＊" in flat  # the numbers typed into the summary, masked as on the page
    assert client.get("/public/999999/decision.pdf").status_code == 404


def test_a_decision_shows_its_publication_period_and_the_pdf_under_the_agency_s_own_header(published, client):
    from engine.rules.publication_period import add_months

    html = client.get(f"/public/{published.case.id}").get_data(as_text=True)
    released = re.search(r"公示日期</dt><dd>(\d{4}-\d{2}-\d{2})</dd>", html).group(1)
    end = add_months(dt.date.fromisoformat(released), 12) - dt.timedelta(days=1)
    assert f"{released} 至 {end.isoformat()}（12 个月）" in html
    assert f"/public/{published.case.id}/decision.pdf" in html
    header = html[html.index("<header"):html.index("</header>")]
    assert "呈州市卫生健康委员会" in header and "卫生监督案件办理" not in header and "/login" not in header
    assert "<title>" in html and "卫生监督案件办理" not in html[html.index("<title>"):html.index("</title>")]
    english = client.get(f"/public/{published.case.id}?lang=en").get_data(as_text=True)
    assert f"{released} to {end.isoformat()} (12 months)" in english


@pytest.mark.parametrize(("released", "withdrawn", "end"), [
    ("2026-01-31", None, "2027-01-30"), ("2026-03-10", "2026-05-01", "2026-05-01"), ("2024-02-29", None, "2025-02-27")])
def test_the_publication_period_runs_the_configured_months_or_ends_at_withdrawal(released, withdrawn, end):
    from engine.rules.publication_period import publication_period

    raw = {"publication_period": {"months": 12, "basis": "国家发展和改革委员会令2023年第58号 第十一条"}}
    period = publication_period(raw, released_on=dt.date.fromisoformat(released),
                                withdrawn_on=dt.date.fromisoformat(withdrawn) if withdrawn else None)
    assert (period.start.isoformat(), period.end.isoformat(), period.ended_early) == (released, end, bool(withdrawn))
