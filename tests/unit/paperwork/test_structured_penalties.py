"""The 决定书 states each structured penalty the decision's form records (and the indicators count)."""

from __future__ import annotations

from decimal import Decimal

from engine.paperwork.context import penalties


def test_the_decision_lists_confiscations_suspension_and_revocation_after_the_fine():
    listed = penalties(True, 3000, "", {"confiscated_income": 1500.5, "confiscated_property": 800,
                                        "suspension_months": 3, "licence_revoked": True})
    assert [(p.kind, p.amount, p.detail) for p in listed] == [
        ("警告", None, ""), ("罚款", Decimal("3000.00"), ""), ("没收违法所得", Decimal("1500.50"), ""),
        ("没收非法财物", Decimal("800.00"), "估值"), ("暂停执业／责令停产停业", None, "3个月"), ("吊销许可证", None, "")]


def test_a_decision_recorded_before_the_structured_fields_reads_as_it_did():
    assert [p.kind for p in penalties(False, 200, "责令改正")] == ["罚款", "责令改正"]
    assert [p.kind for p in penalties(False, 200, "", {"confiscated_income": 0, "licence_revoked": False})] == ["罚款"]
