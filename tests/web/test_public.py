"""/public: published penalties without login; no ID number or phone number typed anywhere reaches it."""

from __future__ import annotations

import pytest

from engine.spiff.driving import Step
from tests.web.webcases import play_until, revoked_and_withdrawn, scenario
from web.redaction import redact_public, redact_public_text

ID_NUMBER = "110101199003077777"
MOBILE = "13912345678"
COMPLAINT = {
    "complainant": {"anonymous": False, "name": "举报人赵某", "phone": MOBILE, "id_number": ID_NUMBER},
    "content": f"美容店无证营业，我是举报人，身份证{ID_NUMBER}，手机 {MOBILE}，店员电话１３９-１２３４-５６７８。",
}
PUBLISH = Step("prepare_publication", {
    "publish": True, "party_is_minor": False,
    "redacted_summary": f"当事人未取得卫生许可证营业。投诉人（身份证{ID_NUMBER}，电话{MOBILE}）已获告知。",
})
DECISION = Step("make_decision", {"final_fine": 3000, "final_warning": True, "decision_number": "呈卫罚〔2026〕0007号",
                                  "facts_and_evidence": f"经查，举报人{MOBILE}反映属实。"})


@pytest.fixture
def published(model, svc):
    sc = scenario(intake=COMPLAINT, replace_steps={"prepare_publication": PUBLISH, "make_decision": DECISION})
    return play_until(svc, sc, "record_payment")


def _all_public_pages(client, case_id):
    return [client.get(p).get_data(as_text=True)
            for p in ("/public", f"/public/{case_id}", "/public?q=丽人", "/public?violation=public_place_unlicensed",
                      "/public?from=2026-01-01&to=2026-12-31", "/public?lang=en")]


def test_published_decisions_are_listed_without_login(published, client):
    html = client.get("/public").get_data(as_text=True)
    assert "呈卫罚〔2026〕0007号" in html
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


def test_public_search_by_party_violation_and_date(published, client):
    assert "0007号" in client.get("/public?q=丽人").get_data(as_text=True)
    assert "0007号" not in client.get("/public?q=不存在").get_data(as_text=True)
    assert "0007号" not in client.get("/public?violation=other").get_data(as_text=True)
    assert "0007号" not in client.get("/public?from=2027-01-01").get_data(as_text=True)


def test_a_withdrawn_publication_is_marked(model, svc, client):
    played = play_until(svc, revoked_and_withdrawn(), None)
    html = client.get("/public").get_data(as_text=True)
    assert "已撤回" in html
    detail = client.get(f"/public/{played.case.id}").get_data(as_text=True)
    assert "本公示已撤回" in detail
    assert "行政复议决定撤销原处罚决定" in detail


def test_an_unpublished_case_is_404_on_public(model, svc, client):
    played = play_until(svc, scenario(), "legal_review")
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
    text = "罚款3000元，2026-09-15决定，呈卫罚〔2026〕0007号，统一社会信用代码92330100MA2XXXXX0X"
    assert redact_public_text(text) == text
    assert redact_public({"complainant": {"name": "x"}, "a": [MOBILE]}) == {"a": ["＊＊＊"]}
