"""Data on a page, told apart from the page's own wording: a case number, a name, what an officer typed.

The English page may show Chinese only inside such marks (tests/web/test_english_complete.py reads them)."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

# Ideographs, CJK punctuation and full-width forms: text in Chinese (tests/web/test_english_complete.py uses the same)
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
                 r"\uff00-\uffef]")


def case_data(value: Any) -> Markup:
    """A value that is data, not wording — a case number, a name, what an officer typed: marked so that it stays as
    written on a page in either language (`translate="no"`), is read as Chinese by a screen reader when it is
    (`lang`), and is told apart from the page's own text (`data-case`: the English page may hold Chinese only
    there)."""
    text = "" if value is None else str(value)
    chinese = ' lang="zh-CN"' if CJK.search(text) else ""
    return Markup(f'<bdi data-case translate="no"{chinese}>{escape(text)}</bdi>')
