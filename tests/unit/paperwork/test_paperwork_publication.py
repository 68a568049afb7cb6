"""The /public record of a decision never carries personal data (《政府信息公开条例》第十五条)."""

from __future__ import annotations

import datetime as dt

from engine.paperwork import AgencyInfo, redact_text, redacted_publication

AGENCY = AgencyInfo(name="呈州市卫生健康委员会", short="呈卫", timezone="Asia/Shanghai")


def _case(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "complainant": {"anonymous": False, "name": "张三", "phone": "13800000000", "address": "呈州市和平路1号"},
        "respondent": {"name": "呈州市丽人美容店", "kind": "organisation", "credit_code": "92330100MA2CT8QJ0J",
                       "address": "呈州市和平路8号", "legal_representative": "王五"},
        "case_cause": "未取得公共场所卫生许可证擅自营业", "decision_number": "呈卫罚〔2026〕007号",
        "basis": "《公共场所卫生管理条例实施细则》第三十五条", "final_warning": True, "final_fine": 3000,
        "decision_date": "2026-09-24T13:31:00+08:00", "inquired_person": "赵六",
        "redacted_summary": "经张三举报，赵六（身份证330102198805061234，手机13912345678）证实该店无证营业；"
                            "罚款缴入账户6222 0212 3456 7890 123，张三住呈州市和平路1号。",
    }
    data.update(changes)
    return data


def test_public_record_masks_id_numbers_phones_accounts_addresses_and_third_party_names() -> None:
    public = redacted_publication(_case(), agency=AGENCY, case_number="呈卫投〔2026〕0042号")
    text = " ".join([public.reason, public.result, public.legal_basis])
    for secret in ("330102198805061234", "13912345678", "6222 0212 3456 7890 123", "张三", "赵六", "和平路1号"):
        assert secret not in text
    assert "张某某" in public.reason and "赵某某" in public.reason
    assert public.party_name == "呈州市丽人美容店" and public.party_id == "92330100MA2CT8QJ0J"
    assert public.party_address == "呈州市和平路8号" and public.legal_representative == "王五"
    assert public.decision_number == "呈卫罚〔2026〕007号" and public.decision_date == dt.date(2026, 9, 24)
    assert "罚款人民币3,000.00元" in public.result and "警告" in public.penalty_name


def test_a_natural_person_party_shows_neither_id_number_nor_home_address() -> None:
    person = {"name": "李四", "kind": "citizen", "credit_code": "330102199001011234", "address": "呈州市幸福里3号"}
    public = redacted_publication(_case(respondent=person, redacted_summary="李四在呈州市幸福里3号家中无证行医"),
                                  agency=AGENCY, case_number="呈卫投〔2026〕0043号")
    assert public.party_name == "李四"  # the penalized party is published by name
    assert public.party_id == "" and public.party_address == "" and public.legal_representative == ""
    assert "幸福里3号" not in public.reason


def test_full_width_digits_do_not_slip_past_the_mask() -> None:
    assert "１３９１２３４５６７８" not in redact_text("电话１３９１２３４５６７８")
    assert redact_text("电话１３９１２３４５６７８") == "电话＊＊＊"
    assert redact_text("罚款3000元，2026年9月24日") == "罚款3000元，2026年9月24日"  # amounts and dates stay


def test_who_signed_on_the_screen_or_witnessed_a_refusal_is_masked_like_any_third_person() -> None:
    refused = {"mode": "refused", "refusal_note": "拒签", "witness_name": "钱七", "witness_identity": "居委会"}
    summary = "现场负责人孙八在场，钱七见证当事人拒绝签名。"
    public = redacted_publication(_case(party_signature=refused, person_in_charge="孙八", redacted_summary=summary),
                                  agency=AGENCY, case_number="呈卫投〔2026〕0044号")
    assert "钱七" not in public.reason and "孙八" not in public.reason
    assert "钱某某" in public.reason and "孙某某" in public.reason
