"""The demo users documented in the README: one password and one signing PIN for all."""

from __future__ import annotations

import datetime as dt
from typing import Any

DEMO_PASSWORD = "demo-pass-2026"
DEMO_PIN = "123456"

DEMO_USERS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("clerk", "李受理", ("intake",), "投诉举报中心"),
    ("officer1", "王承办", ("officer",), "公共场所卫生监督科"),
    ("officer2", "赵承办", ("officer",), "公共场所卫生监督科"),
    ("officer3", "孙承办", ("officer",), "医疗卫生监督科"),
    ("panel1", "周合议", ("panel",), "法制稽查科"),
    ("panel2", "吴合议", ("panel",), "法制稽查科"),
    ("panel3", "郑合议", ("panel",), "医疗卫生监督科"),
    ("legal", "冯法制", ("legal",), "法制稽查科"),
    ("head", "陈局长", ("head",), "局领导"),
    ("head2", "韩副局长", ("head",), "局领导"),
    ("publisher", "褚公示", ("publisher",), "办公室"),
    ("auditor", "卫审计", ("auditor",), "审计组"),
    ("admin", "蒋管理", ("admin",), "信息科"),
)

# 执法证号 and their last valid day (行政处罚法 第四十二条): the officers, the panel members, the legal reviewer and
# the heads hold one, as in an agency where they are all 卫生监督员; the clerk, the publisher, the auditor and
# the administrator do not. Valid for years to come, so the demo and the tests keep working.
DEMO_CERTIFICATES: dict[str, tuple[str, dt.date]] = {
    "officer1": ("呈卫执 2023-0101", dt.date(2031, 6, 30)),
    "officer2": ("呈卫执 2023-0102", dt.date(2031, 6, 30)),
    "officer3": ("呈卫执 2024-0217", dt.date(2032, 3, 31)),
    "panel1": ("呈卫执 2021-0033", dt.date(2031, 12, 31)),
    "panel2": ("呈卫执 2022-0058", dt.date(2031, 12, 31)),
    "panel3": ("呈卫执 2022-0064", dt.date(2031, 12, 31)),
    "legal": ("呈卫执 2020-0007", dt.date(2031, 12, 31)),
    "head": ("呈卫执 2019-0001", dt.date(2031, 12, 31)),
    "head2": ("呈卫执 2019-0002", dt.date(2031, 12, 31)),
}


def demo_certificate(user_id: str) -> dict[str, Any]:
    """The AddUser keywords of a demo user's 执法证 (none for those who hold none)."""
    held = DEMO_CERTIFICATES.get(user_id)
    return {} if held is None else {"cert_no": held[0], "cert_valid_until": held[1]}
