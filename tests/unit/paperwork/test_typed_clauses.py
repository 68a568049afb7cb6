"""Typed sentences inside a 文书's own sentence: the officer's closing mark gives way to the 文书's (a user saw
"……拟先行登记保存。，在证据可能灭失……" in a 先行登记保存决定书)."""

from __future__ import annotations

import pytest

from engine.paperwork.context import clause, join


@pytest.mark.parametrize(("parts", "sep", "expected"), [
    (["未取得卫生许可证擅自营业。", "拟先行登记保存。"], "；", "未取得卫生许可证擅自营业；拟先行登记保存。"),
    (["同意立案；", "", "请尽快调查"], "。", "同意立案。请尽快调查"),
    (["只有一句。"], "；", "只有一句。"),  # the last part keeps its mark: the sentence may end there
    ([], "；", ""),
])
def test_a_parts_closing_mark_gives_way_to_the_separator(parts, sep, expected) -> None:
    assert join(parts, sep) == expected


def test_a_clause_the_document_goes_on_after_loses_its_closing_mark() -> None:
    assert clause("涉嫌无证经营，拟先行登记保存。") + "，在证据可能灭失" == "涉嫌无证经营，拟先行登记保存，在证据可能灭失"
    assert clause("数量：3 瓶") == "数量：3 瓶"  # marks inside stay
